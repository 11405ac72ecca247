"""`make run` end to end (scripts/devstack.py), plus its pure helpers.

The slow test runs the real thing in a throwaway copy of the repo: embedded PostgreSQL, the real
`python -m sandbox`, Airflow api-server/scheduler/dag-processor/triggerer on free ports, and two
tiny stand-in DAGs named like ours, so the first-run bootstrap (unpause + backfill) and task
execution through the api-server are exercised without depending on the real syncs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from requests.auth import HTTPBasicAuth

from tests.support.airflow_stack import free_port
from tests.support.pg import create_database, drop_database, server_url

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from devstack import processes  # noqa: E402 - scripts/ is not a package; path set just above
from devstack.airflow_env import airflow_environment  # noqa: E402
from devstack.bootstrap import LOCAL_TZ, backfill_window, local_today  # noqa: E402
from devstack.connections import (  # noqa: E402
    SANDBOX_MARK,
    WAREHOUSE_MARK,
    sandbox_connection,
    user_configured,
    warehouse_connection,
)
from devstack.database import PgServer, ensure_databases, server_from_url  # noqa: E402
from devstack.errors import DevstackError  # noqa: E402
from devstack.layout import Layout  # noqa: E402
from devstack.ports import port_is_free, require_free_ports  # noqa: E402
from devstack.settings import settings_from_env  # noqa: E402
from devstack.state import load_or_create_admin_password, load_or_create_secrets  # noqa: E402

PYTHON = sys.executable

# --------------------------------------------------------------------------- pure helpers


def test_port_check_sees_a_listener_and_its_release() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
        with pytest.raises(DevstackError) as err:
            require_free_ports("127.0.0.1", {"Airflow api-server (UI)": (port, "AIRFLOW_PORT")})
        assert f"port {port}" in str(err.value)
        assert "AIRFLOW_PORT=<port>" in str(err.value)
    assert port_is_free("127.0.0.1", port)


def test_sandbox_connection_puts_scheme_port_and_root_in_host() -> None:
    auvo = sandbox_connection("auvo_api", 18081)
    assert auvo == {
        "conn_type": "http",
        "host": "http://127.0.0.1:18081/v2",
        "login": "sandbox-api-key",
        "password": "sandbox-api-token",
        "description": SANDBOX_MARK,
    }
    etrac = sandbox_connection("etrac_api", 18082)
    assert etrac["host"] == "http://127.0.0.1:18082/monitoramento"
    assert (etrac["login"], etrac["password"]) == ("sandbox@example.com", "1234567890123")
    assert "port" not in auvo and "port" not in etrac


def test_sandbox_connection_gives_httphook_the_right_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.http.hooks.http import HttpHook

    spec = {k: v for k, v in sandbox_connection("etrac_api", 18082).items() if k != "description"}
    monkeypatch.setenv("AIRFLOW_CONN_ETRAC_API", json.dumps(spec))
    hook = HttpHook(method="POST", http_conn_id="etrac_api")
    session = hook.get_conn()
    assert hook.base_url == "http://127.0.0.1:18082/monitoramento"
    assert isinstance(session.auth, HTTPBasicAuth)
    assert (session.auth.username, session.auth.password) == ("sandbox@example.com", "1234567890123")


def test_user_configured_connections_are_left_alone() -> None:
    assert user_configured("auvo_api", {"AIRFLOW_CONN_AUVO_API": '{"conn_type": "http"}'}, {})
    assert user_configured("auvo_api", {}, {"auvo_api": "prod credentials"})
    assert user_configured("auvo_api", {}, {"auvo_api": None})
    assert not user_configured("auvo_api", {}, {"auvo_api": SANDBOX_MARK})
    assert not user_configured("auvo_api", {}, {"etrac_api": "prod"})
    assert not user_configured("auvo_api", {"AIRFLOW_CONN_AUVO_API": "  "}, {})


def test_server_from_url_and_the_urls_built_from_it() -> None:
    server = server_from_url("postgresql://me:p%40ss:w@db.example:6543/admin")
    assert (server.host, server.port, server.user, server.password) == ("db.example", 6543, "me", "p@ss:w")
    assert server.maintenance_db == "admin"
    assert server.sqlalchemy_url("airflow") == "postgresql+psycopg2://me:p%40ss%3Aw@db.example:6543/airflow"
    socket_server = server_from_url("postgresql://postgres@/postgres?host=/var/run/postgresql")
    assert socket_server.is_socket
    assert socket_server.maintenance_db == "postgres"
    assert (
        socket_server.sqlalchemy_url("airflow")
        == "postgresql+psycopg2://postgres@/airflow?host=/var/run/postgresql&port=5432"
    )
    wh = warehouse_connection(server, "sync_apis")
    assert wh == {
        "conn_type": "postgres",
        "host": "db.example",
        "port": 6543,
        "login": "me",
        "password": "p@ss:w",
        "schema": "sync_apis",
        "description": WAREHOUSE_MARK,
    }
    with pytest.raises(DevstackError):
        server_from_url("mysql://me@db/x")


def test_backfill_window_is_the_three_days_before_today() -> None:
    assert backfill_window(date(2025, 3, 13)) == (date(2025, 3, 10), date(2025, 3, 12))
    assert backfill_window(date(2025, 3, 1)) == (date(2025, 2, 26), date(2025, 2, 28))


def test_settings_reject_a_bad_port() -> None:
    with pytest.raises(DevstackError, match="AIRFLOW_PORT"):
        settings_from_env({"AIRFLOW_PORT": "80a"})
    settings = settings_from_env({"AIRFLOW_PORT": "9090", "SANDBOX_AUVO_PORT": "9091"})
    assert (settings.airflow_port, settings.auvo_port, settings.etrac_port) == (9090, 9091, 8082)


def test_secrets_and_password_are_generated_once_and_private(tmp_path: Path) -> None:
    first = load_or_create_secrets(tmp_path / "secrets.json")
    assert load_or_create_secrets(tmp_path / "secrets.json") == first
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    password = load_or_create_admin_password(tmp_path / "pw.json")
    assert len(password) >= 12
    assert load_or_create_admin_password(tmp_path / "pw.json") == password
    assert json.loads((tmp_path / "pw.json").read_text()) == {"admin": password}


def test_airflow_environment_follows_the_chosen_ports(tmp_path: Path) -> None:
    layout = Layout(repo=REPO, local=tmp_path)
    settings = settings_from_env({"AIRFLOW_PORT": "18080", "AIRFLOW_LOG_SERVER_PORT": "18793"})
    server = PgServer("/tmp/sock", 5432, "postgres", None, "postgres", embedded=True)
    env = airflow_environment(
        {"PATH": "/bin"}, layout, settings, server, load_or_create_secrets(tmp_path / "s")
    )
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "18793"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
        "postgresql+psycopg2://postgres@/airflow?host=/tmp/sock&port=5432"
    )
    assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "America/Sao_Paulo"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(
        tmp_path / "simple_auth_manager_passwords.json"
    )
    assert env["PATH"] == "/bin"


def test_ensure_databases_creates_only_missing_ones() -> None:
    pg = server_url()
    scratch = create_database(pg, "devstack_probe")  # gives a unique name; dropped and re-created below
    drop_database(pg, scratch)
    server = server_from_url(pg.url)
    try:
        assert ensure_databases(server, [scratch.dbname, "postgres"]) == [scratch.dbname]
        assert ensure_databases(server, [scratch.dbname]) == []
    finally:
        drop_database(pg, scratch)


def test_run_refuses_a_busy_port_quickly_and_says_which(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        env = _clean_env() | {"SYNC_APIS_LOCAL_DIR": str(tmp_path / "state"), "AIRFLOW_PORT": str(port)}
        result = subprocess.run(
            [PYTHON, str(REPO / "scripts" / "devstack.py"), "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"port {port} for the Airflow api-server (UI) is already in use" in result.stderr
    assert not (tmp_path / "state" / "pids" / "devstack.pid").exists()


def test_a_failed_migration_names_the_log_and_leaves_nothing_running(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = _clean_env() | {
        "SYNC_APIS_LOCAL_DIR": str(state),
        "AIRFLOW_PORT": str(free_port()),
        "AIRFLOW_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW_TRIGGER_LOG_SERVER_PORT": str(free_port()),
        # A broken setting the user passed through: Airflow refuses to start, so the migration fails.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "lots",
    }
    result = subprocess.run(
        [PYTHON, str(REPO / "scripts" / "devstack.py"), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert (
        f"airflow db migrate failed (exit code 1); the log is {state / 'logs' / 'db-migrate.log'}"
        in result.stderr
    )
    assert "SQL_ALCHEMY_POOL_SIZE" in result.stderr  # the tail of the log names the culprit
    assert list((state / "pids").glob("*.pid")) == []
    assert not (state / "pg" / "postmaster.pid").exists()  # the embedded server was stopped again


OLD_PYTHON = Path.home() / ".pyenv" / "versions" / "3.10.13" / "bin" / "python"


@pytest.mark.skipif(
    not OLD_PYTHON.exists(), reason="needs a Python 3.10 interpreter at ~/.pyenv/versions/3.10.13"
)
def test_an_old_python_gets_a_sentence_not_a_traceback() -> None:
    result = subprocess.run(
        [str(OLD_PYTHON), str(REPO / "scripts" / "devstack.py"), "run"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Python 3.11+ is required, this is 3.10" in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- end to end

STAND_IN_DAG = """
from datetime import datetime
from airflow.sdk import DAG, task

with DAG("{dag_id}", schedule="@daily", start_date=datetime(2025, 1, 1), catchup=False):
    @task
    def touch() -> str:
        return "{dag_id}"

    touch()
"""


def _clean_env() -> dict[str, str]:
    """The developer's environment minus anything Airflow- or stack-related (conftest sets AIRFLOW_*)."""
    prefixes = ("AIRFLOW", "SYNC_APIS_", "SANDBOX_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


class Run:
    """One `devstack.py run` in the background, output captured to a file."""

    def __init__(self, root: Path, env: dict[str, str], name: str) -> None:
        self.output = root / f"{name}.out"
        self.proc = subprocess.Popen(
            [PYTHON, "scripts/devstack.py", "run"],
            cwd=root,
            env=env,
            stdout=self.output.open("w"),
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.output.read_text()

    def wait_for_line(self, fragment: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if fragment in self.text():
                return
            assert self.proc.poll() is None, f"devstack exited early:\n{self.text()}"
            time.sleep(0.5)
        raise AssertionError(f"no {fragment!r} after {timeout_s} s:\n{self.text()}")


@pytest.fixture
def stack_copy(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "scripts", root / "scripts", ignore=ignore)
    shutil.copytree(REPO / "sandbox", root / "sandbox", ignore=ignore)
    (root / "plugins").mkdir()
    (root / "dags").mkdir()
    for dag_id in ("auvo_daily", "etrac_daily"):
        (root / "dags" / f"{dag_id}.py").write_text(STAND_IN_DAG.format(dag_id=dag_id))
    env = _clean_env() | {
        "SYNC_APIS_LOCAL_DIR": str(tmp_path / "state"),
        "AIRFLOW_PORT": str(free_port()),
        "SANDBOX_AUVO_PORT": str(free_port()),
        "SANDBOX_ETRAC_PORT": str(free_port()),
        "AIRFLOW_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW_TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "SYNC_APIS_DAG_PARSE_TIMEOUT": "90",
    }
    try:
        yield root, env
    finally:
        # Whatever happened, leave no process behind.
        subprocess.run(
            [PYTHON, "scripts/devstack.py", "stop"], cwd=root, env=env, capture_output=True, timeout=120
        )


def _api(env: dict[str, str], password: str) -> requests.Session:
    base = f"http://127.0.0.1:{env['AIRFLOW_PORT']}"
    reply = requests.post(f"{base}/auth/token", json={"username": "admin", "password": password}, timeout=10)
    assert reply.status_code == 201, reply.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
    session.base_url = base  # type: ignore[attr-defined]
    return session


def _get(api: requests.Session, path: str) -> Any:
    reply = api.get(f"{api.base_url}{path}", timeout=10)  # type: ignore[attr-defined]
    assert reply.status_code == 200, f"{path}: {reply.status_code} {reply.text}"
    return reply.json()


def _recorded_pids(state: Path) -> dict[str, int]:
    pids = {p.stem: int(p.read_text()) for p in (state / "pids").glob("*.pid")}
    pids["postmaster"] = int((state / "pg" / "postmaster.pid").read_text().splitlines()[0])
    return pids


def _local_day(timestamp: str) -> date:
    return datetime.fromisoformat(timestamp).astimezone(LOCAL_TZ).date()


def _wait_for_backfill_runs(api: requests.Session, dag_id: str, timeout_s: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = [
            r for r in _get(api, f"/api/v2/dags/{dag_id}/dagRuns")["dag_runs"] if r["run_type"] == "backfill"
        ]
        if len(runs) == 3 and all(r["state"] == "success" for r in runs):
            return runs
        time.sleep(2)
    raise AssertionError(f"{dag_id} backfill runs did not all succeed in {timeout_s} s: {runs}")


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_make_run_wires_everything_stops_cleanly_and_keeps_data(
    stack_copy: tuple[Path, dict[str, str]],
) -> None:
    root, env = stack_copy
    state = Path(env["SYNC_APIS_LOCAL_DIR"])
    started = time.monotonic()

    first = Run(root, env, "first")
    first.wait_for_line("running; Ctrl+C to stop", timeout_s=200)
    out = first.text()
    assert f"Airflow UI   http://localhost:{env['AIRFLOW_PORT']}" in out
    password = json.loads((state / "simple_auth_manager_passwords.json").read_text())["admin"]
    assert f"password     {password}" in out
    assert "auvo_daily: unpaused, backfill" in out and "etrac_daily: unpaused, backfill" in out
    print(f"first start (incl. bootstrap) took {time.monotonic() - started:.0f} s")

    # The api-server answers, and the connections are in the metadata DB (seen through the REST API).
    api = _api(env, password)
    auvo = _get(api, "/api/v2/connections/auvo_api")
    etrac = _get(api, "/api/v2/connections/etrac_api")
    warehouse = _get(api, "/api/v2/connections/sync_apis_db")
    assert (auvo["conn_type"], auvo["host"], auvo["login"], auvo["port"]) == (
        "http",
        f"http://127.0.0.1:{env['SANDBOX_AUVO_PORT']}/v2",
        "sandbox-api-key",
        None,
    )
    assert etrac["host"] == f"http://127.0.0.1:{env['SANDBOX_ETRAC_PORT']}/monitoramento"
    assert auvo["description"] == etrac["description"] == SANDBOX_MARK
    assert (warehouse["conn_type"], warehouse["schema"]) == ("postgres", "sync_apis")
    # The pool that throttles the e-Track API tasks exists (etrac_daily is configured to use it).
    assert _get(api, "/api/v2/pools/etrac_api")["slots"] == 2

    # The sandbox answers a login with the credentials the connections carry.
    login = requests.post(
        f"{auvo['host']}/login/",
        json={"apiKey": "sandbox-api-key", "apiToken": "sandbox-api-token"},
        timeout=10,
    )
    assert login.status_code == 200 and login.json()["result"]["authenticated"] is True
    fleet = requests.post(
        f"{etrac['host']}/ultimas-posicoes", auth=("sandbox@example.com", "1234567890123"), timeout=10
    )
    assert fleet.status_code == 200 and "retorno" in fleet.json()

    # First-run bootstrap: unpaused, one backfill of the three last local days, and tasks really ran
    # (through the execution API on a non-default port).
    first_day, last_day = backfill_window(local_today())
    for dag_id in ("auvo_daily", "etrac_daily"):
        assert _get(api, f"/api/v2/dags/{dag_id}")["is_paused"] is False
        backfills = _get(api, f"/api/v2/backfills?dag_id={dag_id}")["backfills"]
        assert len(backfills) == 1
        assert _local_day(backfills[0]["from_date"]) == first_day
        assert _local_day(backfills[0]["to_date"]) == last_day
        _wait_for_backfill_runs(api, dag_id, timeout_s=120)

    # Something a developer stored in the warehouse...
    wh_conn = {
        "host": warehouse["host"],
        "port": warehouse["port"],
        "user": warehouse["login"],
        "dbname": warehouse["schema"],
    }
    with psycopg.connect(**wh_conn, autocommit=True) as conn:
        conn.execute("CREATE TABLE devstack_probe (id int)")
        conn.execute("INSERT INTO devstack_probe VALUES (42)")

    # ...`stop` from "another terminal" ends every recorded process, the embedded Postgres included.
    pids = _recorded_pids(state)
    assert {"devstack", "api-server", "scheduler", "dag-processor", "triggerer", "sandbox"} <= set(pids)
    stop = subprocess.run(
        [PYTHON, "scripts/devstack.py", "stop"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert first.proc.wait(timeout=30) == 0
    still_alive = {name: pid for name, pid in pids.items() if processes.pid_alive(pid)}
    assert still_alive == {}
    assert list((state / "pids").glob("*.pid")) == []
    assert port_is_free("127.0.0.1", int(env["AIRFLOW_PORT"]))

    # A second run keeps the data, the password and does not bootstrap again.
    second = Run(root, env, "second")
    second.wait_for_line("running; Ctrl+C to stop", timeout_s=200)
    assert "unpaused, backfill" not in second.text()
    assert "created databases" not in second.text()
    with psycopg.connect(**wh_conn) as conn:
        assert conn.execute("SELECT id FROM devstack_probe").fetchall() == [(42,)]
    api = _api(env, password)
    assert _get(api, "/api/v2/backfills?dag_id=auvo_daily")["total_entries"] == 1

    # Starting it again while it runs is refused with a clear message.
    again = subprocess.run(
        [PYTHON, "scripts/devstack.py", "run"], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 1
    assert "already running" in again.stderr

    pids = _recorded_pids(state)
    stop = subprocess.run(
        [PYTHON, "scripts/devstack.py", "stop"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stop.returncode == 0
    assert second.proc.wait(timeout=30) == 0
    assert {name for name, pid in pids.items() if processes.pid_alive(pid)} == set()
    print(f"whole test took {time.monotonic() - started:.0f} s")
