"""sync-apis' Airflow plugin: the timetable, and the data browser inside the Airflow UI.

The timetable is registered so the scheduler can rebuild it from the serialized DAG. The browser
(plugins/sync_apis/browser) is one FastAPI app mounted at ``/sync-apis`` with a nav entry and a
tab on every DAG run.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from sync_apis.browser.views import external_views, fastapi_apps
from sync_apis.timetable import LocalDayTimetable


class SyncApisPlugin(AirflowPlugin):
    name = "sync_apis"
    timetables: ClassVar[list[type]] = [LocalDayTimetable]
    fastapi_apps: ClassVar[list[dict[str, Any]]] = fastapi_apps()
    external_views: ClassVar[list[dict[str, Any]]] = external_views()
