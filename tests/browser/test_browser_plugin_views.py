"""The plugin as Airflow's UI sees it: one valid plugin, its views listed, its app mounted.

Airflow drops a plugin whose views fail ``PluginResponse`` validation from ``/api/v2/plugins``
(the UI's source for the nav) with only a log line, while its app stays mounted; these tests
ask that endpoint, replay the checks behind it, and show that the replay catches a broken view.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import pytest

pytestmark = pytest.mark.timeout(300)


def encode_uri_component(text: str) -> str:
    return quote(text, safe="-_.!~*'()")


def _our_plugin_info() -> dict[str, Any]:
    from airflow import plugins_manager

    infos = [p for p in plugins_manager.get_plugin_info() if p["name"] == "sync_apis"]
    assert len(infos) == 1, [p["name"] for p in plugins_manager.get_plugin_info()]
    return infos[0]


def validate_like_airflow(info: dict[str, Any]) -> None:
    """What Airflow 3.3 checks before a plugin's views and app reach the UI (raises if any fails)."""
    from airflow.api_fastapi.app import RESERVED_URL_PREFIXES
    from airflow.api_fastapi.core_api.datamodels.plugins import PluginResponse

    PluginResponse.model_validate(dict(info))  # /api/v2/plugins skips the plugin if this raises
    routes = [v.get("url_route") for v in info["external_views"]]
    assert len(routes) == len(set(routes)), f"duplicate url_route: {routes}"
    for app in info["fastapi_apps"]:
        prefix = app.get("url_prefix")
        assert prefix, f"fastapi app {app.get('name')} has no url_prefix"
        assert not any(prefix.startswith(p) for p in RESERVED_URL_PREFIXES), f"reserved prefix {prefix}"
    for view in info["external_views"]:
        if view.get("destination") in ("dag", "dag_run", "task", "task_instance"):
            assert view.get("url_route"), f"{view['name']}: a tab needs a url_route"


def test_the_plugin_passes_airflows_checks() -> None:
    validate_like_airflow(_our_plugin_info())


@pytest.mark.parametrize(
    "breakage",
    [
        lambda v, a: v[0].pop("href"),
        lambda v, a: v[1].update(destination="dagrun"),
        lambda v, a: v[1].update(url_route=v[0]["url_route"]),
        lambda v, a: a[0].update(url_prefix="/uidata"),
    ],
    ids=["no-href", "bad-destination", "same-url-route", "reserved-prefix"],
)
def test_the_check_catches_a_broken_view(breakage: Any) -> None:
    info = _our_plugin_info()
    views = [dict(v) for v in info["external_views"]]
    apps = [dict(a) for a in info["fastapi_apps"]]
    breakage(views, apps)
    with pytest.raises((AssertionError, ValueError)):
        validate_like_airflow({**info, "external_views": views, "fastapi_apps": apps})


def test_the_ui_lists_the_nav_entry_and_the_run_tab(client: Any, token: str) -> None:
    resp = client.get("/api/v2/plugins", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text
    (ours,) = [p for p in resp.json()["plugins"] if p["name"] == "sync_apis"]
    views = {v["destination"]: v for v in ours["external_views"]}
    assert views["nav"]["name"] == "Sincronização"
    assert views["nav"]["url_route"] == "sync-apis"
    assert views["dag_run"]["name"] == "Dados carregados"
    assert "{DAG_ID}" in views["dag_run"]["href"] and "{RUN_ID}" in views["dag_run"]["href"]
    assert ours["fastapi_apps"][0]["url_prefix"] == "/sync-apis"
    assert "sync_apis.timetable.LocalDayTimetable" in ours["timetables"]


def test_english_names() -> None:
    from sync_apis.browser.views import external_views

    names = {v["destination"]: v["name"] for v in external_views("en")}
    assert names == {"nav": "Sync APIs", "dag_run": "Data loaded"}


def test_the_run_tab_opens_for_runs_of_both_dags(client: Any, token: str, loaded_warehouse: Any) -> None:
    from sync_apis.browser.views import external_views

    (tab,) = [v for v in external_views() if v["destination"] == "dag_run"]
    for dag_id, run_id in loaded_warehouse.runs.items():
        # What the UI does with the href (encodeURIComponent), then it loads it in the tab's iframe.
        href = tab["href"].replace("{DAG_ID}", encode_uri_component(dag_id))
        href = href.replace("{RUN_ID}", encode_uri_component(run_id))
        parts = urlsplit(href)
        resp = client.get(parts.path, params=parts.query, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200, resp.text[:300]
        tasks = {
            t
            for (t,) in loaded_warehouse.q(
                "SELECT DISTINCT task_id FROM sync_meta.sync_runs WHERE run_id = %s", run_id
            )
        }
        assert tasks, f"{dag_id} wrote no sync_runs rows"
        for task_id in tasks:
            assert f'data-col="task_id">{task_id}<' in resp.text, (dag_id, task_id)
