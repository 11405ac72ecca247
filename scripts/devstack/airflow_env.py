"""The environment every Airflow process of the stack runs with (configuration by env vars only:
nothing is written into airflow.cfg, so deleting .local/airflow loses nothing but logs)."""

from __future__ import annotations

from devstack.database import PgServer
from devstack.layout import Layout
from devstack.settings import Settings
from devstack.state import ADMIN_USER, Secrets

SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def airflow_environment(
    base: dict[str, str], layout: Layout, settings: Settings, server: PgServer, secrets: Secrets
) -> dict[str, str]:
    env = dict(base)
    env.update(
        {
            "AIRFLOW_HOME": str(layout.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(layout.dags),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(layout.plugins),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # Dates typed without a zone (CLI, REST) become São Paulo midnights, so a backfill's range
            # reads as local days. Not needed for correctness (the timetable reads the date itself)
            # and not the UI's display zone: Airflow 3 removed [webserver] default_ui_timezone, the
            # UI shows the browser's time zone (user menu > Timezone to change it).
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "America/Sao_Paulo",
            "AIRFLOW__CORE__FERNET_KEY": secrets.fernet_key,
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(layout.passwords_file),
            # Task processes report back to the api-server; its default (localhost:8080) is wrong
            # as soon as AIRFLOW_PORT is changed.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{settings.api_url}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": server.sqlalchemy_url(settings.metadata_db),
            "AIRFLOW__API__HOST": settings.airflow_host,
            "AIRFLOW__API__PORT": str(settings.airflow_port),
            # The address people open the UI at: failure alerts link to task logs from it, and
            # its default (localhost:8080) is wrong as soon as AIRFLOW_PORT is changed. A value the
            # user exported (the UI behind another name) wins.
            "AIRFLOW__API__BASE_URL": base.get("AIRFLOW__API__BASE_URL") or settings.ui_url,
            # One worker is plenty on a laptop and starts in a few seconds instead of four.
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": secrets.api_secret_key,
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.jwt_secret,
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(settings.log_server_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(settings.trigger_log_server_port),
            # Pick up new/changed DAG files quickly while developing (defaults: 300 s / 30 s).
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            # e-Track history tasks queue in this pool (created with the connections).
            "AIRFLOW__SYNC_APIS__ETRAC_POOL": "etrac_api",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env
