"""``AIRFLOW_CONN_*`` values pointing the project's connection ids at sandboxes and a warehouse."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

AUVO_ROOT, AUVO_LOGIN, AUVO_PASSWORD = "/v2", "sandbox-api-key", "sandbox-api-token"
ETRAC_ROOT, ETRAC_LOGIN, ETRAC_PASSWORD = "/monitoramento", "sandbox@example.com", "1234567890123"


def sandbox_conn_json(base_url: str, root: str, login: str, password: str) -> str:
    """The JSON form of an http connection (the URI form silently turns https into http).

    HttpHook appends ``:port`` after ``host``, so scheme, port and path all go into ``host``.
    """
    return json.dumps(
        {"conn_type": "http", "host": f"{base_url}{root}", "login": login, "password": password}
    )


def auvo_conn_json(base_url: str) -> str:
    return sandbox_conn_json(base_url, AUVO_ROOT, AUVO_LOGIN, AUVO_PASSWORD)


def etrac_conn_json(base_url: str) -> str:
    return sandbox_conn_json(base_url, ETRAC_ROOT, ETRAC_LOGIN, ETRAC_PASSWORD)


def connection_env(*, warehouse: Any = None, auvo: Any = None, etrac: Any = None) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` pointing auvo_api / etrac_api / sync_apis_db at sandboxes and a warehouse."""
    env: dict[str, str] = {}
    if warehouse is not None:
        env["AIRFLOW_CONN_SYNC_APIS_DB"] = warehouse.airflow_conn_json()
    if auvo is not None:
        env["AIRFLOW_CONN_AUVO_API"] = auvo_conn_json(auvo.base_url)
    if etrac is not None:
        env["AIRFLOW_CONN_ETRAC_API"] = etrac_conn_json(etrac.base_url)
    return env


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set for the block, then as it was."""
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
