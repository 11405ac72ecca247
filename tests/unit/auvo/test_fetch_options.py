"""The Auvo fetch options from ``[sync_apis]``: the upper bound is opt-in, snapshot reuse is for
backfills only, and the options reach the run's Window."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from sync_apis.auvo.fetch_options import FetchOptions, configured, reuse_note

BOUND = "AIRFLOW__SYNC_APIS__AUVO_UPDATED_UNTIL_BOUND"
REUSE = "AIRFLOW__SYNC_APIS__AUVO_BACKFILL_SNAPSHOT_REUSE_MINUTES"


def test_defaults_no_upper_bound_and_an_hour_of_reuse_for_backfills_only(monkeypatch):
    monkeypatch.delenv(BOUND, raising=False)
    monkeypatch.delenv(REUSE, raising=False)
    assert configured("backfill") == FetchOptions(False, timedelta(minutes=60))
    for run_type in ("scheduled", "manual", "asset_triggered", None):
        assert configured(run_type) == FetchOptions(False, None), run_type


def test_the_dag_run_type_enum_is_understood(monkeypatch):
    from airflow.utils.types import DagRunType

    monkeypatch.delenv(REUSE, raising=False)
    assert configured(DagRunType.BACKFILL_JOB).reuse_snapshots_within == timedelta(minutes=60)
    assert configured(DagRunType.SCHEDULED).reuse_snapshots_within is None


def test_options_come_from_sync_apis_config(monkeypatch):
    monkeypatch.setenv(BOUND, "true")
    monkeypatch.setenv(REUSE, "2.5")
    assert configured("backfill") == FetchOptions(True, timedelta(minutes=2.5))
    assert configured("scheduled") == FetchOptions(True, None)
    monkeypatch.setenv(REUSE, "0")
    assert configured("backfill") == FetchOptions(True, None)
    monkeypatch.setenv(REUSE, "-1")
    with pytest.raises(ValueError, match="auvo_backfill_snapshot_reuse_minutes"):
        configured("backfill")


def test_the_run_window_carries_them(monkeypatch):
    from sync_apis.auvo.dag_tasks import run_window

    monkeypatch.setenv(BOUND, "true")
    monkeypatch.delenv(REUSE, raising=False)
    window = run_window(date(2025, 3, 10), {"overlap_minutes": None, "task_days_back": 30}, "backfill")
    assert window.fetch == FetchOptions(True, timedelta(minutes=60))
    assert window.overlap == timedelta(minutes=10) and window.task_range.days_back == 30


def test_the_reuse_note_names_the_fetch_and_the_setting():
    note = reuse_note(
        "backfill__2025-03-10", datetime(2025, 3, 13, 12, 0, 5), timedelta(seconds=90), timedelta(minutes=60)
    )
    assert note.startswith("reused snapshot fetched at 2025-03-13T12:00:05 by run backfill__2025-03-10 ")
    assert "1.5 min before this run" in note and "auvo_backfill_snapshot_reuse_minutes" in note
