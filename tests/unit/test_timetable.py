"""LocalDayTimetable: one run per local calendar day, due the next day at run_at."""

from __future__ import annotations

from datetime import date

import pendulum
import pytest
from airflow.timetables.base import DataInterval, TimeRestriction

from sync_apis.localday import day_bounds
from sync_apis.timetable import LocalDayTimetable

SP = "America/Sao_Paulo"


def sp(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz=SP)


def test_manual_run_loads_the_local_day_containing_the_date() -> None:
    tt = LocalDayTimetable()
    for instant in (
        sp(2025, 3, 10),
        sp(2025, 3, 10, 23, 59),
        pendulum.datetime(2025, 3, 11, 2, 59, tz="UTC"),
    ):
        interval = tt.infer_manual_data_interval(run_after=instant)
        assert interval == DataInterval(sp(2025, 3, 10), sp(2025, 3, 11)), instant


def test_backfill_range_yields_each_day_inclusive() -> None:
    tt = LocalDayTimetable()
    restriction = TimeRestriction(earliest=sp(2025, 3, 10), latest=sp(2025, 3, 12), catchup=True)
    starts, last = [], None
    while (
        info := tt.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
    ) is not None:
        starts.append(info.data_interval.start)
        last = info.data_interval
    assert starts == [sp(2025, 3, 10), sp(2025, 3, 11), sp(2025, 3, 12)]


def test_run_becomes_due_next_day_at_run_at() -> None:
    tt = LocalDayTimetable(run_at="02:30")
    restriction = TimeRestriction(earliest=sp(2025, 3, 10), latest=None, catchup=True)
    info = tt.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info is not None
    assert info.data_interval == DataInterval(sp(2025, 3, 10), sp(2025, 3, 11))
    assert info.run_after == sp(2025, 3, 11, 2, 30)


def test_earliest_inside_a_day_starts_with_the_next_day() -> None:
    tt = LocalDayTimetable()
    restriction = TimeRestriction(earliest=sp(2025, 3, 10, 5), latest=None, catchup=True)
    info = tt.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info is not None and info.data_interval.start == sp(2025, 3, 11)


def test_without_catchup_starts_with_the_latest_due_day() -> None:
    tt = LocalDayTimetable()
    restriction = TimeRestriction(earliest=sp(2020, 1, 1), latest=None, catchup=False)
    info = tt.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info is not None
    now = pendulum.now(SP)
    assert info.run_after <= now.add(days=1)
    assert info.data_interval.start >= now.start_of("day").subtract(days=2)


def test_serialization_round_trip_and_validation() -> None:
    tt = LocalDayTimetable(run_at="03:15")
    again = LocalDayTimetable.deserialize(tt.serialize())
    assert again == tt and again.run_at == "03:15"
    with pytest.raises(ValueError, match="HH:MM"):
        LocalDayTimetable(run_at="3h15")


def test_without_catchup_a_past_backfill_does_not_drag_the_schedule_back() -> None:
    tt = LocalDayTimetable()
    restriction = TimeRestriction(earliest=sp(2020, 1, 1), latest=None, catchup=False)
    after_backfill = DataInterval(sp(2025, 3, 12), sp(2025, 3, 13))
    info = tt.next_dagrun_info(last_automated_data_interval=after_backfill, restriction=restriction)
    assert info is not None
    assert info.data_interval.start >= pendulum.now(SP).start_of("day").subtract(days=2)
    # with catch-up the next day follows the last one
    caught_up = tt.next_dagrun_info(
        last_automated_data_interval=after_backfill,
        restriction=TimeRestriction(earliest=sp(2020, 1, 1), latest=None, catchup=True),
    )
    assert caught_up is not None and caught_up.data_interval.start == sp(2025, 3, 13)


def test_a_day_whose_midnight_did_not_exist_is_one_day() -> None:
    """2018-11-04: Brazil's DST began at 00:00, so that local day started at 01:00 (23 hours)."""
    tt = LocalDayTimetable()
    interval = tt.infer_manual_data_interval(run_after=sp(2018, 11, 4, 12))
    assert interval.start == sp(2018, 11, 4, 1) and interval.end == sp(2018, 11, 5)
    assert (interval.end - interval.start).total_seconds() == 23 * 3600
    restriction = TimeRestriction(earliest=sp(2018, 11, 2), latest=sp(2018, 11, 7), catchup=True)
    days, last = [], None
    while (
        info := tt.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
    ) is not None:
        days.append(info.data_interval.start.date().isoformat())
        last = info.data_interval
    assert days == ["2018-11-02", "2018-11-03", "2018-11-04", "2018-11-05", "2018-11-06", "2018-11-07"]
    assert day_bounds(date(2018, 11, 4)) == (interval.start, interval.end)
