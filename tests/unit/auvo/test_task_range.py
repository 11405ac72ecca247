"""The bounded taskDate range of the tasks stream: contiguous windows, none too wide."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from sync_apis.auvo.task_range import TaskRange, taskdate_filter

DAY = date(2025, 3, 10)


@pytest.mark.parametrize(
    ("back", "ahead", "width"), [(400, 400, 14), (400, 400, 31), (0, 0, 14), (3, 2, 1), (10, 0, 7)]
)
def test_windows_cover_the_range_exactly_once_and_none_is_too_wide(back, ahead, width):
    windows = TaskRange(back, ahead, width).windows(DAY)
    days = [w[0] + timedelta(days=i) for w in windows for i in range((w[1] - w[0]).days + 1)]
    expected = [DAY - timedelta(days=back) + timedelta(days=i) for i in range(back + ahead + 1)]
    assert days == expected  # contiguous, no gap, no overlap, nothing outside
    assert all(1 <= (last - first).days + 1 <= width for first, last in windows)
    assert len(windows) == -(-(back + ahead + 1) // width)  # ceil: the request count per query


def test_the_default_range_is_400_days_each_way_in_58_windows_of_14_days():
    windows = TaskRange().windows(DAY)
    assert windows[0][0] == date(2024, 2, 4) and windows[-1][1] == date(2026, 4, 14)
    assert len(windows) == 58


def test_a_window_filter_spans_its_days_to_the_last_second():
    f = taskdate_filter(date(2025, 3, 1), date(2025, 3, 14))
    assert f == {"startDate": "2025-03-01T00:00:00", "endDate": "2025-03-14T23:59:59"}
    span = datetime.fromisoformat(f["endDate"]) - datetime.fromisoformat(f["startDate"])
    assert span < timedelta(days=14)  # what an API with a 14-day maximum measures


@pytest.mark.parametrize("bad", [{"days_back": -1}, {"days_ahead": -2}, {"window_days": 0}])
def test_nonsense_ranges_are_refused(bad):
    with pytest.raises(ValueError, match="task_"):
        TaskRange(**bad)


def test_the_params_defaults_come_from_sync_apis_config(monkeypatch):
    from sync_apis.auvo.dag_tasks import task_range_of
    from sync_apis.auvo.task_range import configured_default

    assert configured_default("task_days_back") == 400
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__AUVO_TASK_DAYS_BACK", "900")
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__AUVO_TASK_WINDOW_DAYS", "7")
    assert (configured_default("task_days_back"), configured_default("task_window_days")) == (900, 7)
    assert task_range_of({"task_days_back": 5, "task_days_ahead": 6}) == TaskRange(5, 6, 14)
    assert task_range_of({}) == TaskRange()
