"""Knobs of the local stack, read from environment variables (all optional)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from devstack.errors import DevstackError

# Addresses that mean "every interface": compared against, never bound here.
WILDCARD_HOSTS = ("0.0.0.0", "::")  # noqa: S104


@dataclass(frozen=True)
class Settings:
    airflow_host: str = "127.0.0.1"
    airflow_port: int = 8080
    auvo_port: int = 8081
    etrac_port: int = 8082
    # The scheduler (LocalExecutor) and triggerer serve task logs to the UI on these ports.
    log_server_port: int = 8793
    trigger_log_server_port: int = 8794
    db_url: str | None = None  # SYNC_APIS_DB_URL: a server the user runs; None = embedded PostgreSQL
    warehouse_db: str = "sync_apis"
    metadata_db: str = "airflow"
    bootstrap: bool = True  # first-run unpause + backfill of the sandbox-wired DAGs
    dag_parse_timeout_s: float = 120.0

    @property
    def ui_url(self) -> str:
        host = "localhost" if self.airflow_host in ("127.0.0.1", *WILDCARD_HOSTS) else self.airflow_host
        return f"http://{host}:{self.airflow_port}"

    @property
    def api_url(self) -> str:
        """Where our own processes reach the api-server (always loopback)."""
        host = "127.0.0.1" if self.airflow_host in (*WILDCARD_HOSTS, "localhost") else self.airflow_host
        return f"http://{host}:{self.airflow_port}"


def _port(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DevstackError(f"{name}={raw!r} is not a TCP port (1-65535)")
    return int(raw)


def settings_from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    db_url = env.get("SYNC_APIS_DB_URL", "").strip() or None
    if db_url is not None and not db_url.startswith(("postgresql://", "postgres://")):
        raise DevstackError(
            "SYNC_APIS_DB_URL must be a postgresql:// URL, e.g. postgresql://me:pw@localhost:5432/postgres"
        )
    return Settings(
        airflow_host=env.get("AIRFLOW_HOST", "").strip() or "127.0.0.1",
        airflow_port=_port(env, "AIRFLOW_PORT", 8080),
        auvo_port=_port(env, "SANDBOX_AUVO_PORT", 8081),
        etrac_port=_port(env, "SANDBOX_ETRAC_PORT", 8082),
        log_server_port=_port(env, "AIRFLOW_LOG_SERVER_PORT", 8793),
        trigger_log_server_port=_port(env, "AIRFLOW_TRIGGER_LOG_SERVER_PORT", 8794),
        db_url=db_url,
        warehouse_db=env.get("SYNC_APIS_WAREHOUSE_DB", "").strip() or "sync_apis",
        metadata_db=env.get("SYNC_APIS_METADATA_DB", "").strip() or "airflow",
        bootstrap=env.get("SYNC_APIS_BOOTSTRAP", "1").strip().lower() not in ("0", "false", "no", "off"),
        dag_parse_timeout_s=float(env.get("SYNC_APIS_DAG_PARSE_TIMEOUT", "") or 120),
    )
