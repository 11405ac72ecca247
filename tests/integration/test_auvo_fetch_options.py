"""The Auvo fetch options (``sync_apis.auvo.fetch_options``) at the library seam, against the sandbox.

- ``[sync_apis] auvo_updated_until_bound``: the same warehouse whether the option is off, on with
  an API that honours ``endDateLastUpdate`` (sandbox switch ``date_last_update_until``) or on
  with an API that ignores it; only what an old day receives shrinks.
- Snapshots in a backfill: listed once, reused by the next days (recorded ``skipped`` with
  the fetch they reused), the checks still pass; scheduled and manual runs list them every time;
  an empty listing is not reused; a deletion is seen by the next run that lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from sync_apis.auvo.parse import local_time
from tests.support.auvo_world import FAST
from tests.support.pg import create_database, drop_database
from tests.support.seams import run_auvo_day

# Old, middle and recent days of the sandbox world (history from 2025-02-27, now 2025-03-13).
DAYS = [date(2025, 3, 1), date(2025, 3, 6), date(2025, 3, 12)]
BOUND_OPTION = "AIRFLOW__SYNC_APIS__AUVO_UPDATED_UNTIL_BOUND"
REUSE_OPTION = "AIRFLOW__SYNC_APIS__AUVO_BACKFILL_SNAPSHOT_REUSE_MINUTES"


def q(url: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(statement, params).fetchall()


# --------------------------------------------------------------------------- the upper bound


@pytest.fixture
def warehouses(pg_server: Any) -> Iterator[Any]:
    """``new()`` creates an empty warehouse database; all are dropped after the test."""
    made: list[Any] = []

    def new() -> str:
        db = create_database(pg_server, "sync_apis_test_until")
        made.append(db)
        return str(db.url)

    yield new
    for db in made:
        drop_database(pg_server, db)


def load_tasks(sandbox: Any, url: str, monkeypatch: pytest.MonkeyPatch, *, bound: bool, honour: bool) -> None:
    sandbox.config.update({"date_last_update_until": "honour" if honour else "ignore"})
    monkeypatch.setenv(BOUND_OPTION, str(bound))
    for day in DAYS:
        run_auvo_day(sandbox.base_url, url, day, {**FAST, "streams": ["tasks"]})


def tasks_table(url: str) -> tuple[int, str]:
    """Every column of auvo.tasks but synced_at, in key order: (rows, md5)."""
    row = q(
        url,
        "SELECT count(*), md5(coalesce(string_agg((to_jsonb(t) - 'synced_at')::text, '|' "
        "ORDER BY t.task_id), '')) FROM auvo.tasks t",
    )[0]
    return int(row[0]), str(row[1])


def received(url: str) -> dict[date, int]:
    rows = q(
        url,
        "SELECT day, rows_received FROM sync_meta.sync_runs WHERE stream = 'tasks' AND status = 'success'",
    )
    return {day: int(n) for day, n in rows}


def test_the_upper_bound_changes_what_an_old_day_receives_never_what_is_loaded(
    auvo_sandbox: Any, warehouses: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    without, honoured, ignored = warehouses(), warehouses(), warehouses()
    load_tasks(auvo_sandbox, without, monkeypatch, bound=False, honour=True)
    load_tasks(auvo_sandbox, honoured, monkeypatch, bound=True, honour=True)
    load_tasks(auvo_sandbox, ignored, monkeypatch, bound=True, honour=False)

    expected = tasks_table(without)
    assert expected[0] > 0
    assert tasks_table(honoured) == expected
    assert tasks_table(ignored) == expected
    for day in DAYS:  # and equal to the sandbox's ground truth
        start = local_time(day.isoformat() + "T00:00:00")
        in_day = "deleted_at IS NULL AND task_date >= %s AND task_date < %s"
        live = {
            r[0]
            for r in q(
                honoured, f"SELECT task_id FROM auvo.tasks WHERE {in_day}", start, start + timedelta(days=1)
            )
        }
        assert live == {t["taskID"] for t in auvo_sandbox.world.tasks_for_day(day)}, day

    # Only the option with an API that honours it stops an old day receiving every later change.
    before, after, unheeded = received(without), received(honoured), received(ignored)
    assert after[DAYS[0]] < before[DAYS[0]] / 2, (before, after)
    assert unheeded == before
    assert after[DAYS[-1]] <= before[DAYS[-1]]


# --------------------------------------------------------------------------- snapshots in a backfill

SNAPSHOTS = {**FAST, "streams": ["users", "task_types", "tasks"]}
BACKFILL_DAYS = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]


@pytest.fixture
def day_runner(auvo_sandbox: Any, warehouse_url: Any) -> Any:
    def run(day: date, run_type: str, **conf: Any) -> str:
        return run_auvo_day(
            auvo_sandbox.base_url, warehouse_url.url, day, {**SNAPSHOTS, **conf}, run_type=run_type
        ).run_id

    return run


def listings(sandbox: Any, path: str) -> int:
    """Requests the sandbox answered for ``/v2/<path>`` (one page per listing in this world)."""
    return sum(1 for e in sandbox.requests_to(f"/v2/{path}") if e.status in (200, 404))


def rows_of(url: str, stream: str) -> list[tuple[Any, ...]]:
    return q(
        url,
        "SELECT day, status, requests, error FROM sync_meta.sync_runs WHERE stream = %s ORDER BY day",
        stream,
    )


def test_a_backfill_lists_each_snapshot_once_and_records_the_reuse(
    auvo_sandbox: Any, warehouse_url: Any, day_runner: Any
) -> None:
    first = day_runner(BACKFILL_DAYS[0], "backfill")
    for day in BACKFILL_DAYS[1:]:
        day_runner(day, "backfill")  # raises if a check (keys, orphans, day totals) fails

    assert listings(auvo_sandbox, "users") == 1 and listings(auvo_sandbox, "taskTypes") == 1
    assert listings(auvo_sandbox, "tasks") > len(BACKFILL_DAYS)  # the day-scoped stream: every day
    for stream in ("users", "task_types"):
        rows = rows_of(warehouse_url.url, stream)
        assert [r[:2] for r in rows[:1]] == [(BACKFILL_DAYS[0], "success")] and rows[0][2] >= 1
        for day, status, requests, error in rows[1:]:
            assert (status, requests) == ("skipped", 0), (day, error)
            assert error.startswith("reused snapshot fetched at ") and f"by run {first} " in error, error
    live = q(warehouse_url.url, "SELECT count(*) FROM auvo.users WHERE deleted_at IS NULL")[0][0]
    assert live == len(auvo_sandbox.world.snapshot("users"))
    # The data browser's strip does not paint a reused snapshot's day red.
    from sync_apis.browser.health import stream_health

    with psycopg.connect(warehouse_url.url) as conn:
        health = stream_health(conn, today_minus_one=BACKFILL_DAYS[-1])
    for s in health:
        cells = {c.day: c.status for c in s.strip if c.day in BACKFILL_DAYS}
        assert cells == dict.fromkeys(BACKFILL_DAYS, "success"), (s.stream, cells)


@pytest.mark.parametrize(
    ("run_type", "reuse_minutes"), [("scheduled", None), ("manual", None), ("backfill", "0")]
)
def test_other_runs_and_a_zero_window_list_every_time(
    auvo_sandbox: Any,
    day_runner: Any,
    monkeypatch: pytest.MonkeyPatch,
    run_type: str,
    reuse_minutes: str | None,
) -> None:
    if reuse_minutes is not None:
        monkeypatch.setenv(REUSE_OPTION, reuse_minutes)
    for day in BACKFILL_DAYS[:2]:
        day_runner(day, run_type, streams=["users"])
    assert listings(auvo_sandbox, "users") == 2


def test_an_empty_listing_is_not_reused(auvo_sandbox: Any, warehouse_url: Any, day_runner: Any) -> None:
    auvo_sandbox.config.update({"customer_groups": 0})  # a 404 on page 1: empty, unconfirmed
    for day in BACKFILL_DAYS[:2]:
        day_runner(day, "backfill", streams=["customer_groups"])
    assert listings(auvo_sandbox, "customerGroups") == 2
    assert [r[1] for r in rows_of(warehouse_url.url, "customer_groups")] == ["success", "success"]


def test_a_deletion_is_seen_by_the_next_run_that_lists(
    auvo_sandbox: Any, warehouse_url: Any, day_runner: Any
) -> None:
    day_runner(BACKFILL_DAYS[0], "backfill", streams=["users"])
    gone = auvo_sandbox.world.snapshot("users")[0]["userID"]
    auvo_sandbox.world.remove_entity("users", gone)

    def deleted_at() -> Any:
        return q(warehouse_url.url, "SELECT deleted_at FROM auvo.users WHERE user_id = %s", gone)[0][0]

    day_runner(BACKFILL_DAYS[1], "backfill", streams=["users"])  # reuses the listing from before
    assert deleted_at() is None
    day_runner(BACKFILL_DAYS[2], "scheduled", streams=["users"])  # lists: the complete listing decides
    assert deleted_at() is not None
    live = q(warehouse_url.url, "SELECT count(*) FROM auvo.users WHERE deleted_at IS NULL")[0][0]
    assert live == len(auvo_sandbox.world.snapshot("users"))
