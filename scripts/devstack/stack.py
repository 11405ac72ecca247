"""`run`: bring the whole local stack up in order, then supervise it until Ctrl+C / `make stop`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from devstack import processes
from devstack.airflow_env import airflow_environment
from devstack.bootstrap import run_bootstrap
from devstack.connections import (
    API_CONN_IDS,
    SANDBOX_MARK,
    WAREHOUSE_CONN_ID,
    env_connections,
    env_var_for,
    plan_api_connections,
    sandbox_connection,
    warehouse_connection,
    without_warehouse_override,
)
from devstack.database import PgServer, ensure_databases, server_from_url, start_embedded, stop_embedded
from devstack.errors import DevstackError
from devstack.layout import Layout
from devstack.ports import require_free_ports
from devstack.running import RunningStack, inherited, record_running, recorded_ui
from devstack.settings import Settings
from devstack.state import ADMIN_USER, load_or_create_admin_password, load_or_create_secrets

AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
SUPERVISOR = "devstack"


class StopRequestedError(Exception):
    """SIGTERM (from `make stop`) arrived; handled like Ctrl+C."""


@dataclass
class Stack:
    layout: Layout
    settings: Settings
    started_at: float = field(default_factory=time.monotonic)
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started_postgres: bool = False
    env: dict[str, str] = field(default_factory=dict)

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started_at:6.1f}s] {message}", flush=True)

    # -- steps ------------------------------------------------------------------------------

    def database(self) -> PgServer:
        if self.settings.db_url:
            server = server_from_url(self.settings.db_url)
            self.say(f"PostgreSQL: your server from SYNC_APIS_DB_URL ({server.host}:{server.port})")
        else:
            self.started_postgres = True
            server = start_embedded(self.layout.pgdata)
            pid = processes.read_pid(self.layout.pgdata / "postmaster.pid")
            if pid:
                self.layout.pid("postgres").write_text(f"{pid}\n")
            self.say(f"PostgreSQL: embedded, data in {self.layout.show(self.layout.pgdata)}")
        created = ensure_databases(server, [self.settings.warehouse_db, self.settings.metadata_db])
        if created:
            self.say(f"created databases: {', '.join(created)}")
        return server

    def airflow_cli(self, name: str, args: list[str], what: str) -> None:
        log = self.layout.log(name)
        with log.open("a") as fh:
            result = subprocess.run(
                [str(self.layout.airflow), *args],
                env=self.env,
                cwd=self.layout.repo,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        if result.returncode != 0:
            raise DevstackError(
                f"{what} failed (exit code {result.returncode}); the log is {self.layout.show(log)}:\n"
                + processes.tail(log)
            )

    def airflow_side(self, args: list[str], stdin: str | None = None) -> str:
        script = self.layout.repo / "scripts" / "devstack" / "airflow_side.py"
        result = subprocess.run(
            [str(self.layout.python), str(script), *args],
            env=self.env, cwd=self.layout.repo, input=stdin, capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            log = self.layout.log("connections")
            log.write_text(result.stdout + result.stderr)
            raise DevstackError(f"updating Airflow connections failed; see {self.layout.show(log)}")
        return result.stdout

    def wire_connections(self, server: PgServer) -> set[str]:
        """sync_apis_db always; auvo_api/etrac_api to the sandbox unless the user configured them
        (see connections.plan_api_connections). Returns the connection ids wired to the sandbox."""
        existing: dict[str, str | None] = json.loads(self.airflow_side(["describe", *API_CONN_IDS]))
        plan = plan_api_connections(self.env, existing)
        ports = {"auvo_api": self.settings.auvo_port, "etrac_api": self.settings.etrac_port}
        specs = {WAREHOUSE_CONN_ID: warehouse_connection(server, self.settings.warehouse_db)}
        specs.update({c: sandbox_connection(c, ports[c]) for c in sorted(plan.to_sandbox)})
        changes = {"upsert": specs, "delete": dict.fromkeys(sorted(plan.to_delete), SANDBOX_MARK)}
        self.airflow_side(["apply"], stdin=json.dumps(changes))
        for conn_id in API_CONN_IDS:
            if conn_id in plan.to_sandbox:
                self.say(f"connection {conn_id} -> sandbox {specs[conn_id]['host']}")
            elif conn_id in plan.from_env:
                deleted = " (the sandbox one make run had created is deleted)" * (conn_id in plan.to_delete)
                self.say(f"connection {conn_id}: yours, from {env_var_for(conn_id)}{deleted}")
            else:
                self.say(f"connection {conn_id}: yours (metadata DB), left untouched")
        self.say(f"connection {WAREHOUSE_CONN_ID} -> {server.display(self.settings.warehouse_db)}")
        from_env = env_connections(self.env)
        if from_env:
            self.say(
                "connections from environment variables (the tasks use these; Airflow's Connections "
                f"page does not list them): {', '.join(from_env)}"
            )
        return set(plan.to_sandbox)

    def start(self, name: str, argv: list[str]) -> None:
        self.children[name] = processes.spawn(self.layout, name, argv, self.env)

    def start_sandbox(self) -> None:
        s = self.settings
        require_free_ports(
            "127.0.0.1",
            {
                "Auvo sandbox": (s.auvo_port, "SANDBOX_AUVO_PORT"),
                "e-Track sandbox": (s.etrac_port, "SANDBOX_ETRAC_PORT"),
            },
        )
        argv = [
            str(self.layout.python),
            "-m",
            "sandbox",
            "--auvo-port",
            str(s.auvo_port),
            "--etrac-port",
            str(s.etrac_port),
        ]
        self.start("sandbox", argv)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.ensure_alive("sandbox")
            if all(_accepts("127.0.0.1", port) for port in (s.auvo_port, s.etrac_port)):
                self.say(f"sandbox APIs up on 127.0.0.1:{s.auvo_port} (Auvo) and :{s.etrac_port} (e-Track)")
                return
            time.sleep(0.2)
        raise DevstackError(
            f"the sandbox did not open its ports in 30 s; see {self.layout.show(self.layout.log('sandbox'))}"
        )

    def ensure_alive(self, name: str) -> None:
        code = self.children[name].poll()
        if code is not None:
            log = self.layout.log(name)
            raise DevstackError(
                f"{name} exited during start-up (exit code {code}); the log is {self.layout.show(log)}:\n"
                + processes.tail(log)
            )

    def wait_for_api(self, timeout_s: float = 180) -> None:
        url = f"{self.settings.api_url}/api/v2/monitor/health"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name in AIRFLOW_COMPONENTS:
                self.ensure_alive(name)
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - our own http:// URL
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1)
        raise DevstackError(
            f"the api-server did not answer {url} in {timeout_s:.0f} s; "
            f"see {self.layout.show(self.layout.log('api-server'))}"
        )

    # -- the whole run -------------------------------------------------------------------------

    def up(self) -> None:
        layout, s = self.layout, self.settings
        require_free_ports(
            s.airflow_host,
            {
                "Airflow api-server (UI)": (s.airflow_port, "AIRFLOW_PORT"),
                "scheduler log server": (s.log_server_port, "AIRFLOW_LOG_SERVER_PORT"),
                "triggerer log server": (s.trigger_log_server_port, "AIRFLOW_TRIGGER_LOG_SERVER_PORT"),
            },
        )
        server = self.database()
        secrets = load_or_create_secrets(layout.secrets_file)
        password = load_or_create_admin_password(layout.passwords_file)
        base, ignored_warehouse_var = without_warehouse_override(os.environ)
        if ignored_warehouse_var:
            self.say(
                f"{env_var_for(WAREHOUSE_CONN_ID)} is ignored: make run loads into its own warehouse "
                "(choose the PostgreSQL server with SYNC_APIS_DB_URL)"
            )
        self.env = airflow_environment(base, layout, s, server, secrets)

        t0 = time.monotonic()
        self.airflow_cli("db-migrate", ["db", "migrate"], "airflow db migrate")
        self.say(f"airflow db migrate done in {time.monotonic() - t0:.1f} s")

        # Airflow boots (~10 s) while we wire connections: they are only read when tasks run.
        self.start(
            "api-server",
            [str(layout.airflow), "api-server", "--host", s.airflow_host, "--port", str(s.airflow_port)],
        )
        for name in AIRFLOW_COMPONENTS[1:]:
            self.start(name, [str(layout.airflow), name])
        sandbox_wired = self.wire_connections(server)
        if sandbox_wired:
            self.start_sandbox()
        self.wait_for_api()
        # From here on `make shell` / `make airflow` / `make psql` can reach the stack.
        record_running(layout, RunningStack(s, server, inherited(base)))

        print(
            f"""
  Airflow UI   {s.ui_url}
  user         {ADMIN_USER}
  password     {password}      (kept in {layout.show(layout.passwords_file)})
  logs         {layout.show(layout.logs)}/{{{",".join(self.children)}}}.log
  task logs    {layout.show(layout.airflow_home / "logs")}
  CLI          in another terminal: `make shell`, `make airflow ARGS="dags list"`, `make psql`
  stop         Ctrl+C here, or `make stop` in another terminal
""",
            flush=True,
        )
        self.say(f"stack up in {time.monotonic() - self.started_at:.0f} s")
        if s.bootstrap:
            run_bootstrap(
                layout, self.env, server, s.metadata_db, sandbox_wired, s.dag_parse_timeout_s, self.say
            )

    def supervise(self) -> None:
        reported: set[str] = set()
        while True:
            for name, proc in self.children.items():
                code = proc.poll()
                if code is not None and name not in reported:
                    reported.add(name)
                    log = self.layout.log(name)
                    self.say(
                        f"WARNING: {name} exited (code {code}); the rest keeps running. "
                        f"Log: {self.layout.show(log)}\n{processes.tail(log, 8)}"
                    )
            time.sleep(1)

    def down(self) -> None:
        # A second Ctrl+C must not interrupt the clean-up half way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        running = {name: proc.pid for name, proc in self.children.items() if proc.poll() is None}
        if running:
            self.say(f"stopping {', '.join(running)} ...")
            killed = processes.stop_all(running)
            if killed:
                self.say(
                    f"had to kill {', '.join(killed)} (busy after 25 s; Airflow retries interrupted tasks)"
                )
        for name in self.children:
            self.layout.pid(name).unlink(missing_ok=True)
        if self.started_postgres and stop_embedded(self.layout.pgdata):
            self.say("embedded PostgreSQL stopped (data kept)")
        self.layout.pid("postgres").unlink(missing_ok=True)
        self.layout.stack_file.unlink(missing_ok=True)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _raise_stop(signum: int, frame: object) -> None:
    raise StopRequestedError()


def run(layout: Layout, settings: Settings) -> int:
    layout.make_dirs()
    alive = processes.recorded(layout)
    others = {name: pid for name, pid in alive.items() if name != "postgres"}
    if others:
        ui = recorded_ui(layout) or "?"
        listing = ", ".join(f"{name} (pid {pid})" for name, pid in others.items())
        print(
            f"The stack is already running: {listing}.\n"
            f"UI: {ui}. Stop it with `make stop` before starting it again.",
            file=sys.stderr,
        )
        return 1
    layout.pid(SUPERVISOR).write_text(f"{os.getpid()}\n")
    stack = Stack(layout, settings)
    # `make stop` sends SIGTERM; a closed terminal sends SIGHUP. Both mean: stop cleanly, like Ctrl+C.
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGHUP, _raise_stop)
    try:
        stack.up()
        stack.say("running; Ctrl+C to stop")
        stack.supervise()
    except DevstackError as exc:
        print(f"\nERROR: {exc}\n", file=sys.stderr, flush=True)
        return 1
    except (KeyboardInterrupt, StopRequestedError):
        print(flush=True)
        return 0
    finally:
        stack.down()
        layout.pid(SUPERVISOR).unlink(missing_ok=True)
    return 0
