"""What the Auvo tests share about the sandbox world and the run's Params."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from sandbox.auvo.snapshots import SNAPSHOT_KINDS

# The sandbox world's whole history lies within +- 30 days of any test day: the narrower
# taskDate range changes no result, only the request count (5 windows per query, not 58).
FAST = {
    "backoff_base_s": 0.05,
    "max_attempts": 3,
    "api_budget_per_minute": 4000,
    "task_days_back": 30,
    "task_days_ahead": 30,
}
# A backfill's streams when a test wants many days more than every table: two snapshot streams
# keep the snapshot question in play (which of two overlapping runs writes), plus the watermark
# stream (customers) and the day streams (expenses, tasks); the other eleven snapshot streams
# take the same code path as users and task_types and would only add task instances.
BACKFILL_STREAMS = ["users", "task_types", "customers", "expenses", "tasks"]


def sandbox_kind(stream: Any) -> str:
    """The sandbox's kind of a stream: the path segment the client asks for (``taskTypes/`` ->
    ``taskTypes``), so a new entity needs no entry here."""
    return str(stream.path).rstrip("/")


def live_tasks_on(conn: psycopg.Connection, day: date) -> dict[int, Any]:
    """The warehouse's live (not deleted) tasks whose taskDate is on the local ``day``: id -> raw."""
    from sync_apis.localday import day_bounds

    rows = conn.execute(
        "SELECT task_id, raw FROM auvo.tasks WHERE deleted_at IS NULL AND task_date >= %s AND task_date < %s",
        day_bounds(day),
    ).fetchall()
    return dict(rows)


def assert_live_tasks_match(conn: psycopg.Connection, world: Any, days: list[date]) -> None:
    """Per day: the live tasks in the warehouse are exactly the sandbox's, record for record.

    Keyed by task id, so a task missing, one too many (on the wrong day, or deleted in the
    sandbox) and a stale version all show."""
    for day in days:
        assert live_tasks_on(conn, day) == {t["taskID"]: t for t in world.tasks_for_day(day)}, day


def sandbox_key_field(kind: str) -> str:
    """The field of a snapshot kind's records that holds its id, as the sandbox declares it."""
    return SNAPSHOT_KINDS[kind].key


def assert_snapshots_match(conn: psycopg.Connection, world: Any) -> None:
    """Each snapshot table's live rows are the sandbox's current listing, record for record."""
    from sync_apis.auvo.streams import STREAMS, Mode

    for s in STREAMS:
        if s.mode is not Mode.SNAPSHOT:
            continue
        kind = sandbox_kind(s)
        key_field = sandbox_key_field(kind)
        live = dict(
            conn.execute(f"SELECT {s.key.name}, raw FROM auvo.{s.name} WHERE deleted_at IS NULL").fetchall()
        )
        truth = {r[key_field] if s.key.kind != "text" else str(r[key_field]): r for r in world.snapshot(kind)}
        assert live == truth, s.name
