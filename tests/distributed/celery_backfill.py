"""Both DAGs backfilled on CeleryExecutor with Celery workers (``make test-distributed``).

Not named ``test_*.py``: the default ``make test`` does not collect it; the make target names
the file. What it shows, from the systems' own records:

- tasks ran on every worker (``task_instance.hostname``, set per worker by ``hostname_callable``);
- every backfill run succeeded, each run's data interval is exactly its local day;
- the warehouse equals the sandboxes' ground truth;
- the Auvo sandbox never saw more than its per-minute budget in any 60 s window (its request
  log), with the budget shared through Redis (``sync_apis.ratelimit``);
- 30 days of both DAGs at once neither deadlock nor duplicate nor lose a day, and reprocessing
  them (``--reprocess-behavior completed``) leaves every warehouse table as it was;
- a worker SIGKILLed mid-task is survived;
- every process started is stopped by PID (checked after the stack is down).

The 7-day backfill runs with one worker and with two; each writes its figures (wall time,
Auvo requests per minute, tasks per worker) to ``test-artifacts/distributed/<test>.json``, the
source of the README's "Adding workers" table.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support.airflow_stack import REPO
from tests.support.auvo_world import assert_live_tasks_match, assert_snapshots_match
from tests.support.celery_stack import (
    SHARED_REDIS,
    CeleryStack,
    PrivateRedis,
    process_alive,
    redis_answers,
)
from tests.support.connections import connection_env
from tests.support.etrac_world import SP, assert_matches_ground_truth, day_bounds
from tests.support.sandboxes import SANDBOX_NOW, SMALL_AUVO_WORLD, small_auvo_server, small_etrac_server
from tests.support.table_digest import table_checksums

DAYS = [date(2025, 3, 6) + timedelta(days=i) for i in range(7)]
DAGS = ["auvo_daily", "etrac_daily"]
WORKERS = ("w1", "w2")
AUVO_BUDGET = 400  # the sandbox's per-client budget (auvo-api.md §6.1) and the shared bucket's
ARTIFACTS = REPO / "test-artifacts" / "distributed"


@pytest.fixture
def broker_url() -> Iterator[str]:
    if redis_answers(*SHARED_REDIS):
        yield f"redis://{SHARED_REDIS[0]}:{SHARED_REDIS[1]}/0"
        return
    private = PrivateRedis()
    try:
        yield private.start()
    finally:
        private.stop()


@contextmanager
def sandboxes_for(days: list[date]) -> Iterator[tuple[Any, Any]]:
    """The small Auvo and e-Track worlds, the Auvo one with enough history to cover ``days``
    (tasks on every day, none empty for want of history)."""
    history_days = max(SMALL_AUVO_WORLD["history_days"], (SANDBOX_NOW.date() - days[0]).days + 1)
    with (
        small_auvo_server(history_days=history_days, rate_limit_per_minute=AUVO_BUDGET) as auvo,
        small_etrac_server() as etrac,
    ):
        yield auvo, etrac


@pytest.fixture
def sandboxes() -> Iterator[tuple[Any, Any]]:
    with sandboxes_for(DAYS) as both:
        yield both


def most_in_any_minute(times: list[float]) -> int:
    times = sorted(times)
    return max((sum(1 for t in times if first <= t < first + 60.0) for first in times), default=0)


def shared_budget_env(warehouse_url: Any, auvo: Any, etrac: Any, broker_url: str) -> dict[str, str]:
    return {
        **connection_env(warehouse=warehouse_url, auvo=auvo, etrac=etrac),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the backfill's runs
        "AIRFLOW__SYNC_APIS__AUVO_TASK_DAYS_BACK": "30",
        "AIRFLOW__SYNC_APIS__AUVO_TASK_DAYS_AHEAD": "30",
        "AIRFLOW__SYNC_APIS__RATE_LIMIT_REDIS_URL": broker_url,
        "AIRFLOW__SYNC_APIS__AUVO_BUDGET_PER_MINUTE": str(AUVO_BUDGET),
    }


def backfill_both(stack: CeleryStack, days: list[date], *more: str) -> list[int]:
    """``airflow backfill create`` for both DAGs, one right after the other, ``--max-active-runs
    4`` each; returns the new backfills' ids."""
    for dag_id in DAGS:
        stack.cli(
            "backfill", "create", "--dag-id", dag_id, "--from-date", days[0].isoformat(),
            "--to-date", days[-1].isoformat(), "--max-active-runs", "4", *more,
        )  # fmt: skip
    rows = stack.query("SELECT id FROM backfill ORDER BY id DESC LIMIT %s", (len(DAGS),))
    return sorted(r[0] for r in rows)


def backfill_runs(stack: CeleryStack, dag_id: str) -> list[dict[str, Any]]:
    """The DAG's runs, oldest day first, as the metadata database has them."""
    names = ["run_id", "state", "run_type", "data_interval_start", "data_interval_end", "clear_number",
             "backfill_id", "start_date", "end_date"]  # fmt: skip
    rows = stack.query(
        f"SELECT {', '.join(names)} FROM dag_run WHERE dag_id = %s ORDER BY data_interval_start", (dag_id,)
    )
    return [dict(zip(names, r, strict=True)) for r in rows]


def assert_one_run_per_day(runs: list[dict[str, Any]], days: list[date]) -> None:
    """Every run succeeded and its data interval is exactly one São Paulo day, midnight to
    midnight; the runs' days are ``days``, each once: no day lost, none twice."""
    assert [r["state"] for r in runs] == ["success"] * len(days), runs
    assert [r["run_type"] for r in runs] == ["backfill"] * len(days), runs
    intervals = [
        (r["data_interval_start"].astimezone(SP), r["data_interval_end"].astimezone(SP)) for r in runs
    ]
    assert intervals == [day_bounds(day) for day in days]


def backfill_figures(
    stack: CeleryStack, backfill_ids: list[int], auvo: Any, *, workers: tuple[str, ...], days: int
) -> dict[str, Any]:
    """What a backfill cost, from the metadata database and the Auvo sandbox's request log.

    Wall time: from the first backfill's creation to the last of its runs finishing. Auvo
    requests per minute: peak = most in any 60 s window, mean = requests / wall time (both over
    that span)."""
    (created, finished), *_ = stack.query(
        "SELECT (SELECT min(created_at) FROM backfill WHERE id = ANY(%s)), "
        "(SELECT max(end_date) FROM dag_run WHERE backfill_id = ANY(%s))",
        (backfill_ids, backfill_ids),
    )
    wall_s = (finished - created).total_seconds()
    seen = [
        e.at
        for e in auvo.log
        if not e.path.startswith("/_sandbox") and created.timestamp() <= e.at <= finished.timestamp()
    ]
    per_worker = stack.query(
        "SELECT hostname, count(*) FROM task_instance ti JOIN dag_run dr "
        "ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id "
        "WHERE dr.backfill_id = ANY(%s) AND ti.state = 'success' GROUP BY 1 ORDER BY 1",
        (backfill_ids,),
    )
    return {
        "workers": len(workers),
        "worker_concurrency": 4,
        "days": days,
        "dags": DAGS,
        "max_active_runs": 4,
        "backfill_wall_s": round(wall_s, 1),
        "auvo_requests": len(seen),
        "auvo_peak_per_minute": most_in_any_minute(seen),
        "auvo_mean_per_minute": round(len(seen) / (wall_s / 60.0), 1),
        "tasks_per_worker": dict(per_worker),
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def report(name: str, figures: dict[str, Any]) -> Path:
    """Write the figures to test-artifacts/distributed/<name>.json and print them."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print(f"\n{name}: {json.dumps(figures, default=str)}")
    return path


def seven_day_backfill(
    name: str,
    workers: tuple[str, ...],
    pg_server: Any,
    broker_url: str,
    sandboxes: tuple[Any, Any],
    warehouse_url: Any,
) -> None:
    """The 7-day backfill of both DAGs at once on ``workers``, checked and measured."""
    auvo, etrac = sandboxes
    env = shared_budget_env(warehouse_url, auvo, etrac, broker_url)
    stack = CeleryStack(pg_server, broker_url, workers, extra_env=env, parallelism=16)
    with stack:
        pids = stack.pids()
        stack.unpause(*DAGS)
        backfills = backfill_both(stack, DAYS)
        stack.wait_for_backfills(DAGS, expected=1, timeout=2000)
        runs = {dag_id: backfill_runs(stack, dag_id) for dag_id in DAGS}
        hosts = stack.query(
            "SELECT dag_id, hostname, count(*) FROM task_instance WHERE dag_id = ANY(%s) "
            "AND state = 'success' GROUP BY 1, 2 ORDER BY 1, 2",
            (DAGS,),
        )
        figures = backfill_figures(stack, backfills, auvo, workers=workers, days=len(DAYS))
        logs = stack.logs()
    assert pids and not [name for name, pid in pids.items() if process_alive(pid)]  # stopped by PID
    report(name, figures)

    for dag_id in DAGS:
        assert len(runs[dag_id]) == len(DAYS), (dag_id, runs[dag_id], logs)
        assert_one_run_per_day(runs[dag_id], DAYS)
    assert {host for _, host, _ in hosts} == set(workers), hosts  # every worker ran tasks

    with psycopg.connect(warehouse_url.url) as conn:
        assert_matches_ground_truth(conn, etrac.world, DAYS)
        assert_live_tasks_match(conn, auvo.world, DAYS)
        assert_snapshots_match(conn, auvo.world)

    seen = [e for e in auvo.log if not e.path.startswith("/_sandbox")]
    assert seen
    assert [e for e in seen if e.status in (403, 429)] == []  # the sandbox never had to refuse
    assert most_in_any_minute([e.at for e in seen]) <= AUVO_BUDGET


@pytest.mark.distributed
@pytest.mark.timeout(2400)
def test_seven_days_of_both_dags_on_two_celery_workers(
    pg_server: Any, broker_url: str, sandboxes: tuple[Any, Any], warehouse_url: Any
) -> None:
    seven_day_backfill("seven_days_two_workers", WORKERS, pg_server, broker_url, sandboxes, warehouse_url)


@pytest.mark.distributed
@pytest.mark.timeout(2400)
def test_seven_days_of_both_dags_on_one_celery_worker(
    pg_server: Any, broker_url: str, sandboxes: tuple[Any, Any], warehouse_url: Any
) -> None:
    """The same backfill with one worker: the other half of the README's 1-vs-2 table."""
    seven_day_backfill("seven_days_one_worker", WORKERS[:1], pg_server, broker_url, sandboxes, warehouse_url)


# The 30 days before the sandbox's pinned now: 2025-02-11 .. 2025-03-12, all complete history.
THIRTY_DAYS = [SANDBOX_NOW.date() - timedelta(days=30 - i) for i in range(30)]
# The only columns left out of the warehouse checksums: they record when we loaded, not what.
LOAD_TIME_COLUMNS = {
    # Every auvo and e_track table: now() of the transaction that last wrote the row
    # (include/sql/*/002_tables.sql). Content equal, so a reprocess that rewrote a row with the
    # same values would be a cost, not a wrong table; everything the row says is compared.
    "synced_at",
}
# Kept in on purpose: auvo.*.deleted_at. For tasks it is the deletion's own stamp from the API;
# for snapshot kinds it is when a complete listing first lacked the record, and a record already
# deleted keeps its first deleted_at (warehouse.Stage.merge_tombstones): a reprocess moving it
# would be a real change.
WAREHOUSE_SCHEMAS = ("auvo", "e_track")


def warehouse_state(url: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return table_checksums(conn, WAREHOUSE_SCHEMAS, excluded=LOAD_TIME_COLUMNS)


def loads_per_day(url: str, days: list[date]) -> dict[tuple[str, date], set[str]]:
    """(source, day) -> the run ids that recorded a load of that day (``sync_meta.sync_runs``)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT source, day, array_agg(DISTINCT run_id) FROM sync_meta.sync_runs "
            "WHERE day = ANY(%s) GROUP BY 1, 2",
            (days,),
        ).fetchall()
    return {(source, day): set(run_ids) for source, day, run_ids in rows}


def deadlock_evidence(stack: CeleryStack, warehouse_url: Any) -> tuple[int, list[str]]:
    """PostgreSQL's own count of deadlocks it broke in the warehouse database, and the log files
    (services, workers, every task try) that mention one.

    A deadlock between our loads cannot hang: PostgreSQL detects it within ``deadlock_timeout``
    (1 s) and fails one transaction with "deadlock detected" (SQLSTATE 40P01). That failed try
    would be retried and the run could still end green, so a green run alone proves nothing;
    these two records do."""
    with psycopg.connect(warehouse_url.url) as conn:
        (count,) = conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()  # fmt: skip
    mentions = [
        str(path.relative_to(stack.home))
        for path in stack.home.rglob("*.log")
        if "deadlock detected" in path.read_text(errors="replace").lower()
    ]
    return int(count), mentions


@pytest.mark.distributed
@pytest.mark.timeout(3000)
def test_thirty_days_of_both_dags_at_once_then_reprocessing_them_changes_no_table(
    pg_server: Any, broker_url: str, warehouse_url: Any
) -> None:
    """Issue 12, point 4: a 30-day backfill of both DAGs at once (``--max-active-runs 4`` each,
    two workers, the Auvo budget shared through Redis), then the same range again with
    ``--reprocess-behavior completed``.

    Airflow 3 reprocesses a finished run by clearing it in place (``models/backfill.py``,
    ``_handle_clear_run``): the same run id, ``clear_number`` + 1, its task instances' next try,
    and the run handed to the new backfill. So "every run re-ran" is: every run has
    clear_number 1, belongs to the second backfill, ended after it was created, and every task
    instance is on its second try or later.

    Failed tries are tolerated (and reported): on this 2-core machine a task may miss a
    heartbeat for reasons that are not ours, and the retry is what the DAGs are for. A deadlock
    is not tolerated even if its retry healed it: PostgreSQL's deadlock counter for the
    warehouse and every log must show none."""
    with sandboxes_for(THIRTY_DAYS) as (auvo, etrac):
        env = shared_budget_env(warehouse_url, auvo, etrac, broker_url)
        stack = CeleryStack(pg_server, broker_url, WORKERS, extra_env=env, parallelism=16)
        with stack:
            pids = stack.pids()
            stack.unpause(*DAGS)

            first = backfill_both(stack, THIRTY_DAYS)
            stack.wait_for_backfills(DAGS, expected=1, timeout=2400)
            runs = {dag_id: backfill_runs(stack, dag_id) for dag_id in DAGS}
            figures = {"first": backfill_figures(stack, first, auvo, workers=WORKERS, days=len(THIRTY_DAYS))}
            figures["first"]["failed_tries"] = stack.query(
                "SELECT dag_id, task_id, map_index, try_number FROM task_instance WHERE try_number > 1"
            )
            for dag_id in DAGS:
                assert len(runs[dag_id]) == len(THIRTY_DAYS), (dag_id, runs[dag_id], stack.logs())
                assert_one_run_per_day(runs[dag_id], THIRTY_DAYS)
            with psycopg.connect(warehouse_url.url) as conn:
                assert_matches_ground_truth(conn, etrac.world, THIRTY_DAYS)
                assert_live_tasks_match(conn, auvo.world, THIRTY_DAYS)
                assert_snapshots_match(conn, auvo.world)
            loaded_by = loads_per_day(warehouse_url.url, THIRTY_DAYS)
            before = warehouse_state(warehouse_url.url)

            second = backfill_both(stack, THIRTY_DAYS, "--reprocess-behavior", "completed")
            stack.wait_for_backfills(DAGS, expected=2, timeout=2400)
            rerun = {dag_id: backfill_runs(stack, dag_id) for dag_id in DAGS}
            figures["reprocess"] = backfill_figures(
                stack, second, auvo, workers=WORKERS, days=len(THIRTY_DAYS)
            )
            (second_created,), *_ = stack.query(
                "SELECT min(created_at) FROM backfill WHERE id = ANY(%s)", (second,)
            )
            first_tries = stack.query(
                "SELECT count(*) FROM task_instance ti JOIN dag_run dr ON dr.dag_id = ti.dag_id "
                "AND dr.run_id = ti.run_id WHERE dr.backfill_id = ANY(%s) AND ti.try_number < 2",
                (second,),
            )[0][0]
            failed = stack.query(
                "SELECT dag_id, task_id, map_index, try_number, state, hostname FROM task_instance_history "
                "WHERE state IS DISTINCT FROM 'success' ORDER BY 1, 2, 3, 4"
            )
            deadlocks, mentions = deadlock_evidence(stack, warehouse_url)
            figures["failed_tries"] = failed
            figures["deadlocks"] = {"pg_stat_database": deadlocks, "log_files": mentions}
        assert pids and not [name for name, pid in pids.items() if process_alive(pid)]  # stopped by PID
        report("thirty_days_reprocessed", figures)

        after = warehouse_state(warehouse_url.url)
        for dag_id in DAGS:
            assert [r["run_id"] for r in rerun[dag_id]] == [r["run_id"] for r in runs[dag_id]]
            assert_one_run_per_day(rerun[dag_id], THIRTY_DAYS)
            assert {(r["clear_number"], r["backfill_id"] in second) for r in rerun[dag_id]} == {(1, True)}
            assert all(r["end_date"] > second_created for r in rerun[dag_id]), rerun[dag_id]
        assert first_tries == 0  # every task instance of every run ran again

        # Each day was loaded by its own run and no other, for both sources.
        day_run = {
            (source, local_day_of(r)): {r["run_id"]}
            for source, dag_id in (("auvo", "auvo_daily"), ("e_track", "etrac_daily"))
            for r in runs[dag_id]
        }
        assert loaded_by == day_run
        assert loads_per_day(warehouse_url.url, THIRTY_DAYS) == day_run

        assert before["auvo.tasks"][0] > 0 and before["e_track.positions"][0] > 0
        assert after == before
        with psycopg.connect(warehouse_url.url) as conn:  # and still the sandbox's data
            assert_matches_ground_truth(conn, etrac.world, THIRTY_DAYS)
            assert_live_tasks_match(conn, auvo.world, THIRTY_DAYS)
            assert_snapshots_match(conn, auvo.world)

        seen = [e for e in auvo.log if not e.path.startswith("/_sandbox")]
        assert [e for e in seen if e.status in (403, 429)] == []
        assert most_in_any_minute([e.at for e in seen]) <= AUVO_BUDGET
        # Last, so that a failing run still shows everything above: no deadlock, even a healed one.
        assert (deadlocks, mentions) == (0, []), figures["failed_tries"]


def local_day_of(run: dict[str, Any]) -> date:
    return run["data_interval_start"].astimezone(SP).date()


KILL_DAYS = DAYS[:2]


@pytest.mark.distributed
@pytest.mark.timeout(1200)
def test_a_worker_killed_mid_history_chunk_is_survived(
    pg_server: Any, broker_url: str, sandboxes: tuple[Any, Any], warehouse_url: Any
) -> None:
    """SIGKILL the worker (its whole process group: worker, pool, task supervisor, task) running
    an e-Track history chunk. Nobody tells the scheduler; it finds the task instance through its
    missing heartbeat (``[scheduler] task_instance_heartbeat_timeout`` 20 s, checked every 5 s
    instead of 300 s), fails that try, and the DAG's retry (1 min later) runs on the other worker."""
    import os
    import signal

    _, etrac = sandboxes
    # The chunk's first history call hangs 25 s: the kill lands in the middle of the chunk.
    etrac.faults.arm("slow", path="/ultimasposicoesterminal", delay=25.0, times=1)
    env = {
        **connection_env(warehouse=warehouse_url, etrac=etrac),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    }
    stack = CeleryStack(pg_server, broker_url, WORKERS, extra_env=env, parallelism=16)
    with stack:
        stack.unpause("etrac_daily")
        stack.cli(
            "backfill", "create", "--dag-id", "etrac_daily", "--from-date", KILL_DAYS[0].isoformat(),
            "--to-date", KILL_DAYS[-1].isoformat(), "--max-active-runs", "1",
        )  # fmt: skip
        victim = ""
        deadline = time.monotonic() + 300
        while not victim and time.monotonic() < deadline:
            rows = stack.query(
                "SELECT hostname, run_id, map_index FROM task_instance WHERE dag_id = 'etrac_daily' "
                "AND task_id = 'history' AND state = 'running' AND hostname <> ''"
            )
            if rows:
                victim, killed_run, killed_index = rows[0]
            time.sleep(0.5)
        assert victim in WORKERS, stack.logs()
        worker = stack.procs.pop(f"worker-{victim}")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        runs = stack.wait_for_runs("etrac_daily", expected=len(KILL_DAYS), timeout=900)
        tries = stack.query(
            "SELECT try_number, hostname, state FROM task_instance WHERE dag_id = 'etrac_daily' "
            "AND task_id = 'history' AND run_id = %s AND map_index = %s",
            (killed_run, killed_index),
        )
        logs = stack.logs()
    survivor = next(w for w in WORKERS if w != victim)
    assert [r.state for r in runs if r.run_type == "backfill"] == ["success"] * len(KILL_DAYS), logs
    assert len(tries) == 1 and tries[0][0] >= 2 and tries[0][1:] == (survivor, "success"), tries
    with psycopg.connect(warehouse_url.url) as conn:
        assert_matches_ground_truth(conn, etrac.world, KILL_DAYS)
