"""A real Airflow 3 deployment for the benchmarks: api-server, scheduler, dag-processor (LocalExecutor).

The fan-out benchmark needs what ``airflow dags test`` does not have: the scheduler deciding which
mapped task instances run when, an executor with worker processes, and the api-server that Airflow 3
task processes report to. Each stack gets a private ``AIRFLOW_HOME`` and its own metadata database,
a copy of one migrated once per benchmark run (``airflow db migrate`` costs tens of seconds, a
``CREATE DATABASE .. TEMPLATE`` a fraction of one). Configuration is by environment variables only.

Scheduling settings are Airflow's defaults (heartbeats, loop intervals): the per-task overhead the
benchmark reports is the one a deployment sees. ``tests/support/airflow_stack.py`` has a test-side
equivalent; the benchmarks do not import the tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import requests

from tests.support.airflow_meta import deployment_environ
from tests.support.pg import PgUrl, create_database, drop_database
from tests.support.process_groups import stop_process_groups

REPO = Path(__file__).resolve().parents[1]
AIRFLOW = (
    str(REPO / ".venv" / "bin" / "airflow") if (REPO / ".venv" / "bin" / "airflow").exists() else "airflow"
)
SERVICES = ("api-server", "scheduler", "dag-processor")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(home: Path, meta: PgUrl) -> dict[str, str]:
    """What every Airflow process of a stack (and its CLI) runs with."""
    env = deployment_environ("AIRFLOW")
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta.sqlalchemy(),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
        }
    )
    return env


def migrated_template(server: PgUrl) -> PgUrl:
    """A metadata database migrated once; every stack starts from a copy. The caller drops it."""
    template = create_database(server, "sync_apis_bench_airflow_template")
    with tempfile.TemporaryDirectory(prefix="bench-airflow-migrate-") as home:
        done = subprocess.run(
            [AIRFLOW, "db", "migrate"],
            env=base_env(Path(home), template),
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        drop_database(server, template)
        raise RuntimeError(f"airflow db migrate failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return template


class AirflowStack:
    """The three services on a copy of ``template``, with ``extra_env`` (connections, [sync_apis])."""

    def __init__(
        self, server: PgUrl, template: PgUrl, *, parallelism: int, extra_env: dict[str, str]
    ) -> None:
        self.server = server
        self.template = template
        self.parallelism = parallelism
        self.extra_env = dict(extra_env)
        self.home = Path(tempfile.mkdtemp(prefix="bench-airflow-stack-"))
        self.port = free_port()
        self.meta: PgUrl | None = None
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        # One secret for all services: the api-server checks the tokens the scheduler signs.
        self.jwt_secret = f"bench-{uuid.uuid4().hex}"

    def env(self) -> dict[str, str]:
        assert self.meta is not None
        env = base_env(self.home, self.meta)
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                # The executor's worker processes, and the DAG-wide cap: neither may be what limits
                # the history fan-out under test (the DAG's max_active_tis_per_dag and pool do).
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(self.parallelism),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.port}",
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
                "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
                # Only the runs the benchmark creates: no clock-driven run of the DAG.
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            }
        )
        env.update(self.extra_env)
        return env

    def __enter__(self) -> AirflowStack:
        try:
            self.meta = create_database(self.server, "sync_apis_bench_airflow", template=self.template)
            for name in SERVICES:
                args = [AIRFLOW, name] + (["--port", str(self.port)] if name == "api-server" else [])
                log = open(self.home / f"{name}.log", "wb")
                self.procs[name] = subprocess.Popen(
                    args, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.stop()
        if exc_type is None:  # on failure the services' logs stay for a look
            shutil.rmtree(self.home, ignore_errors=True)

    def stop(self) -> None:
        stop_process_groups(self.procs.values(), grace_s=30)
        if self.meta is not None:
            drop_database(self.server, self.meta)
            self.meta = None

    def logs(self, tail: int = 40) -> str:
        out = []
        for name in SERVICES:
            path = self.home / f"{name}.log"
            if path.exists():
                out.append(
                    f"==== {name} ====\n" + "\n".join(path.read_text(errors="replace").splitlines()[-tail:])
                )
        return "\n".join(out)

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with {proc.returncode}\n{self.logs()}")

    def _wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/api/v2/monitor/health"
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise RuntimeError(f"the api-server was not healthy after {timeout:.0f} s\n{self.logs()}")

    def cli(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            [AIRFLOW, *args], env=self.env(), capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} exited {done.returncode}\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
        return done.stdout

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A call to the REST API (``/api/v2``): a fraction of the cost of an ``airflow`` CLI process.
        With ``simple_auth_manager_all_admins`` the api-server needs no token."""
        answer = requests.request(
            method, f"http://127.0.0.1:{self.port}/api/v2{path}", json=body, timeout=120
        )
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path} answered {answer.status_code}: {answer.text[:2000]}")
        return answer.json()

    def query(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        assert self.meta is not None
        with psycopg.connect(self.meta.url, autocommit=True) as conn:
            return list(conn.execute(statement, params).fetchall())

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Until the dag-processor has serialized the DAG."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            if self.query("SELECT 1 FROM serialized_dag WHERE dag_id = %s", (dag_id,)):
                return
            errors = self.query("SELECT filename, stacktrace FROM import_error")
            if errors:
                raise RuntimeError(f"import errors: {errors}")
            time.sleep(1)
        raise RuntimeError(f"{dag_id} was not parsed within {timeout:.0f} s\n{self.logs()}")

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
