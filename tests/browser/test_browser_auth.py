"""Every data route refuses an anonymous caller and answers an Airflow user.

Runs Airflow's real api-server app in-process (plugin mounting, simple auth manager with
passwords, JWT middleware), so what is tested is what ``airflow api-server`` serves.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.support.browser_routes import PREFIX, Route, routes

pytestmark = pytest.mark.timeout(300)


def error_text(page: str) -> str:
    """The message of the browser's error page (or the JSON detail), for assertion messages."""
    match = re.search(r'id="error-message">([^<]*)<', page)
    return match.group(1) if match else page[:300]


def concrete(route: Route, wh: Any) -> str:
    (user_id,) = wh.q("SELECT min(user_id) FROM auvo.users")[0]
    (plate,) = wh.q("SELECT min(placa) FROM e_track.routes")[0]
    (task_id,) = wh.q("SELECT min(task_id) FROM auvo.tasks")[0]
    url = route.url.replace("@USER@", str(user_id)).replace("@PLATE@", plate).replace("@TASK@", str(task_id))
    return url.replace("@DAY@", wh.day.isoformat())


@pytest.fixture(scope="module")
def all_routes(loaded_warehouse: Any) -> list[Route]:
    return routes("etrac_daily", loaded_warehouse.runs["etrac_daily"])


def test_every_route_is_listed(airflow_app: Any, all_routes: list[Route]) -> None:
    from sync_apis.browser.app import create_app

    app_paths = {r.path for r in create_app().routes if not r.path.startswith("/static")}
    assert app_paths == {r.path for r in all_routes}


def test_anonymous_json_gets_401_and_pages_go_to_login(
    client: Any, loaded_warehouse: Any, all_routes
) -> None:
    for route in all_routes:
        url = concrete(route, loaded_warehouse)
        resp = client.get(url)
        if route.html:
            assert resp.status_code == 307, (url, resp.status_code, resp.text[:200])
            target = urlsplit(resp.headers["location"])
            assert target.path == "/api/v2/auth/login", url
            assert [unquote(n) for n in parse_qs(target.query)["next"]] == [
                f"http://testserver{unquote(url)}"
            ]
            # ... and Airflow's login accepts that page as where to come back to.
            login = client.get(resp.headers["location"])
            assert login.status_code == 307, login.text
            assert "/auth/login" in login.headers["location"]
        else:
            assert resp.status_code == 401, (url, resp.status_code, resp.text[:200])
        assert "velocidade" not in resp.text, url  # no data before the login


def test_a_bad_token_is_refused_too(client: Any, loaded_warehouse: Any, all_routes) -> None:
    for route in all_routes:
        resp = client.get(concrete(route, loaded_warehouse), headers={"Authorization": "Bearer not-a-jwt"})
        assert resp.status_code == (307 if route.html else 403), route.url


def test_an_airflow_user_gets_the_data(client: Any, token: str, loaded_warehouse: Any, all_routes) -> None:
    for route in all_routes:
        url = concrete(route, loaded_warehouse)
        resp = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200, (url, resp.status_code, error_text(resp.text))
        assert "built-in method" not in resp.text, url  # a label key shadowed by a dict method
    # The UI's cookie (what the same-origin iframe sends) works as well as the header.
    client.cookies.set("_token", token)
    try:
        assert client.get(f"{PREFIX}/api/health").status_code == 200
        assert client.get(f"{PREFIX}/").status_code == 200
    finally:
        client.cookies.clear()


def test_static_files_hold_no_data(client: Any) -> None:
    from sync_apis.browser.app import HERE

    static = sorted(p.name for p in (HERE / "static").rglob("*") if p.is_file())
    assert static, "static folder is empty"
    for name in static:
        assert name.rsplit(".", 1)[-1] in {"css", "js", "png", "svg", "txt", "map"} or name.startswith(
            "LICENSE"
        ), name
    # Served without credentials, which is fine only because of the above.
    assert client.get(f"{PREFIX}/static/browser.css").status_code == 200
