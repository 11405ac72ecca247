"""Registers sync-apis' timetable so the scheduler can rebuild it from the serialized DAG."""

from __future__ import annotations

from typing import ClassVar

from airflow.plugins_manager import AirflowPlugin

from sync_apis.timetable import LocalDayTimetable


class SyncApisPlugin(AirflowPlugin):
    name = "sync_apis"
    timetables: ClassVar[list[type]] = [LocalDayTimetable]
