"""The browser's database access cannot write, and cannot run long.

``sync_apis_reader`` (include/sql/sync_meta/002_reader_role.sql) holds SELECT only; the
browser's ``db.read_only()`` reads as that role, in a READ ONLY transaction with a timeout,
whether it logs in through ``sync_apis_reader_db`` or falls back to ``sync_apis_db``.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

pytestmark = pytest.mark.timeout(300)

WRITES = [
    "INSERT INTO sync_meta.watermarks (source, stream, value) VALUES ('x', 'y', now())",
    "UPDATE auvo.users SET name = 'changed'",
    "DELETE FROM e_track.positions",
    "TRUNCATE sync_meta.sync_runs",
    "CREATE TABLE sync_meta.intruder (id int)",
    "ALTER TABLE auvo.tasks ADD COLUMN intruder int",
    "DROP TABLE e_track.routes",
]


def test_the_reader_role_cannot_write(loaded_warehouse: Any) -> None:
    before = loaded_warehouse.fingerprint()
    with psycopg.connect(loaded_warehouse.url.url, autocommit=True) as conn:
        # Without READ ONLY: the role alone must refuse every write.
        for statement in WRITES:
            with conn.transaction():
                conn.execute("SET LOCAL ROLE sync_apis_reader")
                with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                    conn.execute(statement)
        # ... while it can read every table of the three schemas.
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('auvo', 'e_track', 'sync_meta') AND table_type = 'BASE TABLE'"
        ).fetchall()
        assert len(tables) > 20
        with conn.transaction():
            conn.execute("SET LOCAL ROLE sync_apis_reader")
            for schema, table in tables:
                conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(schema, table)))
    assert loaded_warehouse.fingerprint() == before


def test_applying_the_schema_files_again_keeps_the_role_as_it_is(loaded_warehouse: Any) -> None:
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import run_schema_files

    assert "sync_meta/002_reader_role.sql" in sql_files("sync_meta")  # (003 adds columns, no grants)
    with psycopg.connect(loaded_warehouse.url.url, autocommit=True) as conn:
        run_schema_files(conn, sql_files("sync_meta"))
        grants = conn.execute(
            "SELECT DISTINCT privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = 'sync_apis_reader' AND table_schema IN ('auvo', 'e_track', 'sync_meta')"
        ).fetchall()
    assert grants == [("SELECT",)]


@pytest.fixture
def browser_db(loaded_warehouse: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from sync_apis.browser import db

    monkeypatch.setenv("AIRFLOW_CONN_SYNC_APIS_DB", loaded_warehouse.url.airflow_conn_json())
    monkeypatch.delenv("AIRFLOW_CONN_SYNC_APIS_READER_DB", raising=False)
    return db


def test_the_browser_session_reads_as_the_reader_in_a_read_only_transaction(browser_db: Any) -> None:
    with browser_db.read_only() as conn:
        assert conn.execute("SELECT current_user, current_setting('transaction_read_only')").fetchone() == (
            "sync_apis_reader",
            "on",
        )
        # Too late to make this transaction writable once it has begun ...
        with pytest.raises(psycopg.errors.ActiveSqlTransaction):
            conn.execute("SET TRANSACTION READ WRITE")
    # ... and every write is refused by the transaction before the role is even asked.
    for statement in WRITES:
        with browser_db.read_only() as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(statement)


def test_a_slow_query_is_stopped(browser_db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__BROWSER_STATEMENT_TIMEOUT_MS", "300")
    with browser_db.read_only() as conn, pytest.raises(psycopg.errors.QueryCanceled):
        conn.execute("SELECT pg_sleep(5)")


@contextlib.contextmanager
def _login_role(wh: Any) -> Iterator[tuple[str, str]]:
    name = f"sync_apis_browser_login_{secrets.token_hex(4)}"
    password = secrets.token_hex(12)
    with psycopg.connect(wh.url.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE sync_apis_reader").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
    try:
        yield name, password
    finally:
        with psycopg.connect(wh.url.url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def test_the_reader_connection_is_used_when_the_operator_provides_it(
    browser_db: Any, loaded_warehouse: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    with _login_role(loaded_warehouse) as (login, password):
        conn_json = json.loads(loaded_warehouse.url.airflow_conn_json())
        conn_json.update(login=login, password=password)
        monkeypatch.setenv("AIRFLOW_CONN_SYNC_APIS_READER_DB", json.dumps(conn_json))
        # The warehouse connection is still there: the reader one must win over it.
        with browser_db.read_only() as conn:
            assert conn.execute("SELECT session_user, current_user").fetchone() == (login, "sync_apis_reader")
            assert conn.execute("SELECT count(*) FROM auvo.users").fetchone()[0] > 0


def test_the_warehouse_connection_renamed_by_the_variable_is_the_one_used(
    browser_db: Any, loaded_warehouse: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installation whose warehouse connection has another id names it in the Variable the
    tasks read (README, Configuration); the browser falls back to that one too."""
    monkeypatch.delenv("AIRFLOW_CONN_SYNC_APIS_DB")
    monkeypatch.setenv("AIRFLOW_CONN_COMPANY_DWH", loaded_warehouse.url.airflow_conn_json())
    with pytest.raises(LookupError, match="'sync_apis_db'"):
        browser_db.connect_kwargs()
    monkeypatch.setenv("AIRFLOW_VAR_SYNC_APIS_SYNC_APIS_DB_CONN_ID", "company_dwh")
    with browser_db.read_only() as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("sync_apis_reader",)
        assert conn.execute("SELECT count(*) FROM auvo.users").fetchone()[0] > 0
