"""Both DAGs backfilled over 7 days on CeleryExecutor with two workers (``make test-distributed``).

Not named ``test_*.py``: the default ``make test`` does not collect it; the make target names
the file. What it shows, from the systems' own records:

- tasks ran on both workers (``task_instance.hostname``, set per worker by ``hostname_callable``);
- every backfill run succeeded;
- the warehouse equals the sandboxes' ground truth;
- the Auvo sandbox never saw more than its per-minute budget in any 60 s window (its request
  log), with the budget shared through Redis (``sync_apis.ratelimit``);
- every process started is stopped by PID (checked after the stack is down).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from sandbox.core import Clock
from sync_apis.auvo.parse import local_time
from tests.conftest import SANDBOX_NOW, connection_env, small_auvo_config, small_etrac_config
from tests.distributed.celery_stack import (
    SHARED_REDIS,
    CeleryStack,
    PrivateRedis,
    process_alive,
    redis_answers,
)
from tests.integration.test_etrac_daily import assert_matches_ground_truth

DAYS = [date(2025, 3, 6) + timedelta(days=i) for i in range(7)]
DAGS = ("auvo_daily", "etrac_daily")
WORKERS = ("w1", "w2")
AUVO_BUDGET = 400  # the sandbox's per-client budget (auvo-api.md §6.1) and the shared bucket's


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


@pytest.fixture
def sandboxes() -> Iterator[tuple[Any, Any]]:
    from sandbox.auvo import AuvoConfig
    from sandbox.auvo import make_server as make_auvo
    from sandbox.etrac import EtracConfig
    from sandbox.etrac import make_server as make_etrac

    auvo_config = small_auvo_config(AuvoConfig)
    auvo_config.rate_limit_per_minute = AUVO_BUDGET
    auvo = make_auvo(auvo_config, clock=Clock(SANDBOX_NOW)).start()
    etrac = make_etrac(small_etrac_config(EtracConfig), clock=Clock(SANDBOX_NOW)).start()
    try:
        yield auvo, etrac
    finally:
        auvo.stop()
        etrac.stop()


def most_in_any_minute(times: list[float]) -> int:
    times = sorted(times)
    return max((sum(1 for t in times if first <= t < first + 60.0) for first in times), default=0)


@pytest.mark.distributed
@pytest.mark.timeout(2400)
def test_seven_days_of_both_dags_on_two_celery_workers(
    pg_server: Any, broker_url: str, sandboxes: tuple[Any, Any], warehouse_url: Any
) -> None:
    auvo, etrac = sandboxes
    env = {
        **connection_env(warehouse=warehouse_url, auvo=auvo, etrac=etrac),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the backfill's runs
        "AIRFLOW__SYNC_APIS__AUVO_TASK_DAYS_BACK": "30",
        "AIRFLOW__SYNC_APIS__AUVO_TASK_DAYS_AHEAD": "30",
        "AIRFLOW__SYNC_APIS__RATE_LIMIT_REDIS_URL": broker_url,
        "AIRFLOW__SYNC_APIS__AUVO_BUDGET_PER_MINUTE": str(AUVO_BUDGET),
    }
    stack = CeleryStack(pg_server, broker_url, WORKERS, extra_env=env, parallelism=16)
    with stack:
        pids = stack.pids()
        for dag_id in DAGS:
            stack.wait_for_dag(dag_id)
            stack.cli("dags", "unpause", dag_id)
        for dag_id in DAGS:
            stack.cli(
                "backfill", "create", "--dag-id", dag_id, "--from-date", DAYS[0].isoformat(),
                "--to-date", DAYS[-1].isoformat(), "--max-active-runs", "4",
            )  # fmt: skip
        runs = {dag_id: stack.wait_for_runs(dag_id, expected=len(DAYS), timeout=2000) for dag_id in DAGS}
        hosts = stack.query(
            "SELECT dag_id, hostname, count(*) FROM task_instance WHERE dag_id = ANY(%s) "
            "AND state = 'success' GROUP BY 1, 2 ORDER BY 1, 2",
            (list(DAGS),),
        )
        logs = stack.logs()
    assert pids and not [name for name, pid in pids.items() if process_alive(pid)]  # stopped by PID

    for dag_id in DAGS:
        backfill = [r for r in runs[dag_id] if r.run_type == "backfill"]
        assert [r.state for r in backfill] == ["success"] * len(DAYS), (dag_id, backfill, logs)
        starts = [local_time(r.data_interval_start.isoformat()).date() for r in backfill]
        assert starts == DAYS
    assert {host for _, host, _ in hosts} == set(WORKERS), hosts  # both workers ran tasks

    with psycopg.connect(warehouse_url.url) as conn:
        assert_matches_ground_truth(conn, etrac.world, DAYS)
        for day in DAYS:
            start = local_time(day.isoformat() + "T00:00:00")
            live = {
                r[0]
                for r in conn.execute(
                    "SELECT task_id FROM auvo.tasks WHERE deleted_at IS NULL"
                    " AND task_date >= %s AND task_date < %s",
                    (start, start + timedelta(days=1)),
                ).fetchall()
            }
            assert live == {t["taskID"] for t in auvo.world.tasks_for_day(day)}, day

    seen = [e for e in auvo.log if not e.path.startswith("/_sandbox")]
    assert seen
    assert [e for e in seen if e.status in (403, 429)] == []  # the sandbox never had to refuse
    assert most_in_any_minute([e.at for e in seen]) <= AUVO_BUDGET


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
        stack.wait_for_dag("etrac_daily")
        stack.cli("dags", "unpause", "etrac_daily")
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
