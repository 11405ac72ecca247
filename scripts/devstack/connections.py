"""Which Airflow connections the stack manages, and what they contain (pure functions)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from devstack.database import PgServer

SANDBOX_MARK = "sandbox (managed by make run)"
WAREHOUSE_MARK = "warehouse (managed by make run)"
API_CONN_IDS = ("auvo_api", "etrac_api")
WAREHOUSE_CONN_ID = "sync_apis_db"

# What the sandbox servers accept by default (see sandbox/): no real credentials anywhere.
SANDBOX_CREDENTIALS = {
    "auvo_api": ("sandbox-api-key", "sandbox-api-token"),
    "etrac_api": ("sandbox@example.com", "1234567890123"),
}
SANDBOX_API_ROOTS = {"auvo_api": "/v2", "etrac_api": "/monitoramento"}

ConnSpec = dict[str, Any]


def env_var_for(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def sandbox_connection(conn_id: str, port: int) -> ConnSpec:
    login, password = SANDBOX_CREDENTIALS[conn_id]
    return {
        "conn_type": "http",
        # HttpHook builds its base URL as host + ":" + port when port is set, so scheme, port and
        # API root all go into host and port stays empty.
        "host": f"http://127.0.0.1:{port}{SANDBOX_API_ROOTS[conn_id]}",
        "login": login,
        "password": password,
        "description": SANDBOX_MARK,
    }


def warehouse_connection(server: PgServer, dbname: str) -> ConnSpec:
    spec: ConnSpec = {
        "conn_type": "postgres",
        "host": server.host,  # a unix socket directory for the embedded server; libpq accepts both
        "port": server.port,
        "login": server.user,
        "schema": dbname,  # Airflow's postgres connection keeps the database name in `schema`
        "description": WAREHOUSE_MARK,
    }
    if server.password:
        spec["password"] = server.password
    return spec


def user_configured(conn_id: str, env: Mapping[str, str], existing: Mapping[str, str | None]) -> bool:
    """True when the user set this connection up themselves: an AIRFLOW_CONN_* env var, or a
    connection in the metadata DB that this script did not create (its description is not ours)."""
    if env.get(env_var_for(conn_id), "").strip():
        return True
    return conn_id in existing and existing[conn_id] != SANDBOX_MARK


def to_json(specs: Mapping[str, ConnSpec]) -> str:
    return json.dumps(specs)
