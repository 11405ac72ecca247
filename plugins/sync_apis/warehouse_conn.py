"""The one way task code opens a warehouse connection (Auvo and e-Track alike)."""

from __future__ import annotations

from typing import Any


def warehouse_connection() -> Any:
    """A psycopg 3 connection to the warehouse, through Airflow's ``sync_apis_db`` connection
    (its id overridable by Variable, ``sync_apis.config``). Call it at task time only."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from sync_apis.config import conn_id

    return PostgresHook(postgres_conn_id=conn_id("sync_apis_db")).get_conn()
