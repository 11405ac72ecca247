"""docker-compose's production auth, proven on a real api-server: FAB users, roles, the data browser.

There is no Docker engine here, so the compose stack itself cannot start. Instead a real
``airflow api-server`` (plus scheduler and dag-processor) runs with the auth settings read from
docker-compose.yaml, and ``include/docker/init-airflow.sh`` (the script airflow-init runs) is run
against its fresh metadata database before the services start, as in compose. People then log in
through FAB's own login (the token endpoint and the HTML form), and each role is tried on the
data browser, the plugin list behind its menu entry and backfills.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
import requests
import yaml

from tests.support.airflow_stack import AIRFLOW, AirflowStack
from tests.support.connections import connection_env
from tests.support.pg import PgUrl, create_database, drop_database

REPO = Path(__file__).resolve().parents[2]
ADMIN = ("boss", "admin-pass-for-fab-tests")  # AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD
# One account per FAB role: the Viewer with the README's `airflow users create` command, the others
# through FAB's REST API (each `airflow` process costs seconds of CPU; the command is the same).
README_ROLE = "Viewer"
PEOPLE = {
    "Viewer": ("vera", "viewer-pass-for-fab-tests"),
    "User": ("ulisses", "user-pass-for-fab-tests"),
    "Op": ("otto", "op-pass-for-fab-tests"),
    "Public": ("paula", "public-pass-for-fab-tests"),
}
BROWSER_PAGE = "/sync-apis/"
BROWSER_JSON = ("/sync-apis/api/health", "/sync-apis/api/tables")
OVERVIEW = "<h1>Visão geral</h1>"  # the browser's first page (empty warehouse, Portuguese default)


# --------------------------------------------------------------------------- what compose says


def compose_services() -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "docker-compose.yaml").read_text())["services"])


def compose_auth_env() -> dict[str, str]:
    """The api-server's auth settings, exactly as docker-compose.yaml sets them."""
    env = compose_services()["airflow-apiserver"]["environment"]
    auth = {
        k: str(v)
        for k, v in env.items()
        if k == "AIRFLOW__CORE__AUTH_MANAGER" or k.startswith("AIRFLOW__FAB__")
    }
    assert all("${" not in v for v in auth.values()), auth  # literal values, nothing from .env
    return auth


def compose_init_script() -> Path:
    """The script the airflow-init service runs (a path inside the ./include mount)."""
    command = "\n".join(compose_services()["airflow-init"]["command"])
    match = re.search(r"/opt/airflow/(include/docker/[\w.-]+\.sh)", command)
    assert match, command
    return REPO / match.group(1)


# --------------------------------------------------------------------------- the stack


class InitializedStack(AirflowStack):
    """A stack whose metadata database went through airflow-init before any service started.

    No scheduler: nothing here runs a task (the one DAG run triggered stays queued, its DAG paused).

    ``AirflowStack.start`` copies ``_migrated()`` into the stack's database; here that template is
    a private copy of the migrated database, migrated again with this stack's configuration and
    then ``init`` (as compose's airflow-init migrates, then runs init, before the api-server starts).
    """

    SERVICES = ("api-server", "dag-processor")

    def __init__(self, *args: Any, init: Callable[[AirflowStack], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.init = init
        self.initialized: PgUrl | None = None

    def _migrated(self) -> PgUrl:
        self.initialized = create_database(self.pg_server, "sync_apis_test_fab", template=super()._migrated())
        self.meta = self.initialized
        # What the image's entrypoint does before airflow-init: migrate, here with the FAB auth
        # manager configured, which adds FAB's own tables (users, roles) to Airflow's.
        self.cli("db", "migrate")
        self.init(self)
        self.meta = None
        return self.initialized

    def stop(self) -> None:
        super().stop()
        if self.initialized is not None:
            drop_database(self.pg_server, self.initialized)
            self.initialized = None


def run_init(
    stack: AirflowStack, password: str = ADMIN[1], user: str = ADMIN[0]
) -> subprocess.CompletedProcess[str]:
    """``init-airflow.sh`` with the variables airflow-init passes (values as a .env would give)."""
    env = stack.env() | {
        "PATH": f"{Path(AIRFLOW).parent}:/usr/bin:/bin",
        "AIRFLOW_ADMIN_USER": user,
        "AIRFLOW_ADMIN_PASSWORD": password,
        "AIRFLOW_ADMIN_EMAIL": f"{user}@example.com",
        "AIRFLOW_ADMIN_FIRSTNAME": "Airflow",
        "AIRFLOW_ADMIN_LASTNAME": "Admin",
    }
    return subprocess.run(
        ["bash", str(compose_init_script())],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@dataclass
class FabStack:
    stack: AirflowStack
    base: str
    first_init: subprocess.CompletedProcess[str]

    def token(self, username: str, password: str) -> str:
        resp = requests.post(
            f"{self.base}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        assert resp.status_code == 201, (username, resp.status_code, resp.text[:300])
        return str(resp.json()["access_token"])

    @cached_property
    def admin_token(self) -> str:
        """One login for the admin's calls (the password never changes within a test)."""
        return self.token(*ADMIN)

    def users_listed(self) -> dict[str, list[str]]:
        """username -> roles, from the README's `airflow users list` (its JSON is the last line)."""
        listing = self.stack.cli("users", "list", "--output", "json").strip().splitlines()[-1]
        return {u["username"]: u["roles"] for u in json.loads(listing)}

    def users(self) -> dict[str, list[str]]:
        """username -> roles, from FAB's REST API (what the UI's Security > Users shows)."""
        reply = self.get("/auth/fab/v1/users?limit=100", self.admin_token)
        assert reply.status_code == 200, reply.text[:300]
        return {u["username"]: [r["name"] for r in u["roles"]] for u in reply.json()["users"]}

    def add_user(self, role: str, name: str, password: str) -> None:
        """The account `airflow users create` would make, through FAB's REST API as the admin."""
        person = {"username": name, "email": f"{name}@example.com", "first_name": name.title()}
        body = person | {"last_name": "Tester", "password": password, "roles": [{"name": role}]}
        reply = requests.post(
            f"{self.base}/auth/fab/v1/users",
            json=body,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=60,
        )
        assert reply.status_code == 200, (role, reply.status_code, reply.text[:300])

    def get(self, path: str, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(f"{self.base}{path}", headers=headers, allow_redirects=False, timeout=60)


@contextmanager
def fab_stack(pg_server: PgUrl) -> Iterator[FabStack]:
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import run_schema_files

    # An empty warehouse: the browser's pages then answer 200 with "nothing loaded yet".
    warehouse = create_database(pg_server, "sync_apis_test_fab_wh")
    with psycopg.connect(warehouse.url, autocommit=True) as conn:
        for schema in ("sync_meta", "auvo", "e_track"):
            run_schema_files(conn, sql_files(schema))
    env = connection_env(warehouse=warehouse) | compose_auth_env()
    # docker-compose.yaml requires this from .env; FAB signs its login form session with it.
    env["AIRFLOW__API__SECRET_KEY"] = "fab-test-secret-key-not-for-production"
    # FAB caches a user's permissions for [fab] cache_ttl (30 s by default, as the README says);
    # a granted permission then shows in seconds instead of half a minute of waiting.
    env["AIRFLOW__FAB__CACHE_TTL"] = "3"
    results: list[subprocess.CompletedProcess[str]] = []
    try:
        with InitializedStack(pg_server, extra_env=env, init=lambda s: results.append(run_init(s))) as stack:
            fab = FabStack(stack, f"http://127.0.0.1:{stack.port}", results[0])
            for role, (name, password) in PEOPLE.items():
                if role != README_ROLE:
                    fab.add_user(role, name, password)
                    continue
                # The README's command (there with `docker compose exec airflow-apiserver` in front).
                stack.cli(
                    "users", "create", "--role", role, "--username", name, "--email", f"{name}@example.com",
                    "--firstname", name.title(), "--lastname", "Tester", "--password", password,
                )  # fmt: skip
            yield fab
    finally:
        drop_database(pg_server, warehouse)


# --------------------------------------------------------------------------- the checks
# One stack serves them all (an api-server start costs ~30 s); they run in this order in the one
# test below, so pytest-xdist never starts a second stack for this module.


def init_created_the_admin_without_printing_the_password(fab: FabStack) -> None:
    first = fab.first_init
    assert first.returncode == 0, first.stderr[-3000:]
    assert f'User "{ADMIN[0]}" created with role "Admin"' in first.stdout
    assert ADMIN[1] not in first.stdout + first.stderr
    listed = fab.users_listed()
    assert listed == fab.users() and listed[ADMIN[0]] == ["Admin"]
    assert {name: listed[name] for name, _ in PEOPLE.values()} == {
        name: [role] for role, (name, _) in PEOPLE.items()
    }
    assert fab.get("/api/v2/monitor/health").status_code == 200  # compose's healthcheck, anonymous
    assert fab.get("/api/v2/dags", fab.token(*ADMIN)).status_code == 200


def a_second_up_runs_init_again_without_failing(fab: FabStack) -> None:
    # The next `up`, after someone changed the password in .env: init passes, and leaves the
    # existing admin (and its password) as it was.
    changed = "another-pass-for-fab-tests"
    again = run_init(fab.stack, password=changed)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{ADMIN[0]} already exists in the db" in again.stdout
    assert ADMIN[1] not in again.stdout + again.stderr and changed not in again.stdout + again.stderr
    fab.token(*ADMIN)
    assert fab.stack.query("SELECT pool, slots FROM slot_pool WHERE pool = 'etrac_api'") == [("etrac_api", 4)]


def init_refuses_the_example_password(fab: FabStack) -> None:
    refused = run_init(fab.stack, password="change-me-admin", user="careless")
    assert refused.returncode != 0
    assert "example value" in refused.stderr
    assert "careless" not in fab.users()


def anonymous_gets_no_data_and_pages_lead_to_the_fab_login(fab: FabStack) -> None:
    for path in BROWSER_JSON:
        resp = fab.get(path)
        assert resp.status_code == 401, (path, resp.status_code, resp.text[:200])
    page = fab.get(BROWSER_PAGE)
    assert page.status_code == 307
    airflow_login = urlsplit(page.headers["location"])
    login = fab.get(f"{airflow_login.path}?{airflow_login.query}")
    assert login.status_code == 307
    fab_login = urlsplit(login.headers["location"])
    assert fab_login.path == "/auth/login/"
    assert parse_qs(fab_login.query)["next"] == [f"{fab.base}{BROWSER_PAGE}"]
    assert fab.get("/api/v2/dags").status_code == 401
    bad = requests.post(
        f"{fab.base}/auth/token", json={"username": ADMIN[0], "password": "wrong"}, timeout=30
    )
    assert bad.status_code == 401


def the_login_form_brings_a_person_back_to_the_data_browser(fab: FabStack) -> None:
    name, password = PEOPLE["Viewer"]
    with requests.Session() as browser:
        form = browser.get(f"{fab.base}{BROWSER_PAGE}", timeout=60)  # follows the redirects
        assert urlsplit(form.url).path == "/auth/login/", form.url
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
        assert csrf, form.text[:500]
        page = browser.post(
            form.url, data={"username": name, "password": password, "csrf_token": csrf.group(1)}, timeout=60
        )
        assert page.status_code == 200, (page.url, page.text[:300])
        assert urlsplit(page.url).path == BROWSER_PAGE, page.url
        assert OVERVIEW in page.text
        assert browser.get(f"{fab.base}{BROWSER_JSON[0]}", timeout=60).status_code == 200  # by cookie


# What the README's roles table says, per FAB role:
# - the data browser: every logged-in user (its routes only ask Airflow for a valid login);
# - its menu entry and DAG-run tab: listed by /api/v2/plugins, which needs "can read on Plugins";
# - trigger and backfill: "can create on DAG Runs" plus "can edit on DAGs".
ROLES = {
    # role: (data browser, menu entry, trigger, backfill)
    "Admin": (200, 200, 200, 200),
    "Op": (200, 200, 200, 200),
    "User": (200, 403, 200, 200),
    "Viewer": (200, 403, 403, 403),
    "Public": (200, 403, 403, 403),
}
DAY = {"from_date": "2025-03-10T00:00:00-03:00", "to_date": "2025-03-11T00:00:00-03:00"}


def each_role_gets_what_the_readme_says(fab: FabStack) -> None:
    fab.stack.wait_for_dag("etrac_daily")
    seen = {}
    for role in ROLES:
        token = fab.token(*(ADMIN if role == "Admin" else PEOPLE[role]))
        auth = {"Authorization": f"Bearer {token}"}
        statuses = {fab.get(path, token).status_code for path in (BROWSER_PAGE, *BROWSER_JSON)}
        browser = statuses.pop() if len(statuses) == 1 else statuses
        plugins = fab.get("/api/v2/plugins", token)
        if plugins.status_code == 200:
            views = [v["href"] for p in plugins.json()["plugins"] for v in p["external_views"]]
            assert any(href.startswith(BROWSER_PAGE) for href in views), views
        # The DAG is paused: a triggered run only waits, and a dry run creates nothing.
        trigger = requests.post(
            f"{fab.base}/api/v2/dags/etrac_daily/dagRuns",
            json={"logical_date": None},
            headers=auth,
            timeout=60,
        )
        backfill = requests.post(
            f"{fab.base}/api/v2/backfills/dry_run",
            json={"dag_id": "etrac_daily", **DAY},
            headers=auth,
            timeout=60,
        )
        seen[role] = (browser, plugins.status_code, trigger.status_code, backfill.status_code)
    assert seen == ROLES


def an_admin_can_give_viewers_and_users_the_menu_entry(fab: FabStack) -> None:
    # The README's one-liner; FAB caches a user's permissions for [fab] cache_ttl (3 s here).
    fab.stack.cli("roles", "add-perms", "Viewer", "User", "--resource", "Plugins", "--action", "can_read")
    tokens = [fab.token(*PEOPLE[role]) for role in ("Viewer", "User")]
    deadline = time.monotonic() + 60
    while (statuses := [fab.get("/api/v2/plugins", t).status_code for t in tokens]) != [200, 200]:
        assert time.monotonic() < deadline, statuses
        time.sleep(1)
    assert fab.get("/api/v2/plugins", fab.token(*PEOPLE["Public"])).status_code == 403


# --------------------------------------------------------------------------- tests


def test_compose_uses_the_fab_auth_manager() -> None:
    assert compose_auth_env() == {
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    }


@pytest.mark.slow
def test_fab_auth_on_a_real_api_server(pg_server: PgUrl) -> None:
    with fab_stack(pg_server) as fab:
        init_created_the_admin_without_printing_the_password(fab)
        a_second_up_runs_init_again_without_failing(fab)
        init_refuses_the_example_password(fab)
        anonymous_gets_no_data_and_pages_lead_to_the_fab_login(fab)
        the_login_form_brings_a_person_back_to_the_data_browser(fab)
        each_role_gets_what_the_readme_says(fab)
        an_admin_can_give_viewers_and_users_the_menu_entry(fab)
