"""Runs through a real scheduler, api-server and dag-processor (LocalExecutor): one stack for all.

- ``airflow backfill create … --max-active-runs N``, Auvo: local days loaded concurrently, no
  duplicates, equal to the sandbox, and equal to the same days loaded one after another;
- the same for e-Track: each local day loaded exactly once, runs overlapping without deadlocks (no
  failed attempt anywhere) or duplicates, the warehouse equal to the sandbox's ground truth;
- a trigger with no logical date loads today so far, for both DAGs.

The tests share one stack, started once for the module (a start costs ~16 s of CPU and ~10 s of
waiting): its services' environment holds no connection, each test writes its own through the
REST API (``set_connections``: its sandboxes, its warehouse), and the runs of the test before are
deleted first (``forget_runs``). The scheduler creates no clock-driven run of its own
(``use_job_schedule`` off): every run here is one a test asked for. The API tasks of e-Track queue
in a one-slot pool, as ``make run`` and docker-compose configure it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from sync_apis.auvo.parse import local_time
from sync_apis.localday import day_bounds, local_date
from tests.support.airflow_stack import AirflowStack
from tests.support.auvo_world import BACKFILL_STREAMS, FAST, assert_live_tasks_match
from tests.support.connections import connection_env, sandbox_conn_json
from tests.support.etrac_world import assert_matches_ground_truth
from tests.support.pg import create_database, drop_database
from tests.support.sandboxes import small_auvo_server, small_etrac_server

SP = ZoneInfo("America/Sao_Paulo")
DAG_IDS = ("auvo_daily", "etrac_daily")
DAYS = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]
# The sandbox world's whole history lies within +- 30 days of these days: set through
# [sync_apis] (the Params' defaults), the narrower taskDate range changes no result, only the
# request count.
NARROW_RANGE_ENV = {
    "AIRFLOW__SYNC_APIS__AUVO_TASK_DAYS_BACK": "30",
    "AIRFLOW__SYNC_APIS__AUVO_TASK_DAYS_AHEAD": "30",
}
POOL = {"name": "etrac_api", "slots": 1, "description": "e-Track API calls"}


@pytest.fixture(scope="module")
def shared_stack(pg_server: Any) -> Iterator[AirflowStack]:
    env = {
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__SYNC_APIS__ETRAC_POOL": POOL["name"],
        **NARROW_RANGE_ENV,
    }
    with AirflowStack(pg_server, extra_env=env, parallelism=8, env_connections=False) as stack:
        # Through the REST API (an `airflow pools set` process costs seconds of CPU; the README's
        # form of it is run by tests/support/readme_commands.py).
        stack.api("POST", "/pools", POOL, expect=201)
        stack.unpause(*DAG_IDS)
        yield stack


@pytest.fixture
def stack(shared_stack: AirflowStack) -> AirflowStack:
    """The module's stack with no run of either DAG left by an earlier test."""
    shared_stack.forget_runs(*DAG_IDS)
    return shared_stack


# --------------------------------------------------------------------------- Auvo backfills


def create_auvo_backfill(
    stack: AirflowStack, sandbox: Any, warehouse_url: Any, days: list[date], *, max_active_runs: int,
    conf: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """The stack pointed at the sandbox and the warehouse, and the backfill of ``days`` created."""
    stack.set_connections(
        {
            "AIRFLOW_CONN_SYNC_APIS_DB": warehouse_url.airflow_conn_json(),
            "AIRFLOW_CONN_AUVO_API": sandbox_conn_json(
                sandbox.base_url, "/v2", "sandbox-api-key", "sandbox-api-token"
            ),
        }
    )
    args = ["--from-date", days[0].isoformat(), "--to-date", days[-1].isoformat()]
    args += ["--max-active-runs", str(max_active_runs)]
    if conf is not None:
        args += ["--dag-run-conf", json.dumps(conf)]
    stack.cli("backfill", "create", "--dag-id", "auvo_daily", *args)


@pytest.mark.slow
def test_auvo_backfill_three_days_with_three_active_runs(stack, auvo_sandbox, warehouse_url):
    create_auvo_backfill(stack, auvo_sandbox, warehouse_url, DAYS, max_active_runs=3)
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
    from sync_apis.auvo.hook import DEFAULT_POLICY
    from sync_apis.auvo.streams import select
    from sync_apis.auvo.task_range import TaskRange
    from sync_apis.dag_tasks import http_policy
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import RunInfo, run_schema_files

    monkeypatch.setenv(
        "AIRFLOW_CONN_AUVO_API",
        sandbox_conn_json(sandbox.base_url, "/v2", "sandbox-api-key", "sandbox-api-token"),
    )
    policy = http_policy({"params": FAST}, DEFAULT_POLICY)  # the backfill's conf
    hook = sync.make_hook("auvo_api", budget_per_minute=FAST["api_budget_per_minute"], policy=policy)
    with psycopg.connect(url, autocommit=True) as conn:
        run_schema_files(conn, sql_files("sync_meta") + sql_files("auvo"))
        for day in TEN_DAYS:
            for stream in select(BACKFILL_STREAMS):
                run = RunInfo("auvo", stream, day, f"sequential-{day}", "auvo_daily", "sync_stream")
                sync.sync_stream(conn, hook, stream, sync.window_for(day, 10, TaskRange(30, 30)), run)


@pytest.mark.slow
def test_a_concurrent_ten_day_auvo_backfill_equals_one_day_after_another(
    stack, pg_server, auvo_sandbox, warehouse_url, monkeypatch
):
    reference = create_database(pg_server, "sync_apis_test_sequential")
    try:
        load_days_one_after_another(reference.url, auvo_sandbox, monkeypatch)
        expected = content_hashes(reference.url)
    finally:
        drop_database(pg_server, reference)
    assert expected["tasks"][0] > 0 and expected["users"][0] > 0

    listed_before = {name: len(auvo_sandbox.requests_to(path)) for name, path in SNAPSHOT_PATHS.items()}
    create_auvo_backfill(
        stack, auvo_sandbox, warehouse_url, TEN_DAYS, max_active_runs=MAX_ACTIVE_RUNS, conf=BACKFILL_CONF
    )
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


# --------------------------------------------------------------------------- e-Track backfill


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_etrac_backfill_loads_each_day_once(
    stack: AirflowStack,
    etrac_env: dict[str, str],
    etrac_sandbox: Any,
    warehouse_url: Any,
) -> None:
    stack.set_connections(etrac_env)
    stack.cli(
        "backfill", "create", "--dag-id", "etrac_daily",
        "--from-date", DAYS[0].isoformat(), "--to-date", DAYS[-1].isoformat(), "--max-active-runs", "3",
    )  # fmt: skip
    runs = stack.wait_for_runs("etrac_daily", expected=3, timeout=420)
    overlap = stack.max_concurrent_runs("etrac_daily")
    pools = stack.query(
        "SELECT DISTINCT task_id, pool FROM task_instance "
        "WHERE dag_id = 'etrac_daily' AND task_id IN ('latest', 'history') ORDER BY 1"
    )
    failed_tis = stack.query(
        "SELECT task_id, map_index, try_number, state FROM task_instance "
        "WHERE dag_id = 'etrac_daily' AND (state <> 'success' OR try_number > 1)"
    )

    assert [r.state for r in runs] == ["success"] * 3, runs
    assert [r.run_type for r in runs] == ["backfill"] * 3
    assert [(r.data_interval_start.astimezone(SP).date(), r.data_interval_end - r.data_interval_start)
            for r in runs] == [(d, timedelta(days=1)) for d in DAYS]  # fmt: skip
    assert 1 <= overlap <= 3
    assert failed_tis == []  # no task needed a retry: no deadlock, no serialization failure
    assert pools == [("history", "etrac_api"), ("latest", "etrac_api")]

    world = etrac_sandbox.world
    with psycopg.connect(warehouse_url.url) as conn:
        assert_matches_ground_truth(conn, world, DAYS)
        per_day = conn.execute(
            "SELECT day, stream, count(*), count(DISTINCT run_id), bool_and(status = 'success') "
            "FROM sync_meta.sync_runs WHERE source = 'e_track' GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
        n_chunks = 1  # 5 vehicles, the default chunk_size (25)
        expected = []
        for day in DAYS:
            expected += [(day, "latest", 1, 1, True), (day, "positions", n_chunks, 1, True),
                         (day, "routes", 1, 1, True), (day, "trips", n_chunks, 1, True)]  # fmt: skip
        assert per_day == expected
        # Exactly the fixes of the three days (plus the one latest fix per vehicle), nothing twice.
        start = DAYS[0]
        total_truth = sum(world.day_summary(p, d).positions for p in world.plates() for d in DAYS)
        in_days = conn.execute(
            "SELECT count(*) FROM e_track.positions "
            "WHERE data_transmissao >= %s::date::timestamp AT TIME ZONE 'America/Sao_Paulo' "
            "AND data_transmissao < (%s::date + 3)::timestamp AT TIME ZONE 'America/Sao_Paulo'",
            (start, start),
        ).fetchone()[0]
        assert in_days == total_truth
        routes = conn.execute(
            "SELECT rota_date, count(*) FROM e_track.routes GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert [r[0] for r in routes] == DAYS
    # Each plate-day was asked for once: 5 plates x 3 days history calls, same for trips.
    assert len(etrac_sandbox.requests_to("/ultimasposicoesterminal")) == len(world.plates()) * 3
    assert len(etrac_sandbox.requests_to("/resumoviagens")) == len(world.plates()) * 3


# --------------------------------------------------------------------------- triggers without a date


@pytest.fixture
def sandboxes_at_now() -> Any:
    # Pinned, so "today so far" is the same for the run and for the ground truth.
    now = datetime.now(SP).replace(microsecond=0)
    with small_auvo_server(now) as auvo, small_etrac_server(now) as etrac:
        yield auvo, etrac, now


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_both_dags_triggered_without_a_logical_date_load_today_so_far(
    stack: AirflowStack, warehouse_url: Any, sandboxes_at_now: Any
) -> None:
    """``POST /api/v2/dags/<dag>/dagRuns`` with ``"logical_date": null`` — also what the UI's trigger
    without a date sends — creates a run with no data interval. Such a run used to crash in every
    task (``KeyError: 'data_interval_start'``) and retry for ten minutes. Both DAGs run that way
    against sandboxes whose clock stands at the real now, under Airflow's default time zone (UTC),
    and the warehouse must hold today's data in São Paulo as the sandboxes have it."""
    auvo, etrac, now = sandboxes_at_now
    run_day: dict[str, date] = {}
    stack.set_connections(connection_env(warehouse=warehouse_url, auvo=auvo, etrac=etrac))
    for dag_id in DAG_IDS:
        # Auvo with FAST's budget and task range: the default pacing adds ~80 s of waiting and
        # nothing this test looks at (the conf leaves the date unset).
        conf = FAST if dag_id == "auvo_daily" else {}
        reply = stack.api("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})
        assert reply["logical_date"] is None and reply["data_interval_start"] is None
        # "Today" is the São Paulo day of the trigger: just before midnight it may be the
        # day after the sandbox's pinned clock, and that day must then be loaded (empty).
        run_day[dag_id] = local_date(datetime.fromisoformat(reply["run_after"]))
    for dag_id in DAG_IDS:
        (run,) = stack.wait_for_runs(dag_id, expected=1, timeout=420)
        assert run.state == "success", stack.logs()
    retried = stack.query(
        "SELECT dag_id, task_id, map_index, try_number, state FROM task_instance "
        "WHERE state <> 'success' OR try_number > 1"
    )
    assert retried == []  # nothing crashed and was retried into success

    with psycopg.connect(warehouse_url.url) as conn:
        # Every stream of both sources recorded today, and only today.
        days = conn.execute(
            "SELECT source, array_agg(DISTINCT day), bool_and(status = 'success') FROM sync_meta.sync_runs "
            "GROUP BY source ORDER BY source"
        ).fetchall()
        assert days == [("auvo", [run_day["auvo_daily"]], True), ("e_track", [run_day["etrac_daily"]], True)]

        # e-Track: today's fixes, trips and routes up to now, equal to the sandbox's own.
        today = run_day["etrac_daily"]
        assert_matches_ground_truth(conn, etrac.world, [today])
        loaded_today = conn.execute(
            "SELECT count(*) FROM e_track.positions WHERE data_transmissao >= %s AND data_transmissao < %s",
            day_bounds(today),
        ).fetchone()[0]
        truth_today = sum(etrac.world.day_summary(p, today).positions for p in etrac.world.plates())
        assert loaded_today == truth_today
        if now - datetime.combine(today, datetime.min.time(), SP) > timedelta(hours=2):
            assert truth_today > 0  # a day under way has fixes: the comparison is not vacuous

        # Auvo: the tasks scheduled for today, as the sandbox has them now.
        today = run_day["auvo_daily"]
        start, end = day_bounds(today)
        live = {
            r[0]
            for r in conn.execute(
                "SELECT task_id FROM auvo.tasks "
                "WHERE deleted_at IS NULL AND task_date >= %s AND task_date < %s",
                (start, end),
            ).fetchall()
        }
        assert live == {t["taskID"] for t in auvo.world.tasks_for_day(today)}
        if today == now.date():
            assert live, "the sandbox schedules tasks every day: an empty set would prove nothing"
