"""Which Airflow connections the stack manages, and what they contain (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


CONN_ENV_PREFIX = "AIRFLOW_CONN_"


def env_connections(env: Mapping[str, str]) -> list[str]:
    """Connection ids an AIRFLOW_CONN_<ID> variable defines. Airflow looks at these before the
    metadata DB, and its Connections page never lists them."""
    return sorted(
        key[len(CONN_ENV_PREFIX) :].lower()
        for key, value in env.items()
        if key.startswith(CONN_ENV_PREFIX) and value.strip()
    )


@dataclass(frozen=True)
class ConnectionPlan:
    """What `make run` does with auvo_api / etrac_api."""

    to_sandbox: frozenset[str]  # written (again) to point at the sandbox
    from_env: frozenset[str]  # an AIRFLOW_CONN_<ID> variable defines it: the tasks use that
    to_delete: frozenset[str]  # a sandbox connection we created earlier that a variable now overrides
    users_own: frozenset[str]  # in the metadata DB, not created by us: left untouched


def plan_api_connections(env: Mapping[str, str], existing: Mapping[str, str | None]) -> ConnectionPlan:
    """``existing`` maps the ids present in the metadata DB to their description.

    A connection the environment defines must not also appear, pointing at the sandbox, on the
    Connections page (the tasks would not use it): ours is deleted, the user's own is kept."""
    defined = set(env_connections(env))
    from_env = {c for c in API_CONN_IDS if c in defined}
    ours = {c for c in API_CONN_IDS if c in existing and existing[c] == SANDBOX_MARK}
    users_own = {c for c in API_CONN_IDS if c in existing and c not in ours and c not in from_env}
    return ConnectionPlan(
        to_sandbox=frozenset(c for c in API_CONN_IDS if c not in from_env and c not in users_own),
        from_env=frozenset(from_env),
        to_delete=frozenset(from_env & ours),
        users_own=frozenset(users_own),
    )


def without_warehouse_override(env: Mapping[str, str]) -> tuple[dict[str, str], bool]:
    """The environment for the stack's processes minus AIRFLOW_CONN_SYNC_APIS_DB, and whether it
    was set: `make run` always loads into its own warehouse (SYNC_APIS_DB_URL chooses the server),
    and a variable would silently win over the connection the Connections page shows."""
    name = env_var_for(WAREHOUSE_CONN_ID)
    return {k: v for k, v in env.items() if k != name}, bool(env.get(name, "").strip())
