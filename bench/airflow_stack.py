"""A real Airflow 3 deployment for the benchmarks: api-server, scheduler, dag-processor (LocalExecutor).

The fan-out benchmark needs what ``airflow dags test`` does not have: the scheduler deciding which
mapped task instances run when, an executor with worker processes, and the api-server that Airflow 3
task processes report to. Each stack gets a private ``AIRFLOW_HOME`` and its own metadata database,
a copy of one migrated once per benchmark run (``airflow db migrate`` costs tens of seconds, a
``CREATE DATABASE .. TEMPLATE`` a fraction of one). Configuration is by environment variables only.

The services are started and watched as the tests' stack does (``tests/support/airflow_stack.py``,
the benchmarks use ``tests.support`` but no test module), with three differences that make the
figures a deployment's: Airflow's own scheduling settings (heartbeats, loop intervals), a plain
``airflow scheduler`` (each task process imports its libraries itself), and nothing taken from the
caller's ``AIRFLOW*`` variables.
"""

from __future__ import annotations

import tempfile
import time
from typing import ClassVar

from tests.support.airflow_meta import deployment_environ, migrate
from tests.support.airflow_stack import AirflowStack
from tests.support.pg import PgUrl, create_database, drop_database


def migrated_template(server: PgUrl) -> PgUrl:
    """A metadata database migrated once; every stack starts from a copy. The caller drops it."""
    template = create_database(server, "sync_apis_bench_airflow_template")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-airflow-migrate-") as home:
            migrate(template, {**deployment_environ("AIRFLOW"), "AIRFLOW_HOME": home})
    except BaseException:
        drop_database(server, template)
        raise
    return template


class BenchStack(AirflowStack):
    """The three services on a copy of ``template``, with ``extra_env`` (connections, [sync_apis])."""

    TUNING: ClassVar[dict[str, str]] = {}  # Airflow's defaults: the per-task overhead a deployment sees
    PRELOAD_TASK_LIBRARIES = False
    STOP_GRACE_S = 30

    def __init__(
        self, server: PgUrl, template: PgUrl, *, parallelism: int, extra_env: dict[str, str]
    ) -> None:
        super().__init__(server, extra_env=extra_env, parallelism=parallelism)
        self.template = template

    def _migrated(self) -> PgUrl:
        return self.template

    def inherited_environ(self) -> dict[str, str]:
        return deployment_environ("AIRFLOW")

    def env(self) -> dict[str, str]:
        return {
            **super().env(),
            # The executor's worker processes (``parallelism``) and the DAG-wide cap: neither may be
            # what limits the history fan-out under test (the DAG's max_active_tis_per_dag and pool do).
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(self.parallelism),
            "AIRFLOW__API__WORKERS": "1",
            # Only the runs the benchmark creates: no clock-driven run of the DAG.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            **self.extra_env,
        }

    def wait_for_run(self, dag_id: str, timeout: float) -> tuple[str, str]:
        """Until the DAG's only run has finished: its (run_id, state)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            rows = self.query("SELECT run_id, state FROM dag_run WHERE dag_id = %s", (dag_id,))
            # The DAG retries failed tasks minutes later: a benchmark stops at the first failure.
            # up_for_reschedule too: the DAGs have no sensor, so it means a task process could not
            # import its DAG file (seen when another process rewrote the shared venv mid-run), and
            # the run would then wait until its timeout.
            failed = self.query(
                "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = %s "
                "AND state IN ('failed', 'up_for_retry', 'upstream_failed', 'up_for_reschedule')",
                (dag_id,),
            )
            if failed:
                raise RuntimeError(
                    f"task(s) of {dag_id} failed: {failed}; logs in {self.home}\n{self.logs()}"
                )
            if rows and all(state in ("success", "failed") for _, state in rows):
                return str(rows[0][0]), str(rows[0][1])
            time.sleep(2)
        raise RuntimeError(f"the run of {dag_id} did not finish within {timeout:.0f} s; logs in {self.home}")
