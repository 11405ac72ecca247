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


# --------------------------------------------------------------------------- typed dates, any zone
# What the timetable receives for "2025-03-10", by where the date was typed (see localday.typed_date).
ZONES = ("UTC", "America/Sao_Paulo", "Asia/Tokyo", "America/Manaus", "Pacific/Auckland")


def typed(day: str, zone: str) -> pendulum.DateTime:
    """The CLI's reading of a date under ``[core] default_timezone = zone`` (its own parser)."""
    from airflow._shared.timezones.timezone import parse

    return parse(day, timezone=pendulum.timezone(zone))


@pytest.mark.parametrize("zone", ZONES)
def test_a_date_typed_at_the_cli_means_that_date_in_any_default_timezone(zone: str) -> None:
    tt = LocalDayTimetable()
    interval = tt.infer_manual_data_interval(run_after=typed("2025-03-10", zone))
    assert interval == DataInterval(sp(2025, 3, 10), sp(2025, 3, 11)), zone


@pytest.mark.parametrize("zone", ZONES)
def test_a_backfill_typed_at_the_cli_yields_exactly_its_days_in_any_default_timezone(zone: str) -> None:
    tt = LocalDayTimetable()
    restriction = TimeRestriction(
        earliest=typed("2025-03-10", zone), latest=typed("2025-03-12", zone), catchup=True
    )
    days, last = [], None
    while (
        info := tt.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
    ) is not None:
        days.append(info.data_interval.start)
        last = info.data_interval
    assert days == [sp(2025, 3, 10), sp(2025, 3, 11), sp(2025, 3, 12)], zone


@pytest.mark.parametrize(
    "sent",
    [
        "2025-03-10T00:00:00Z",  # REST, written in UTC
        "2025-03-10T00:00:00-03:00",  # REST, written in São Paulo
        "2025-03-10T00:00:00+09:00",  # REST, written in Tokyo
        "2025-03-10T03:00:00.000Z",  # the UI: a São Paulo browser's midnight, sent as UTC
    ],
)
def test_a_date_sent_to_the_rest_api_or_by_the_ui_means_that_date(sent: str) -> None:
    from datetime import datetime

    from sync_apis.localday import typed_date

    instant = pendulum.instance(datetime.fromisoformat(sent))
    assert typed_date(instant) == date(2025, 3, 10)
    interval = LocalDayTimetable().infer_manual_data_interval(run_after=instant)
    assert interval == DataInterval(sp(2025, 3, 10), sp(2025, 3, 11))


def test_a_moment_is_not_a_typed_date_and_loads_the_local_day_containing_it() -> None:
    from sync_apis.localday import requested_date, typed_date

    # 21:00 in São Paulo on the 9th is midnight of the 10th in UTC only when written in UTC.
    moment = pendulum.datetime(2025, 3, 9, 21, 0, 0, 1, tz=SP)
    assert typed_date(moment) is None and requested_date(moment) == date(2025, 3, 9)
    now_like = pendulum.datetime(2025, 3, 10, 14, 37, 12, tz="UTC")
    assert typed_date(now_like) is None and requested_date(now_like) == date(2025, 3, 10)


# --------------------------------------------------------------------------- the run's day in tasks


class _DagRun:
    def __init__(self, run_after: pendulum.DateTime) -> None:
        self.run_after = run_after


def test_a_run_without_logical_date_loads_the_local_day_it_was_triggered_on() -> None:
    from sync_apis.run_day import run_day

    # 01:30 UTC on the 11th is still the 10th in São Paulo: "today so far" is the 10th.
    triggered = pendulum.datetime(2025, 3, 11, 1, 30, tz="UTC")
    context = {"data_interval_start": None, "logical_date": None, "dag_run": _DagRun(triggered)}
    assert run_day(context) == date(2025, 3, 10)
    # Airflow leaves the keys out entirely for such a run.
    assert run_day({"dag_run": _DagRun(triggered)}) == date(2025, 3, 10)
    with pytest.raises(ValueError, match="no day to load"):
        run_day({})


def test_the_logical_date_names_the_day_even_when_airflow_infers_another_interval() -> None:
    from sync_apis.run_day import run_day

    # `airflow dags trigger -l 2025-03-10` under default_timezone=UTC: the typed date stays the
    # logical date, but Airflow 3.3 infers the data interval from the moment of the trigger.
    context = {
        "logical_date": typed("2025-03-10", "UTC"),
        "data_interval_start": sp(2026, 12, 2),
        "dag_run": _DagRun(pendulum.datetime(2026, 12, 2, 15, tz="UTC")),
    }
    assert run_day(context) == date(2025, 3, 10)
    # A scheduled or backfill run: the logical date is the interval's start, the same day.
    assert run_day({"logical_date": sp(2025, 3, 10), "data_interval_start": sp(2025, 3, 10)}) == date(
        2025, 3, 10
    )


def test_day_macros_render_without_a_data_interval() -> None:
    import jinja2

    from sync_apis.dag_defaults import MACROS

    env = jinja2.Environment(autoescape=True)
    env.globals.update(MACROS)
    template = env.from_string("{{ run_day() }}|{{ run_day().start }}|{{ run_day().end }}")
    no_interval = template.render(dag_run=_DagRun(pendulum.datetime(2025, 3, 11, 1, 30, tz="UTC")))
    assert no_interval == "2025-03-10|2025-03-10T00:00:00-03:00|2025-03-11T00:00:00-03:00"
    scheduled = template.render(data_interval_start=sp(2025, 3, 10), dag_run=_DagRun(sp(2025, 3, 11, 1, 5)))
    assert scheduled == no_interval
