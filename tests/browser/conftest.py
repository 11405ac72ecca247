"""Fixtures for the data browser: a warehouse loaded by the real DAGs, Airflow's own API app.

``loaded_warehouse`` runs ``auvo_daily`` and ``etrac_daily`` with ``dag.test()`` for one sandbox
day into a fresh database, once per session (nothing writes to it afterwards). ``airflow_app`` is
Airflow's api-server app (``airflow.api_fastapi.app.create_app``: the same plugin mounting, auth
manager and middleware as ``airflow api-server``) with the simple auth manager's login on (not
"all admins"), so requests without a token really are anonymous; ``tests.support.browser_app``
builds it, so that a module with a warehouse of its own can build another.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
import pytest

from tests.support.airflow_env import load_dagbag
from tests.support.auvo_world import FAST
from tests.support.browser_app import USERS, browser_app
from tests.support.browser_routes import PREFIX
from tests.support.connections import connection_env
from tests.support.pg import PgUrl, create_database, drop_database
from tests.support.sandboxes import BROWSER_DAY, small_auvo_server, small_etrac_server


@dataclass
class Warehouse:
    url: PgUrl
    day: date
    runs: dict[str, str]
    """dag_id -> run_id of the run that loaded ``day``."""

    def q(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url.url) as conn:
            conn.execute("SET TIME ZONE 'America/Sao_Paulo'")
            return conn.execute(statement, params).fetchall()

    def fingerprint(self) -> list[tuple[Any, ...]]:
        """Counts and checksums that any write to the warehouse would change."""
        return self.q(
            "SELECT (SELECT count(*) FROM sync_meta.watermarks),"
            " (SELECT md5(string_agg(name, ',' ORDER BY user_id)) FROM auvo.users),"
            " (SELECT count(*) FROM e_track.positions), (SELECT count(*) FROM sync_meta.sync_runs),"
            " (SELECT count(*) FROM information_schema.columns"
            "   WHERE table_schema = 'auvo' AND table_name = 'tasks'),"
            " to_regclass('e_track.routes') IS NOT NULL, to_regclass('sync_meta.intruder') IS NULL,"
            " (SELECT count(*) FROM pg_tables WHERE schemaname IN ('auvo', 'e_track', 'sync_meta'))"
        )


@pytest.fixture(scope="session")
def loaded_warehouse(pg_server: PgUrl, airflow_db: PgUrl) -> Iterator[Warehouse]:
    db = create_database(pg_server, "sync_apis_test_browser")
    try:
        with small_auvo_server() as auvo, small_etrac_server() as etrac:
            env = connection_env(warehouse=db, auvo=auvo, etrac=etrac)
            with pytest.MonkeyPatch.context() as mp:
                for key, value in env.items():
                    mp.setenv(key, value)
                from airflow._shared.timezones.timezone import parse

                runs = {}
                for dag_id in ("auvo_daily", "etrac_daily"):
                    dag = load_dagbag().get_dag(dag_id)
                    for task in dag.tasks:
                        task.retries = 0
                    # FAST: the pacer and the 801-day task range would add ~75 s of waiting and
                    # change nothing the pages show (the world lies within +- 30 days).
                    conf = FAST if dag_id == "auvo_daily" else {}
                    run = dag.test(logical_date=parse(BROWSER_DAY.isoformat()), run_conf=conf)
                    assert run.state == "success", f"{dag_id} {run.state}"
                    runs[dag_id] = run.run_id
            yield Warehouse(db, BROWSER_DAY, runs)
    finally:
        drop_database(pg_server, db)


@pytest.fixture(scope="module")
def airflow_app(loaded_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Airflow's api-server app in-process, reading ``loaded_warehouse`` through the browser."""
    with browser_app(loaded_warehouse.url, tmp_path_factory) as app:
        yield app


@pytest.fixture(scope="module")
def client(airflow_app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(airflow_app, base_url="http://testserver", follow_redirects=False) as c:
        yield c


@pytest.fixture(scope="module")
def token(client: Any) -> str:
    """A JWT from Airflow's own ``POST /auth/token`` with a user's name and password."""
    resp = client.post("/auth/token", json={"username": "viewer", "password": USERS["viewer"]})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["access_token"])


@pytest.fixture(scope="module")
def get(client: Any, token: str) -> Any:
    """GET a browser path as the viewer; anything but 200 fails the test."""

    def call(path: str, **params: Any) -> Any:
        resp = client.get(f"{PREFIX}{path}", params=params, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200, (path, params, resp.status_code, resp.text[:300])
        return resp

    return call
