"""The empty-day decision: comparable days, their median, and when a low count is a warning."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from sync_apis.empty_days import (
    DayWarning,
    Expectation,
    Thresholds,
    combined,
    comparable_days,
    day_expectation,
    judge,
    plates_expectation,
    runs_expectation,
)

MONDAY = date(2025, 3, 10)


def days(first: date, n: int, rows: int | list[int]) -> dict[date, int]:
    values = rows if isinstance(rows, list) else [rows] * n
    return {first + timedelta(days=i): values[i] for i in range(n)}


def test_comparable_days_prefer_the_same_weekday_nearest_first() -> None:
    history = days(MONDAY - timedelta(days=21), 43, 20)  # three weeks before, three after
    chosen = comparable_days(history, MONDAY)
    assert [d.weekday() for d in chosen] == [0] * 6  # six other Mondays, the day itself excluded
    assert chosen == sorted(MONDAY + timedelta(weeks=w) for w in (-3, -2, -1, 1, 2, 3))


def test_without_the_same_weekday_the_nearest_days_of_any_weekday_count() -> None:
    history = days(MONDAY + timedelta(days=1), 5, 20)  # Tuesday..Saturday after the day
    history |= days(MONDAY - timedelta(days=4), 3, 20)  # Thursday..Saturday before it
    chosen = comparable_days(history, MONDAY)
    assert len(chosen) == 7
    # Nearest first, a tie going to the earlier day: the farthest (day + 5) is left out.
    assert MONDAY + timedelta(days=5) not in chosen and MONDAY - timedelta(days=4) in chosen


def test_far_away_days_count_when_nothing_nearer_is_known() -> None:
    # The README's old example dates against a warehouse that only has recent days.
    recent = days(date(2026, 12, 1), 3, [18, 22, 20])  # Tuesday..Thursday
    expected = day_expectation(recent, date(2025, 3, 10))
    assert expected is not None and expected.rows == 20 and expected.runs == 3


def test_the_expectation_is_the_median_so_one_odd_day_does_not_move_it() -> None:
    history = days(MONDAY - timedelta(weeks=7), 49, 0)
    for w, rows in zip(range(1, 8), [20, 22, 0, 19, 400, 21, 18], strict=True):
        history[MONDAY - timedelta(weeks=w)] = rows
    expected = day_expectation(history, MONDAY)
    assert expected is not None
    assert (expected.rows, expected.runs, expected.same_weekday) == (20, 7, True)


def test_no_other_day_no_expectation() -> None:
    assert day_expectation({}, MONDAY) is None
    assert day_expectation({MONDAY: 50}, MONDAY) is None  # the day itself never counts


def test_a_business_closed_on_sundays_is_not_warned_on_sundays() -> None:
    sunday = date(2025, 3, 16)
    history = {d: (0 if d.weekday() == 6 else 25) for d in days(sunday - timedelta(days=28), 28, 0)}
    expected = day_expectation(history, sunday)
    assert expected is not None and expected.rows == 0
    assert judge("auvo", "tasks", sunday, 0, expected, Thresholds()) is None
    # ... while an empty Monday is.
    assert judge("auvo", "tasks", MONDAY, 0, day_expectation(history, MONDAY), Thresholds()) is not None


@pytest.mark.parametrize(
    ("received", "expected", "thresholds", "kind"),
    [
        (0, 20, Thresholds(), "empty"),
        (1, 20, Thresholds(), "far_below"),  # under a tenth of usual
        (2, 20, Thresholds(), None),  # exactly a tenth: not far below
        (0, 9, Thresholds(), None),  # 9 is not "many" by default
        (0, 10, Thresholds(), "empty"),
        (0, 3, Thresholds(min_rows=1), "empty"),
        (0, 500, Thresholds(min_rows=0), None),  # min_rows 0 = the check is off
        (10, 500, Thresholds(ratio=0), None),  # ratio 0 = only empty days
        (0, 500, Thresholds(ratio=0), "empty"),
        (200, 500, Thresholds(ratio=0.5), "far_below"),
    ],
)
def test_when_a_count_is_a_warning(
    received: int, expected: float, thresholds: Thresholds, kind: str | None
) -> None:
    warning = judge("auvo", "tasks", MONDAY, received, Expectation(expected, (MONDAY,), 1), thresholds)
    assert (warning.kind if warning else None) == kind


def test_the_message_names_source_stream_day_what_was_expected_and_why_it_matters() -> None:
    expected = day_expectation(days(MONDAY + timedelta(days=1), 3, [18, 22, 20]), MONDAY)
    warning = judge("auvo", "tasks", MONDAY, 0, expected, Thresholds(), what="tasks")
    assert warning is not None
    assert (warning.source, warning.stream, warning.day, warning.kind) == ("auvo", "tasks", MONDAY, "empty")
    text = warning.message
    assert text.startswith("auvo.tasks 2025-03-10: the API returned no tasks, while ")
    assert "the 3 nearest days synced (2025-03-11..2025-03-13) returned a median of 20" in text
    assert "The data of this day is probably missing" in text and "re-run the day" in text


def test_an_empty_day_without_history_is_a_note_not_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert judge("auvo", "tasks", MONDAY, 0, None, Thresholds(), what="tasks") is None
    (record,) = [r for r in caplog.records if "auvo.tasks" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert "no other successful run of this stream to compare with" in record.getMessage()


def test_a_snapshot_is_compared_with_its_last_runs() -> None:
    expected = runs_expectation([50, 50, 49, 51, 50, 50, 50, 3, 3])  # newest first; 7 count
    assert expected is not None and (expected.rows, expected.runs) == (50, 7)
    warning = judge("auvo", "users", MONDAY, 0, expected, Thresholds(), what="users")
    assert warning is not None
    assert "the last 7 successful runs returned a median of 50" in warning.message
    assert "The data of this listing is probably missing" in warning.message
    assert runs_expectation([]) is None


def test_plates_add_up_their_own_expectations_and_unknown_plates_add_nothing() -> None:
    histories = {
        "AAA1111": days(MONDAY - timedelta(days=3), 3, 100),
        "BBB2222": days(MONDAY - timedelta(days=3), 3, [40, 60, 50]),
        "CCC3333": {},
    }
    expected = plates_expectation(histories, MONDAY)
    assert expected is not None and expected.rows == 150 and expected.runs == 3
    assert plates_expectation({"CCC3333": {}}, MONDAY) is None


def test_several_warnings_of_one_row_are_kept_in_order() -> None:
    a = DayWarning("e_track", "positions", MONDAY, "retention_edge", "first")
    b = DayWarning("e_track", "positions", MONDAY, "empty", "second")
    assert combined([a, None, b]) == "first | second"
    assert combined([None]) is None
