"""The browser's own database access: read-only, time-limited, never the loader's session.

Which connection: the Airflow connection ``[sync_apis] browser_conn_id`` (default
``sync_apis_reader_db``, meant for a login that only holds ``sync_apis_reader``) when it exists,
otherwise the tasks' warehouse connection (``sync_apis_db``, or the id the Variable
``sync_apis_sync_apis_db_conn_id`` names: ``sync_apis.config``). In both cases every transaction is
``READ ONLY`` with a ``statement_timeout``, and switches to the ``sync_apis_reader`` role (SELECT
only, created by include/sql/sync_meta/002_reader_role.sql) when the login may — so even the
warehouse's owner login reads with no write privilege at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from sync_apis.config import server_conn_id
from sync_apis.localday import LOCAL_TZ_NAME
from sync_apis.sql_files import query, statement

READER_ROLE = "sync_apis_reader"
DEFAULT_READER_CONN_ID = "sync_apis_reader_db"
DEFAULT_STATEMENT_TIMEOUT_MS = 5000


def _setting(key: str, default: str) -> str:
    from airflow.configuration import conf

    return str(conf.get("sync_apis", key, fallback=default))


def statement_timeout_ms() -> int:
    return int(_setting("browser_statement_timeout_ms", str(DEFAULT_STATEMENT_TIMEOUT_MS)))


def connect_kwargs() -> dict[str, Any]:
    """libpq parameters of the reader connection (see the module docstring for which one)."""
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    candidates = (_setting("browser_conn_id", DEFAULT_READER_CONN_ID), server_conn_id("sync_apis_db"))
    for conn_id in candidates:
        try:
            c = Connection.get_connection_from_secrets(conn_id)
        except AirflowNotFoundException:
            continue
        kwargs: dict[str, Any] = {"host": c.host, "dbname": c.schema or "postgres", "user": c.login}
        if c.port:
            kwargs["port"] = c.port
        if c.password:
            kwargs["password"] = c.password
        for key in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
            if key in c.extra_dejson:
                kwargs[key] = c.extra_dejson[key]
        return {k: v for k, v in kwargs.items() if v is not None}
    raise LookupError(f"no Airflow connection {candidates[0]!r} or {candidates[1]!r} for the data browser")


@contextmanager
def read_only() -> Iterator[psycopg.Connection[Any]]:
    """A connection inside one READ ONLY transaction with a statement timeout, as the reader role."""
    timeout = statement_timeout_ms()
    with psycopg.connect(
        **connect_kwargs(),
        application_name="sync_apis_browser",
        # Also the session default, so nothing sent later can start a writable transaction.
        options=f"-c default_transaction_read_only=on -c statement_timeout={timeout}",
        connect_timeout=5,
    ) as conn:
        conn.execute(query("browser/session_read_only"))
        conn.execute(query("browser/session_statement_timeout"), {"timeout": f"{timeout}ms"})
        # Times are shown as the users read them: São Paulo local time.
        conn.execute(query("transaction_time_zone"), {"time_zone": LOCAL_TZ_NAME})
        may_be_reader = conn.execute(query("browser/session_may_use_role"), {"role": READER_ROLE}).fetchone()
        if may_be_reader and may_be_reader[0]:
            conn.execute(statement("browser/session_reader_role", role=sql.Identifier(READER_ROLE)))
        yield conn
        conn.rollback()  # nothing to commit; ends the transaction explicitly
