"""auvo_daily's generated checks, run on a fresh warehouse (real PostgreSQL, real DDL).

The checks are built from the stream table, so a stream added to ``streams.py`` is checked
without touching SQL; these tests pin that every stream is covered and that each check still
says false when the warehouse disagrees.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from sync_apis.auvo.checks import day_totals_sql, keys_sql
from sync_apis.auvo.streams import STREAMS, Mode
from sync_apis.localday import day_bounds

DAY = date(2025, 3, 10)
START, END = day_bounds(DAY)
PARAMS = {"run_id": "r1", "day_start": START.isoformat(), "day_end": END.isoformat()}


@pytest.fixture
def wh(warehouse_with_meta: Any) -> Any:
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import run_schema_files

    run_schema_files(warehouse_with_meta, sql_files("auvo"))
    return warehouse_with_meta


def one_row(conn: Any, query: str) -> dict[str, Any]:
    with conn.cursor() as cur:
        cur.execute(query, PARAMS)
        names = [d.name for d in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))


def record_total(conn: Any, stream: str, api_total: int, rejected: int = 0) -> None:
    conn.execute(
        "INSERT INTO sync_meta.sync_runs (run_id, dag_id, task_id, source, stream, day, status, started_at,"
        " finished_at, api_total, rows_rejected) VALUES ('r1', 'auvo_daily', 'sync_stream', 'auvo', %s, %s,"
        " 'success', now(), now(), %s, %s)",
        (stream, DAY, api_total, rejected),
    )


def test_the_keys_check_has_one_true_column_per_stream(wh: Any) -> None:
    row = one_row(wh, keys_sql())
    assert row == {f"{s.table}_keys_ok": True for s in STREAMS}


def test_the_keys_check_catches_a_duplicate_key_in_a_table_without_constraint(wh: Any) -> None:
    wh.execute("ALTER TABLE auvo.teams DROP CONSTRAINT auvo_teams_key")
    wh.execute("INSERT INTO auvo.teams (team_id, raw) VALUES (7, '{}'), (7, '{}')")
    row = one_row(wh, keys_sql())
    assert row["teams_keys_ok"] is False
    assert all(ok for name, ok in row.items() if name != "teams_keys_ok")


def test_day_totals_counts_every_stream_that_records_an_api_total(wh: Any) -> None:
    counted = {s.name for s in STREAMS if s.mode is not Mode.UPDATED_SINCE}
    for stream in STREAMS:
        record_total(wh, stream.name, 0)
    report, match = one_row(wh, day_totals_sql()).values()
    assert match is True
    assert {part.split(":")[0] for part in report.split("; ")} == counted


def test_day_totals_compares_the_days_live_rows_with_the_api(wh: Any) -> None:
    wh.execute(
        "INSERT INTO auvo.expenses (expense_id, date, raw, deleted_at) VALUES (1, %(day)s, '{}', NULL),"
        " (2, %(day)s, '{}', NULL), (3, %(day)s, '{}', now()), (4, %(before)s, '{}', NULL)",
        {"day": START.add(hours=9), "before": START.subtract(minutes=1)},
    )
    wh.execute("INSERT INTO auvo.users (user_id, raw) VALUES (1, '{}'), (2, '{}')")
    record_total(wh, "expenses", 2)
    record_total(wh, "users", 3, rejected=1)  # one user the parser rejected: still a match
    report, match = one_row(wh, day_totals_sql()).values()
    assert (report, match) == ("expenses: warehouse 2 / API 2; users: warehouse 2 / API 3", True)

    wh.execute("UPDATE sync_meta.sync_runs SET api_total = 3 WHERE stream = 'expenses'")
    report, match = one_row(wh, day_totals_sql()).values()
    assert (report, match) == ("expenses: warehouse 2 / API 3; users: warehouse 2 / API 3", False)
