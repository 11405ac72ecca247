"""Airflow's api-server app serving the data browser, for the browser tests.

The ``airflow_app`` fixture (tests/browser/conftest.py) builds it over the session's loaded
warehouse; a module that needs a warehouse of its own (test_browser_warnings.py) builds it with
``browser_app`` and overrides ``airflow_app``, and the conftest's ``client`` and ``token`` follow.
``USERS`` are the simple auth manager's users and passwords the app accepts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.pg import PgUrl

USERS = {"admin": "admin-pass-for-tests", "viewer": "viewer-pass-for-tests"}


@contextmanager
def browser_app(warehouse: PgUrl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Airflow's api-server app whose browser reads ``warehouse`` (a module may override
    ``airflow_app`` with its own warehouse; ``client`` and ``token`` then follow it)."""
    from airflow.configuration import conf

    passwords = Path(tmp_path_factory.mktemp("auth")) / "passwords.json"
    passwords.write_text(json.dumps(USERS))
    settings = {
        ("core", "simple_auth_manager_all_admins"): "False",
        ("core", "simple_auth_manager_users"): "admin:admin,viewer:viewer",
        ("core", "simple_auth_manager_passwords_file"): str(passwords),
        ("api_auth", "jwt_secret"): "browser-tests-jwt-secret",
        ("api", "base_url"): "http://testserver",
    }
    saved = {k: conf.get(*k, fallback=None) for k in settings}
    for (section, key), value in settings.items():
        conf.set(section, key, value)
    env_saved = os.environ.get("AIRFLOW_CONN_SYNC_APIS_DB")
    os.environ["AIRFLOW_CONN_SYNC_APIS_DB"] = warehouse.airflow_conn_json()
    try:
        from airflow.api_fastapi.app import create_app, purge_cached_app

        purge_cached_app()
        yield create_app()
    finally:
        purge_cached_app()
        for (section, key), value in saved.items():
            if value is None:
                conf.remove_option(section, key)
            else:
                conf.set(section, key, value)
        if env_saved is None:
            os.environ.pop("AIRFLOW_CONN_SYNC_APIS_DB", None)
        else:
            os.environ["AIRFLOW_CONN_SYNC_APIS_DB"] = env_saved
