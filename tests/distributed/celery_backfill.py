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
