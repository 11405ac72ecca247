"""A real Airflow 3 deployment for tests: api-server, scheduler, dag-processor (LocalExecutor).

Some behaviour only exists with the real services: ``airflow backfill create`` needs the
scheduler to create and run the backfill's DAG runs, the dag-processor to have parsed the DAG,
and the api-server because Airflow 3 tasks talk to it (the execution API). The stack gets its own
metadata database so its runs never mix with ``dag.test()`` runs of the same days. Subclasses
start other services (``CeleryStack``) or fewer; ``bench/airflow_stack.py`` runs the same services
with Airflow's own scheduling settings (``TUNING``, ``PRELOAD_TASK_LIBRARIES``).

    with AirflowStack(pg_server, extra_env=connections) as stack:
        stack.unpause("etrac_daily")
        stack.cli("backfill", "create", "--dag-id", "etrac_daily", ...)
        runs = stack.wait_for_runs("etrac_daily", expected=3)
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import requests

from tests.support.airflow_meta import AIRFLOW, deployment_environ, migrated_template
from tests.support.pg import PgUrl, create_database, drop_database
from tests.support.process_groups import stop_process_groups

REPO = Path(__file__).resolve().parents[2]

# `airflow scheduler`, with the third-party libraries every sync task imports imported first. The
# LocalExecutor forks its workers from the scheduler and each worker forks a process per task, so
# each task inherits them instead of importing them again: 0.4-0.5 s of CPU per task instance,
# 28 % of the scheduler tests' CPU (147 -> 106 s for tests/integration/test_scheduler_runs.py).
# Nothing of ours is imported here: each task still imports our package and parses its DAG file
# as in any deployment. (Not for bench/: its fan-out figure includes a task's real start-up.)
SCHEDULER_WITH_TASK_LIBRARIES = "\n".join(
    [
        "import sys",
        "import airflow.providers.common.sql.operators.sql",
        "import airflow.providers.http.hooks.http",
        "import airflow.providers.postgres.hooks.postgres",
        "import airflow.sdk.execution_time.task_runner",
        "import msgspec",
        "from airflow.__main__ import main",
        "sys.exit(main())",
    ]
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DagRunRow:
    run_id: str
    state: str
    run_type: str
    data_interval_start: Any
    data_interval_end: Any


class AirflowStack:
    SERVICES = ("api-server", "scheduler", "dag-processor")
    # Scheduling settings tuned for tests (bench/airflow_stack.py keeps Airflow's defaults).
    TUNING: ClassVar[dict[str, str]] = {
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        # A test's DAG files do not change while its stack runs: re-parsing each of them every
        # 30 s (the default) was a third of an idle stack's CPU (4.7 -> 3.0 s a minute).
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
    }
    PRELOAD_TASK_LIBRARIES = True  # SCHEDULER_WITH_TASK_LIBRARIES instead of `airflow scheduler`
    STOP_GRACE_S = 20

    def __init__(
        self,
        pg_server: PgUrl,
        extra_env: dict[str, str] | None = None,
        parallelism: int = 4,
        dags_folder: Path | None = None,
        default_timezone: str | None = None,
        env_connections: bool = True,
    ) -> None:
        self.pg_server = pg_server
        self.dags_folder = dags_folder or REPO / "dags"
        self.home = Path(tempfile.mkdtemp(prefix="sync-apis-stack-"))
        self.port = free_port()
        self.log_port = free_port()
        self.trigger_log_port = free_port()
        self.meta: PgUrl | None = None
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.extra_env = dict(extra_env or {})
        self.parallelism = parallelism
        # Airflow's [core] default_timezone; None leaves it unset (Airflow's own default, UTC),
        # as in most deployments. Nothing in the bundle may depend on it.
        self.default_timezone = default_timezone
        # False for a stack shared by several tests: connections in the services' environment
        # would shadow the ones each test writes through the REST API (set_connections).
        self.env_connections = env_connections
        # One secret for all services: the api-server checks the tokens the scheduler signs.
        self.jwt_secret = f"test-stack-{uuid.uuid4().hex}"

    # -- lifecycle ---------------------------------------------------------------------------

    def inherited_environ(self) -> dict[str, str]:
        """What the services take from this process's environment (the suite's Airflow settings)."""
        return deployment_environ() if self.env_connections else deployment_environ("AIRFLOW_CONN_")

    def env(self) -> dict[str, str]:
        assert self.meta is not None
        env = self.inherited_environ()
        env.pop("AIRFLOW__CORE__DEFAULT_TIMEZONE", None)
        if self.default_timezone is not None:
            env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] = self.default_timezone
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.port}",
                "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.meta.sqlalchemy(),
                "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
                # The scheduler serves task logs on a fixed port by default (8793): a stack
                # started by `make run`, or a second test stack, must not collide with it.
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.log_port),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.trigger_log_port),
                "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
                **self.TUNING,
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> AirflowStack:
        self.meta = self._database()
        for name in self.SERVICES:
            args = [AIRFLOW, name] + (["--port", str(self.port)] if name == "api-server" else [])
            if name == "scheduler" and self.PRELOAD_TASK_LIBRARIES:
                args = [sys.executable, "-c", SCHEDULER_WITH_TASK_LIBRARIES, "scheduler"]
            log = open(self.home / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
            self.procs[name] = subprocess.Popen(
                args, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_healthy()
        return self

    def _database(self) -> PgUrl:
        """The stack's metadata database: a copy of ``_migrated()``, dropped by ``stop``."""
        return create_database(self.pg_server, "sync_apis_test_stack", template=self._migrated())

    def _migrated(self) -> PgUrl:
        """The database each stack starts from a copy of (``tests.support.airflow_meta``)."""
        return migrated_template(self.pg_server)

    def stop(self) -> None:
        stop_process_groups(self.procs.values(), grace_s=self.STOP_GRACE_S)
        if self.meta is not None:
            drop_database(self.pg_server, self.meta)
            self.meta = None

    def __enter__(self) -> AirflowStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.stop()
        if exc_type is None:
            # The logs stay for the rest of the process (an assertion after the block prints
            # them when it fails), then go; a stack whose block failed keeps them for a look.
            atexit.register(shutil.rmtree, self.home, ignore_errors=True)

    # -- helpers -----------------------------------------------------------------------------

    def log_files(self) -> dict[str, Path]:
        """Each started process's log, by the label ``logs`` prints above its tail."""
        return {name: self.home / f"{name}.log" for name in self.SERVICES}

    def logs(self, tail: int = 60) -> str:
        """The last ``tail`` lines of every process's log, for a failing assertion's message."""
        out = []
        for label, path in self.log_files().items():
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()[-tail:]
                out.append(f"==== {label} ====\n" + "\n".join(lines))
        return "\n".join(out)

    def cli(self, *args: str, timeout: float = 180) -> str:
        result = subprocess.run(
            [AIRFLOW, *args], env=self.env(), capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            command = " ".join(args)
            output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            raise AssertionError(f"airflow {command} exited {result.returncode}\n{output}")
        return result.stdout

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"airflow {name} exited with {proc.returncode}\n{self.logs()}")

    def _wait_healthy(self, timeout: float = 120) -> None:
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
        raise AssertionError(f"api-server not healthy after {timeout} s\n{self.logs()}")

    def query(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        assert self.meta is not None
        with psycopg.connect(self.meta.url, autocommit=True) as conn:
            return list(conn.execute(statement, params).fetchall())

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        """Until the dag-processor has serialized the DAG (a backfill needs it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            if self.query("SELECT 1 FROM serialized_dag WHERE dag_id = %s", (dag_id,)):
                return
            errors = self.query("SELECT filename, stacktrace FROM import_error")
            if errors:
                raise AssertionError(f"import errors: {errors}")
            time.sleep(1)
        raise AssertionError(f"{dag_id} was not parsed within {timeout} s\n{self.logs()}")

    def api(self, method: str, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> Any:
        """A call to the REST API (``/api/v2``), asserting its status: a fraction of the CPU of an
        ``airflow`` CLI process. With ``simple_auth_manager_all_admins`` no token is needed."""
        reply = requests.request(method, f"http://127.0.0.1:{self.port}/api/v2{path}", json=body, timeout=30)
        assert reply.status_code == expect, (
            f"{method} {path} answered {reply.status_code}: {reply.text[:2000]}"
        )
        return reply.json() if reply.content else None

    def set_connections(self, connections: dict[str, str]) -> None:
        """``AIRFLOW_CONN_<ID>`` JSON values written to the metadata database through the REST API,
        each replacing the connection of that id (a shared stack: one test's sandboxes, then the next's)."""
        existing = {c["connection_id"] for c in self.api("GET", "/connections?limit=1000")["connections"]}
        for name, value in connections.items():
            body = {"connection_id": name.removeprefix("AIRFLOW_CONN_").lower(), **json.loads(value)}
            assert "extra" not in body or isinstance(body["extra"], str), body  # the API takes text
            if body["connection_id"] in existing:
                self.api("DELETE", f"/connections/{body['connection_id']}", expect=204)
            self.api("POST", "/connections", body, expect=201)

    def forget_runs(self, *dag_ids: str, timeout: float = 120) -> None:
        """Delete every run of the DAGs (their task instances and XComs go with them), once none of
        their backfills is still active: a shared stack's next test then counts only its own runs."""
        deadline = time.monotonic() + timeout
        while self.query(
            "SELECT 1 FROM backfill WHERE dag_id = ANY(%s) AND completed_at IS NULL", (list(dag_ids),)
        ):
            assert time.monotonic() < deadline, f"a backfill of {dag_ids} still active\n{self.logs()}"
            time.sleep(1)
        for dag_id in dag_ids:
            for run in self.api("GET", f"/dags/{dag_id}/dagRuns?limit=1000")["dag_runs"]:
                self.api("DELETE", f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}", expect=204)

    def unpause(self, *dag_ids: str) -> None:
        """Wait until each DAG is parsed, then unpause it (tests' DAGs start paused).

        Through the REST API, as the UI's toggle does: an ``airflow dags unpause`` process costs
        ~2.5 s of CPU in imports (the README's CLI form runs in tests/support/readme_commands.py)."""
        for dag_id in dag_ids:
            self.wait_for_dag(dag_id)
            reply = self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})
            assert reply["is_paused"] is False, reply

    def wait_for_runs(self, dag_id: str, expected: int, timeout: float = 600) -> list[DagRunRow]:
        """Until ``expected`` runs of the DAG have finished; returns them, oldest first."""
        deadline = time.monotonic() + timeout
        rows: list[DagRunRow] = []
        while time.monotonic() < deadline:
            rows = [
                DagRunRow(*r)
                for r in self.query(
                    "SELECT run_id, state, run_type, data_interval_start, data_interval_end FROM dag_run "
                    "WHERE dag_id = %s ORDER BY data_interval_start",
                    (dag_id,),
                )
            ]
            finished = [r for r in rows if r.state in ("success", "failed")]
            if len(finished) >= expected and len(finished) == len(rows):
                return rows
            self._check_alive()
            time.sleep(2)
        raise AssertionError(f"runs of {dag_id} not finished within {timeout} s: {rows}\n{self.logs()}")

    def wait_for_backfills(self, dag_ids: list[str], expected: int, timeout: float = 600) -> None:
        """Until ``expected`` backfills of each DAG exist and the scheduler has marked them all
        complete (``backfill.completed_at``: none of their runs queued or running).

        Unlike counting finished runs, this also waits out a reprocessing backfill, whose runs
        were finished before it cleared them."""
        deadline = time.monotonic() + timeout
        rows: list[tuple[Any, ...]] = []
        while time.monotonic() < deadline:
            rows = self.query(
                "SELECT dag_id, count(*), count(completed_at) FROM backfill "
                "WHERE dag_id = ANY(%s) GROUP BY 1",
                (dag_ids,),
            )
            if sorted(rows) == sorted((d, expected, expected) for d in dag_ids):
                return
            self._check_alive()
            time.sleep(2)
        raise AssertionError(f"backfills of {dag_ids} not complete within {timeout} s: {rows}\n{self.logs()}")

    def max_concurrent_runs(self, dag_id: str) -> int:
        """The most runs of the DAG that were running at the same instant (from their start/end)."""
        spans = self.query(
            "SELECT start_date, end_date FROM dag_run WHERE dag_id = %s AND start_date IS NOT NULL", (dag_id,)
        )
        events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans if e is not None])
        best = current = 0
        for _, delta in events:
            current += delta
            best = max(best, current)
        return best
