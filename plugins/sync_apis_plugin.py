"""Registers sync-apis' timetable so the scheduler can rebuild it from the serialized DAG."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from sync_apis.timetable import LocalDayTimetable


class SyncApisPlugin(AirflowPlugin):
    name = "sync_apis"
    timetables = [LocalDayTimetable]
