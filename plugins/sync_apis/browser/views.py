"""How the browser appears in Airflow: the mounted app's prefix and the UI entries pointing at it.

Airflow checks little here and fails quietly: a view without ``href`` drops the whole plugin
from the nav, a prefix starting with a reserved one (``/api/v2``, ``/ui``, ``/execution``,
``/auth``, ``/pluginsv2``, compared with ``startswith``) leaves the app unmounted, and two views
with one ``url_route`` lose the second. tests/browser/test_plugin_views.py replays those checks.

Airflow shows a view's ``name`` as given (no translation), so the language of the names is
``[sync_apis] browser_language`` (``pt``, the default, or ``en``).
"""

from __future__ import annotations

from typing import Any

URL_PREFIX = "/sync-apis"
NAV_ROUTE = "sync-apis"
RUN_TAB_ROUTE = "sync-apis-run"

NAMES = {
    "nav": {"pt": "Sincronização", "en": "Sync APIs"},
    "run_tab": {"pt": "Dados carregados", "en": "Data loaded"},
}


def configured_language() -> str:
    from airflow.configuration import conf

    lang = str(conf.get("sync_apis", "browser_language", fallback="pt")).strip().lower()
    return "en" if lang.startswith("en") else "pt"


def external_views(lang: str | None = None) -> list[dict[str, Any]]:
    lang = lang or configured_language()
    return [
        {
            "name": NAMES["nav"][lang],
            "href": f"{URL_PREFIX}/?lang={lang}",
            "url_route": NAV_ROUTE,
            "destination": "nav",
            "category": "browse",
        },
        {
            # A tab on every DAG run (both DAGs); Airflow fills in {DAG_ID} and {RUN_ID}.
            "name": NAMES["run_tab"][lang],
            "href": f"{URL_PREFIX}/run?dag_id={{DAG_ID}}&run_id={{RUN_ID}}&lang={lang}",
            "url_route": RUN_TAB_ROUTE,
            "destination": "dag_run",
        },
    ]


class LazyApp:
    """The browser's ASGI app, built on its first request.

    Every Airflow process loads plugins (the scheduler for the timetable, task runners too), but
    only the api-server serves the browser: building FastAPI, Jinja and Airflow's security
    imports there alone keeps the other processes' start-up as it was.
    """

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from sync_apis.browser.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


def fastapi_apps() -> list[dict[str, Any]]:
    return [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "sync_apis_browser"}]
