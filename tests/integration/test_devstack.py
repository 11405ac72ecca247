"""`make run` end to end (scripts/devstack.py), plus its pure helpers.

The slow test runs the real thing in a throwaway copy of the repo: embedded PostgreSQL, the real
`python -m sandbox`, Airflow api-server/scheduler/dag-processor/triggerer on free ports, and two
tiny stand-in DAGs named like ours, so the first-run bootstrap (unpause + backfill) and task
execution through the api-server are exercised without depending on the real syncs. While the
first start runs, every command of both READMEs is pasted into another terminal
(tests/support/readme_commands.py): one `make run` serves both, as a start costs a minute.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
import requests
from requests.auth import HTTPBasicAuth

from tests.support.airflow_stack import free_port
from tests.support.devstack import (
    STAND_IN_DAG_IDS,
    Run,
    get,
    local_day,
    wait_for_backfill_runs,
    without_ports,
)
from tests.support.devstack import api as rest_api
from tests.support.devstack import clean_env as _clean_env
from tests.support.devstack import stack_copy as devstack_copy
from tests.support.pg import create_database, drop_database, server_url
from tests.support.readme_commands import run_every_readme_command

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from devstack import processes  # noqa: E402 - scripts/ is not a package; path set just above
from devstack.airflow_env import airflow_environment  # noqa: E402
from devstack.bootstrap import backfill_window, local_today  # noqa: E402
from devstack.connections import (  # noqa: E402
    SANDBOX_MARK,
    WAREHOUSE_MARK,
    env_connections,
    plan_api_connections,
    sandbox_connection,
    warehouse_connection,
    without_warehouse_override,
)
from devstack.database import PgServer, ensure_databases, server_from_url  # noqa: E402
from devstack.errors import DevstackError  # noqa: E402
from devstack.layout import Layout  # noqa: E402
from devstack.ports import port_is_free, require_free_ports  # noqa: E402
from devstack.running import (  # noqa: E402
    RunningStack,
    changed_variables,
    cli_environment,
    load_running,
    record_running,
)
from devstack.settings import settings_from_env  # noqa: E402
from devstack.state import load_or_create_admin_password, load_or_create_secrets  # noqa: E402

PYTHON = sys.executable


def _devstack(
    command: list[str], env: dict[str, str] | None = None, python: str = PYTHON, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """scripts/devstack.py as `make` runs it, output captured."""
    return subprocess.run(
        [python, str(REPO / "scripts" / "devstack.py"), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


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
        # A ready-to-type line that moves the busy port to a free one.
        suggested = int(str(err.value).split("For example: AIRFLOW_PORT=")[1].split()[0])
        assert suggested > port and port_is_free("127.0.0.1", suggested)
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


def test_a_connection_the_environment_defines_replaces_the_sandbox_one() -> None:
    etrac_from_env = {"AIRFLOW_CONN_ETRAC_API": '{"conn_type": "http"}'}
    # An earlier make run created both sandbox connections; now a variable defines etrac_api.
    plan = plan_api_connections(etrac_from_env, {"auvo_api": SANDBOX_MARK, "etrac_api": SANDBOX_MARK})
    assert plan.to_sandbox == {"auvo_api"}
    assert plan.from_env == {"etrac_api"}
    assert plan.to_delete == {"etrac_api"}  # else the Connections page shows a sandbox nobody uses
    assert plan.users_own == set()
    # A connection the user created in the metadata DB is never deleted, variable or not.
    plan = plan_api_connections(etrac_from_env, {"etrac_api": "prod credentials"})
    assert (plan.to_sandbox, plan.from_env, plan.to_delete) == ({"auvo_api"}, {"etrac_api"}, set())


def test_connections_the_user_created_are_left_alone() -> None:
    plan = plan_api_connections({}, {"auvo_api": "prod credentials", "etrac_api": None})
    assert plan.users_own == {"auvo_api", "etrac_api"}
    assert plan.to_sandbox == plan.to_delete == plan.from_env == set()
    plan = plan_api_connections({"AIRFLOW_CONN_AUVO_API": "  "}, {"auvo_api": SANDBOX_MARK})
    assert plan.to_sandbox == {"auvo_api", "etrac_api"}  # a blank variable defines nothing
    assert plan.to_delete == set()


def test_env_connections_and_the_ignored_warehouse_variable() -> None:
    env = {
        "AIRFLOW_CONN_ETRAC_API": "{}",
        "AIRFLOW_CONN_SMTP_ALERTS": "smtp://x",
        "AIRFLOW_CONN_EMPTY": "",
        "AIRFLOW__CORE__X": "1",
        "AIRFLOW_CONN_SYNC_APIS_DB": "postgres://elsewhere/db",
    }
    assert env_connections(env) == ["etrac_api", "smtp_alerts", "sync_apis_db"]
    kept, ignored = without_warehouse_override(env)
    assert ignored is True
    assert "AIRFLOW_CONN_SYNC_APIS_DB" not in kept
    assert kept["AIRFLOW_CONN_ETRAC_API"] == "{}"
    assert without_warehouse_override({"PATH": "/bin"}) == ({"PATH": "/bin"}, False)


def _fake_running_stack(state: Path, supervisor_pid: int) -> tuple[Layout, RunningStack]:
    """State as a running `make run` leaves it: secrets, stack.json and a live supervisor pid."""
    layout = Layout(repo=REPO, local=state)
    layout.make_dirs()
    load_or_create_secrets(layout.secrets_file)
    settings = settings_from_env({"AIRFLOW_PORT": "18080", "AIRFLOW_LOG_SERVER_PORT": "18793"})
    server = PgServer("/tmp/sock", 5433, "postgres", None, "postgres", embedded=True)
    running = RunningStack(settings, server, {"AIRFLOW_CONN_ETRAC_API": '{"conn_type": "http"}'})
    record_running(layout, running)
    layout.pid("devstack").write_text(f"{supervisor_pid}\n")
    return layout, running


def test_the_cli_environment_is_the_stacks_own(tmp_path: Path) -> None:
    layout, running = _fake_running_stack(tmp_path / "state", os.getpid())
    assert stat.S_IMODE(layout.stack_file.stat().st_mode) == 0o600  # may hold the user's secrets
    assert load_running(layout) == running
    current = {
        "PATH": "/usr/bin",
        "HOME": "/home/me",
        "AIRFLOW_HOME": "/home/me/airflow",  # a stale setting of this shell
        "AIRFLOW__CORE__LOAD_EXAMPLES": "True",
    }
    env = cli_environment(layout, running, current)
    stack_env = airflow_environment(
        {"HOME": "/home/me", **running.inherited_env},
        layout,
        running.settings,
        running.server,
        load_or_create_secrets(layout.secrets_file),
    )
    airflow_vars = {k: v for k, v in env.items() if k.startswith("AIRFLOW")}
    assert airflow_vars == {k: v for k, v in stack_env.items() if k.startswith("AIRFLOW")}
    assert env["AIRFLOW_HOME"] == str(tmp_path / "state" / "airflow")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__API__PORT"] == "18080"  # from stack.json, not from this shell
    assert env["AIRFLOW__API__BASE_URL"] == "http://localhost:18080"  # alerts link to logs there
    assert env["AIRFLOW_CONN_ETRAC_API"] == '{"conn_type": "http"}'  # what make run's shell had
    path = env["PATH"].split(os.pathsep)
    assert path[0] == str(layout.airflow.parent) and path[-1] == "/usr/bin"
    assert (Path(path[1]) / "psql").exists()
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"]) == (
        "/tmp/sock",
        "5433",
        "postgres",
        "sync_apis",
    )
    assert "PGPASSWORD" not in env
    exports, unsets = changed_variables(env, current | {"AIRFLOW_STRAY": "x"})
    assert unsets == ["AIRFLOW_STRAY"]
    assert exports["AIRFLOW_HOME"] == env["AIRFLOW_HOME"] and "HOME" not in exports


def test_env_lines_evaluate_to_the_stack_environment_in_bash(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with subprocess.Popen(["sleep", "60"]) as supervisor:
        try:
            layout, _ = _fake_running_stack(state, supervisor.pid)
            env = _clean_env() | {"SYNC_APIS_LOCAL_DIR": str(state), "AIRFLOW_HOME": "/stale"}
            script = (
                f'eval "$({PYTHON} {REPO}/scripts/devstack.py env)" && '
                'echo "$AIRFLOW_HOME|$AIRFLOW__CORE__FERNET_KEY|$AIRFLOW_CONN_ETRAC_API|$PGDATABASE" && '
                "command -v airflow psql"
            )
            result = subprocess.run(
                ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60
            )
        finally:
            supervisor.kill()
    assert result.returncode == 0, result.stderr
    fernet = json.loads(layout.secrets_file.read_text())["fernet_key"]
    first, airflow, psql = result.stdout.splitlines()
    assert first == f'{state / "airflow"}|{fernet}|{{"conn_type": "http"}}|sync_apis'
    assert airflow == str(Path(PYTHON).parent / "airflow")
    assert psql.endswith("/bin/psql")


@pytest.mark.parametrize(
    "command", [["env"], ["shell"], ["airflow", "dags", "list"], ["psql", "-c", "SELECT 1"]]
)
def test_the_ways_into_the_stack_say_when_none_runs(tmp_path: Path, command: list[str]) -> None:
    env = _clean_env() | {"SYNC_APIS_LOCAL_DIR": str(tmp_path / "state")}
    result = _devstack(command, env)
    assert result.returncode == 1
    assert "no `make run` stack is running" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # `eval "$(... env)"` then does nothing


def test_make_status_and_make_airflow_without_a_stack(tmp_path: Path) -> None:
    env = _clean_env() | {"SYNC_APIS_LOCAL_DIR": str(tmp_path / "state")}
    status = subprocess.run(["make", "-s", "status"], cwd=REPO, env=env, capture_output=True, text=True)
    assert (status.returncode, status.stdout.strip(), status.stderr) == (0, "not running", "")
    airflow = subprocess.run(
        ["make", "-s", "airflow", "ARGS=dags list"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert airflow.returncode != 0
    assert "no `make run` stack is running" in airflow.stderr
    assert "Traceback" not in airflow.stderr


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
        result = _devstack(["run"], env)
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
    result = _devstack(["run"], env, timeout=120)
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
    result = _devstack(["run"], python=str(OLD_PYTHON))
    assert result.returncode == 1
    assert "Python 3.11+ is required, this is 3.10" in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- end to end


@pytest.fixture
def stack_copy(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    with devstack_copy(tmp_path) as copy:
        yield copy


def _recorded_pids(state: Path) -> dict[str, int]:
    pids = {p.stem: int(p.read_text()) for p in (state / "pids").glob("*.pid")}
    pids["postmaster"] = int((state / "pg" / "postmaster.pid").read_text().splitlines()[0])
    return pids


@pytest.mark.slow
@pytest.mark.timeout(900)
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
    api = rest_api(env, password)
    auvo = get(api, "/api/v2/connections/auvo_api")
    etrac = get(api, "/api/v2/connections/etrac_api")
    warehouse = get(api, "/api/v2/connections/sync_apis_db")
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
    assert get(api, "/api/v2/pools/etrac_api")["slots"] == 2

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
    for dag_id in STAND_IN_DAG_IDS:
        assert get(api, f"/api/v2/dags/{dag_id}")["is_paused"] is False
        backfills = get(api, f"/api/v2/backfills?dag_id={dag_id}")["backfills"]
        assert len(backfills) == 1
        assert local_day(backfills[0]["from_date"]) == first_day
        assert local_day(backfills[0]["to_date"]) == last_day
        wait_for_backfill_runs(api, dag_id, expected=3, timeout_s=120)

    # Another terminal, without the port variables make run was given: `make shell` reaches the
    # stack's Airflow (its metadata DB and DAGs) and psql opens the warehouse without arguments.
    shell = subprocess.run(
        ["make", "-s", "shell"],
        cwd=root,
        env=without_ports(env),
        input="set -e\nairflow dags list -o plain\npsql -tAc 'SELECT current_database()'\nexit\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.returncode == 0, shell.stdout + shell.stderr
    listed = [line.split()[0] for line in shell.stdout.splitlines() if line.strip()]
    assert set(STAND_IN_DAG_IDS) <= set(listed)
    assert listed[-1] == "sync_apis"
    assert "A shell wired to the stack at" in shell.stderr

    # Every README command, as a reader pastes it. Among them `connections delete auvo_api` and
    # `connections add auvo_api …`: from then on that connection is the user's own.
    run_every_readme_command(root, env, api)
    readme_auvo = get(api, "/api/v2/connections/auvo_api")
    backfills = {d: get(api, f"/api/v2/backfills?dag_id={d}")["total_entries"] for d in STAND_IN_DAG_IDS}
    assert backfills == dict.fromkeys(STAND_IN_DAG_IDS, 2)  # the first run's and the README's

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

    # With nothing running, the ways into the stack say so; `status` answers without failing.
    status = subprocess.run(
        ["make", "-s", "status"], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert (status.returncode, status.stdout.strip()) == (0, "not running")
    cli = subprocess.run(
        ["make", "-s", "airflow", "ARGS=dags list"], cwd=root, env=env, capture_output=True, text=True
    )
    assert cli.returncode != 0 and "no `make run` stack is running" in cli.stderr

    # A second run keeps the data, the password and does not bootstrap again. This time the shell
    # defines etrac_api itself: the sandbox connection of that id disappears from the metadata DB
    # (the Connections page), and the start-up output says where the connection comes from.
    etrac_env = json.dumps(
        sandbox_connection("etrac_api", int(env["SANDBOX_ETRAC_PORT"]))
        | {"login": "from-env@example.com", "description": "from the environment"}
    )
    second_env = env | {"AIRFLOW_CONN_ETRAC_API": etrac_env}
    second = Run(root, second_env, "second")
    second.wait_for_line("running; Ctrl+C to stop", timeout_s=200)
    out = second.text()
    assert "unpaused, backfill" not in out
    assert "created databases" not in out
    assert "connection auvo_api: yours (metadata DB), left untouched" in out
    assert (
        "connection etrac_api: yours, from AIRFLOW_CONN_ETRAC_API "
        "(the sandbox one make run had created is deleted)" in out
    )
    assert (
        "connections from environment variables (the tasks use these; Airflow's Connections "
        "page does not list them): etrac_api" in out
    )
    with psycopg.connect(**wh_conn) as conn:
        assert conn.execute("SELECT id FROM devstack_probe").fetchall() == [(42,)]
    api = rest_api(env, password)
    assert {d: get(api, f"/api/v2/backfills?dag_id={d}")["total_entries"] for d in backfills} == backfills
    listed = {c["connection_id"]: c for c in get(api, "/api/v2/connections")["connections"]}
    assert set(listed) == {"auvo_api", "sync_apis_db"}
    # The connection the README's commands made is the user's: kept as it was, not the sandbox's.
    assert {k: listed["auvo_api"][k] for k in ("host", "login", "description")} == {
        k: readme_auvo[k] for k in ("host", "login", "description")
    }
    assert listed["auvo_api"]["description"] != SANDBOX_MARK
    # Another terminal gets the variable make run was started with, not just the stack's settings.
    shell = subprocess.run(
        [
            "bash",
            "-c",
            f'eval "$({PYTHON} scripts/devstack.py env)" && airflow connections get etrac_api -o json',
        ],
        cwd=root,
        env=without_ports(env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.returncode == 0, shell.stderr
    assert json.loads(shell.stdout)[0]["login"] == "from-env@example.com"

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
