"""`airflow backfill create … --max-active-runs N` through a real scheduler, api-server and
dag-processor: local days loaded concurrently, no duplicates, equal to the sandbox, and equal to
the same days loaded one after another."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from sync_apis.auvo.parse import local_time
from tests.support.airflow_stack import AirflowStack
from tests.support.auvo_world import BACKFILL_STREAMS, assert_live_tasks_match
from tests.support.connections import sandbox_conn_json
from tests.support.pg import create_database, drop_database

DAYS = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]
# The sandbox world's whole history lies within +- 30 days of these days: set through
# [sync_apis] (the Params' defaults), the narrower taskDate range changes no result, only the
# request count.
NARROW_RANGE_ENV = {
    "AIRFLOW__SYNC_APIS__AUVO_TASK_DAYS_BACK": "30",
    "AIRFLOW__SYNC_APIS__AUVO_TASK_DAYS_AHEAD": "30",
}


@contextmanager
def backfill_stack(
    pg_server: Any,
    sandbox: Any,
    warehouse_url: Any,
    days: list[date],
    *,
    max_active_runs: int,
    conf: dict[str, Any] | None = None,
) -> Iterator[AirflowStack]:
    """A real Airflow pointed at the sandbox and the warehouse, with the backfill of ``days`` created."""
    env = {
        "AIRFLOW_CONN_SYNC_APIS_DB": warehouse_url.airflow_conn_json(),
        "AIRFLOW_CONN_AUVO_API": sandbox_conn_json(
            sandbox.base_url, "/v2", "sandbox-api-key", "sandbox-api-token"
        ),
        # Only the backfill's runs: unpausing would otherwise also start the latest scheduled run
        # (catchup=False), a whole day of every stream that no assertion here is about.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        **NARROW_RANGE_ENV,
    }
    with AirflowStack(pg_server, extra_env=env, parallelism=8) as stack:
        stack.unpause("auvo_daily")
        args = ["--from-date", days[0].isoformat(), "--to-date", days[-1].isoformat()]
        args += ["--max-active-runs", str(max_active_runs)]
        if conf is not None:
            args += ["--dag-run-conf", json.dumps(conf)]
        stack.cli("backfill", "create", "--dag-id", "auvo_daily", *args)
        yield stack


@pytest.mark.slow
def test_backfill_three_days_with_three_active_runs(pg_server, auvo_sandbox, warehouse_url):
    with backfill_stack(pg_server, auvo_sandbox, warehouse_url, DAYS, max_active_runs=3) as stack:
        runs = stack.wait_for_runs("auvo_daily", expected=3, timeout=420)
        assert [r.run_type for r in runs] == ["backfill"] * 3
        assert [r.state for r in runs] == ["success"] * 3, stack.logs()
        starts = [local_time(r.data_interval_start.isoformat()).date() for r in runs]  # type: ignore[union-attr]
        assert starts == DAYS
        concurrent = stack.max_concurrent_runs("auvo_daily")

    with psycopg.connect(warehouse_url.url) as conn:
        assert_live_tasks_match(conn, auvo_sandbox.world, DAYS)
        runs_per_day = conn.execute(
            "SELECT day, count(*) FROM sync_meta.sync_runs WHERE stream = 'tasks' AND status = 'success' "
            "AND day = ANY(%s) GROUP BY day ORDER BY day",
            (DAYS,),
        ).fetchall()
        assert runs_per_day == [(d, 1) for d in DAYS]
        customers = conn.execute(
            "SELECT count(*), count(DISTINCT customer_id) FROM auvo.customers"
        ).fetchone()
        assert customers[0] == customers[1] == len(auvo_sandbox.world.customers())
    assert concurrent >= 2  # the runs really overlapped


TEN_DAYS = [date(2025, 3, 3) + timedelta(days=i) for i in range(10)]
# Two snapshot streams (tests.support.auvo_world.BACKFILL_STREAMS) keep the snapshot question in
# play: which of two overlapping runs writes, which runs reuse a listing.
SNAPSHOT_PATHS = {"users": "/v2/users", "task_types": "/v2/taskTypes"}
MAX_ACTIVE_RUNS = 4
BACKFILL_CONF = {"streams": BACKFILL_STREAMS, "api_budget_per_minute": 4000, "backoff_base_s": 0.05}


def content_hashes(url: str) -> dict[str, Any]:
    """Every table the backfill writes, every column but synced_at, in key order; the watermarks."""
    from sync_apis.auvo.streams import BY_NAME

    out: dict[str, Any] = {}
    with psycopg.connect(url) as conn:
        for name in BACKFILL_STREAMS:
            key = BY_NAME[name].key.name
            out[name] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg((to_jsonb(t) - 'synced_at')::text, '|' "
                f"ORDER BY t.{key}), '')) FROM auvo.{name} t"
            ).fetchone()
        out["watermarks"] = conn.execute(
            "SELECT source, stream, value FROM sync_meta.watermarks ORDER BY 1, 2"
        ).fetchall()
    return out


def load_days_one_after_another(url: str, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference: the same days and streams, one at a time, through the tasks' own code."""
    from sync_apis.auvo import sync
    from sync_apis.auvo.streams import select
    from sync_apis.auvo.task_range import TaskRange
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import RunInfo, run_schema_files

    monkeypatch.setenv(
        "AIRFLOW_CONN_AUVO_API",
        sandbox_conn_json(sandbox.base_url, "/v2", "sandbox-api-key", "sandbox-api-token"),
    )
    hook = sync.make_hook("auvo_api", budget_per_minute=4000, backoff_base_s=0.05, max_attempts=3)
    with psycopg.connect(url, autocommit=True) as conn:
        run_schema_files(conn, sql_files("sync_meta") + sql_files("auvo"))
        for day in TEN_DAYS:
            for stream in select(BACKFILL_STREAMS):
                run = RunInfo("auvo", stream, day, f"sequential-{day}", "auvo_daily", "sync_stream")
                sync.sync_stream(conn, hook, stream, sync.window_for(day, 10, TaskRange(30, 30)), run)


@pytest.mark.slow
def test_a_concurrent_ten_day_backfill_equals_one_day_after_another(
    pg_server, auvo_sandbox, warehouse_url, monkeypatch
):
    reference = create_database(pg_server, "sync_apis_test_sequential")
    try:
        load_days_one_after_another(reference.url, auvo_sandbox, monkeypatch)
        expected = content_hashes(reference.url)
    finally:
        drop_database(pg_server, reference)
    assert expected["tasks"][0] > 0 and expected["users"][0] > 0

    listed_before = {name: len(auvo_sandbox.requests_to(path)) for name, path in SNAPSHOT_PATHS.items()}
    with backfill_stack(
        pg_server, auvo_sandbox, warehouse_url, TEN_DAYS, max_active_runs=MAX_ACTIVE_RUNS, conf=BACKFILL_CONF
    ) as stack:
        runs = stack.wait_for_runs("auvo_daily", expected=10, timeout=900)
        assert [r.run_type for r in runs] == ["backfill"] * 10
        assert [r.state for r in runs] == ["success"] * 10, stack.logs()
        concurrent = stack.max_concurrent_runs("auvo_daily")

    assert content_hashes(warehouse_url.url) == expected
    assert concurrent >= 2  # the runs really overlapped
    with psycopg.connect(warehouse_url.url) as conn:
        statuses = dict(
            conn.execute(
                "SELECT status, count(*) FROM sync_meta.sync_runs WHERE day = ANY(%s) GROUP BY status",
                (TEN_DAYS,),
            ).fetchall()
        )
    # Every (day, stream) has its row; snapshots that overlapped a newer write, or reused a fresh
    # listing, say 'skipped'.
    assert sum(statuses.values()) == 10 * len(BACKFILL_STREAMS) and "failed" not in statuses, statuses
    assert_snapshots_listed_once_per_backfill(auvo_sandbox, warehouse_url.url, listed_before)


def assert_snapshots_listed_once_per_backfill(sandbox: Any, url: str, listed_before: dict[str, int]) -> None:
    """Each snapshot was listed by at most the runs that started together, not once per day;
    every other day's run says which listing it reused."""
    for name, path in SNAPSHOT_PATHS.items():
        # One page per listing in this world; a 403 (the sandbox's own budget) is not a listing.
        answered = [e for e in sandbox.requests_to(path)[listed_before[name] :] if e.status in (200, 404)]
        assert 1 <= len(answered) <= MAX_ACTIVE_RUNS, (name, len(answered))
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT stream, status, requests, coalesce(error, '') FROM sync_meta.sync_runs "
            "WHERE day = ANY(%s) AND stream = ANY(%s)",
            (TEN_DAYS, list(SNAPSHOT_PATHS)),
        ).fetchall()
    for name in SNAPSHOT_PATHS:
        mine = [r for r in rows if r[0] == name]
        reused = [r for r in mine if r[3].startswith("reused snapshot fetched at ")]
        listed = [r for r in mine if r[2] > 0]
        assert len(mine) == len(TEN_DAYS) and len(listed) <= MAX_ACTIVE_RUNS, mine
        assert len(reused) >= len(TEN_DAYS) - MAX_ACTIVE_RUNS, mine
        assert all((status, requests) == ("skipped", 0) for _, status, requests, _ in reused), reused
