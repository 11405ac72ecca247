"""The one way task code opens a warehouse connection (Auvo and e-Track alike)."""

from __future__ import annotations

from typing import Any


def warehouse_connection() -> Any:
    """A psycopg 3 connection to the warehouse, through Airflow's ``sync_apis_db`` connection
    (its id overridable by Variable, ``sync_apis.config``). Call it at task time only.

    In autocommit: a task's statements between its loads (a plan's read, the retention check)
    must not leave a transaction open, which the next ``open_load`` would refuse, and each
    load or schema file opens its own transaction explicitly."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from sync_apis.config import conn_id

    conn: Any = PostgresHook(postgres_conn_id=conn_id("sync_apis_db")).get_conn()
    conn.autocommit = True
    return conn
