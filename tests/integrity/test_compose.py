"""docker-compose.yaml, Dockerfile, .env.example and the warehouse init script agree with each other.

The structure is checked by reading the YAML; when the `docker-compose` binary is installed the
file is also validated by Compose itself with .env.example as the env file.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
LONG_RUNNING = ("postgres", "redis", *AIRFLOW_SERVICES[1:])
# One-off commands only (`docker compose run --rm airflow-cli airflow …`): a profile keeps it out of `up`.
CLI_SERVICE = "airflow-cli"
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
ADMIN_VARIABLES = (
    "AIRFLOW_ADMIN_USER",
    "AIRFLOW_ADMIN_PASSWORD",
    "AIRFLOW_ADMIN_EMAIL",
    "AIRFLOW_ADMIN_FIRSTNAME",
    "AIRFLOW_ADMIN_LASTNAME",
)
CONNECTIONS = ("AIRFLOW_CONN_AUVO_API", "AIRFLOW_CONN_ETRAC_API", "AIRFLOW_CONN_SYNC_APIS_DB")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # safe_load resolves the x-airflow-common anchors and `<<` merges, as Compose does.
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def env_example() -> dict[str, str]:
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, raw = line.partition("=")
            values[name.strip()] = shlex.split(raw)[0] if raw.strip() else ""
    return values


def test_every_service_is_there(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", "redis", *AIRFLOW_SERVICES, CLI_SERVICE}
    assert services[CLI_SERVICE]["profiles"] == ["cli"]
    assert all("profiles" not in services[name] for name in ("postgres", "redis", *AIRFLOW_SERVICES))


def test_one_postgres_for_metadata_and_warehouse(services: dict[str, Any]) -> None:
    postgres_like = [
        name for name, svc in services.items() if str(svc.get("image", "")).startswith("postgres")
    ]
    assert postgres_like == ["postgres"]
    pg = services["postgres"]
    assert pg["environment"]["POSTGRES_DB"] == "airflow"
    mounts = {m.split(":")[1]: m.split(":")[0] for m in pg["volumes"]}
    init = mounts["/docker-entrypoint-initdb.d/10-init-warehouse.sql"]
    assert init == "./include/docker/init-warehouse.sql"
    sql = (REPO / init).read_text()
    assert re.search(r"^\s*CREATE DATABASE sync_apis\s*;", sql, re.MULTILINE | re.IGNORECASE)


def test_celery_executor_with_redis_broker(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert (
            env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
            and "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
        )
        assert "@postgres:5432/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "America/Sao_Paulo"
        assert "AIRFLOW__CORE__PARALLELISM" in env
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert services["redis"]["image"].startswith("redis:")
    assert services["airflow-worker"]["command"] == "celery worker"


def test_image_is_built_from_the_dockerfile(services: dict[str, Any]) -> None:
    for name in (*AIRFLOW_SERVICES, CLI_SERVICE):
        build = services[name]["build"]
        assert (build["context"], build["dockerfile"]) == (".", "Dockerfile"), name
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11\s*$", dockerfile, re.MULTILINE)
    assert re.search(r"^COPY requirements\.txt ", dockerfile, re.MULTILINE)
    assert re.search(r"^RUN pip install --no-cache-dir -r \S*requirements\.txt\s*$", dockerfile, re.MULTILINE)
    assert re.search(r"^apache-airflow==3\.3\.2$", (REPO / "requirements.txt").read_text(), re.MULTILINE)


def test_connections_come_from_env(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        for conn in CONNECTIONS:
            assert env[conn].startswith("${" + conn), f"{name}: {conn} must be read from .env"


def test_code_is_mounted_not_baked(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        mounts = {m.split(":")[1]: m.split(":")[0] for m in services[name]["volumes"]}
        assert mounts["/opt/airflow/dags"] == "./dags", name
        assert mounts["/opt/airflow/plugins"] == "./plugins", name
        assert mounts["/opt/airflow/include"] == "./include", name


def test_healthchecks_and_start_order(services: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        assert services[name]["healthcheck"]["test"], name
    for name in AIRFLOW_SERVICES[1:]:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
    init_env = services["airflow-init"]["environment"]
    assert init_env["_AIRFLOW_DB_MIGRATE"] == "true"


def test_fab_auth_manager_for_every_airflow_service(services: dict[str, Any]) -> None:
    for name in (*AIRFLOW_SERVICES, CLI_SERVICE):
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__AUTH_MANAGER"] == FAB_AUTH_MANAGER, name
        # Leftovers of the SimpleAuthManager, and FAB's public role: with [fab] auth_role_public
        # anonymous visitors would count as logged in, and the data browser asks for nothing more.
        assert not [k for k in env if "SIMPLE_AUTH_MANAGER" in k or k == "AIRFLOW__FAB__AUTH_ROLE_PUBLIC"], (
            name
        )
    # The SimpleAuthManager's passwords file is gone with it.
    assert not [m for m in services["airflow-apiserver"]["volumes"] if "/opt/airflow/auth" in m]
    requirements = (REPO / "requirements.txt").read_text()
    # The image installs requirements.txt, so the auth manager class exists in every container.
    assert re.search(r"^apache-airflow-providers-fab==\d+\.\d+\.\d+$", requirements, re.MULTILINE)
    # flask-appbuilder (pinned by the FAB provider) requires python-dateutil < 3.
    assert re.search(r"^python-dateutil==2\.", requirements, re.MULTILINE)


def test_init_creates_the_admin_from_env_with_the_script_the_fab_test_runs(services: dict[str, Any]) -> None:
    init = services["airflow-init"]
    command = "\n".join(init["command"])
    # After the entrypoint's migration, the script (mounted with ./include) creates admin and pool.
    assert "exec /entrypoint bash /opt/airflow/include/docker/init-airflow.sh" in command
    script = (REPO / "include/docker/init-airflow.sh").read_text()
    assert "airflow users create" in script and "--role Admin" in script
    for variable in ADMIN_VARIABLES:
        assert init["environment"][variable].startswith("${" + variable), variable
        assert f"${{{variable}" in script, variable
    # The password only reaches the init container, and is required (no default).
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    for name in (*AIRFLOW_SERVICES[1:], CLI_SERVICE):
        assert not set(ADMIN_VARIABLES) & set(services[name]["environment"]), name
    # Not the entrypoint's own user creation: it ends in `|| true` and hides a failure.
    assert not [k for k in init["environment"] if k.startswith("_AIRFLOW_WWW_USER")]


def test_no_option_airflow_3_removed_or_renamed(services: dict[str, Any]) -> None:
    """Airflow ignores an option it dropped, silently. One such: [webserver] default_ui_timezone
    (the 3.x UI shows the browser's time zone; each user can pick another in the user menu)."""
    from airflow.cli.commands.config_command import CONFIGS_CHANGES

    gone = {
        f"AIRFLOW__{c.config.section}__{c.config.option}".upper()
        for c in CONFIGS_CHANGES
        if c.was_removed and not c.default_change
    }
    assert "AIRFLOW__WEBSERVER__DEFAULT_UI_TIMEZONE" in gone
    for name in (*AIRFLOW_SERVICES, CLI_SERVICE):
        assert set(services[name]["environment"]) & gone == set(), name


def test_env_example_documents_every_variable_compose_uses() -> None:
    # "$${HOSTNAME}" is an escaped dollar (expanded inside the container), not a Compose variable.
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", (REPO / "docker-compose.yaml").read_text()))
    documented = env_example()
    assert used - set(documented) == set()


def test_env_example_connections_are_json_with_https_hosts() -> None:
    values = env_example()
    auvo = json.loads(values["AIRFLOW_CONN_AUVO_API"])
    etrac = json.loads(values["AIRFLOW_CONN_ETRAC_API"])
    warehouse = json.loads(values["AIRFLOW_CONN_SYNC_APIS_DB"])
    assert (auvo["conn_type"], auvo["host"]) == ("http", "https://api.auvo.com.br/v2")
    assert (etrac["conn_type"], etrac["host"]) == ("http", "https://api.etrac.com.br/monitoramento")
    assert "port" not in auvo and "port" not in etrac
    assert (warehouse["conn_type"], warehouse["host"], warehouse["schema"]) == (
        "postgres",
        "postgres",
        "sync_apis",
    )
    assert warehouse["password"] == values["POSTGRES_PASSWORD"]


def compose_config(env_file: Path) -> dict[str, Any]:
    """The file as Compose itself renders it with that env file (variables filled in)."""
    result = subprocess.run(
        ["docker-compose", "-f", str(REPO / "docker-compose.yaml"), "--env-file", str(env_file), "config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return dict(yaml.safe_load(result.stdout))


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose binary not installed")
def test_compose_itself_accepts_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    shutil.copy(REPO / ".env.example", env_file)
    rendered = compose_config(env_file)
    worker_env = rendered["services"]["airflow-worker"]["environment"]
    # Compose must hand the JSON through untouched (quotes stripped, nothing interpolated).
    assert json.loads(worker_env["AIRFLOW_CONN_AUVO_API"])["host"] == "https://api.auvo.com.br/v2"
    assert worker_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert worker_env["DUMB_INIT_SETSID"] == "0"
    assert worker_env["AIRFLOW__CORE__AUTH_MANAGER"] == FAB_AUTH_MANAGER
    assert worker_env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "America/Sao_Paulo"
    # The admin of .env reaches airflow-init ...
    init_env = rendered["services"]["airflow-init"]["environment"]
    example = env_example()
    for variable in ADMIN_VARIABLES:
        assert init_env[variable] == example[variable], variable
    # ... and an older .env without e-mail and names still works (defaults).
    optional = ("AIRFLOW_ADMIN_EMAIL", "AIRFLOW_ADMIN_FIRSTNAME", "AIRFLOW_ADMIN_LASTNAME")
    lines = env_file.read_text().splitlines()
    env_file.write_text("\n".join(line for line in lines if not line.startswith(optional)))
    init_env = compose_config(env_file)["services"]["airflow-init"]["environment"]
    assert [init_env[v] for v in optional] == ["admin@example.com", "Airflow", "Admin"]
