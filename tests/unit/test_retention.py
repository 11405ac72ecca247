"""Retention date arithmetic: São Paulo days against ``now - N days``, whatever the UTC date."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from sync_apis.retention import Reach, Retention, parse_days

SP = timezone(timedelta(hours=-3))  # São Paulo has had no daylight saving since 2019
E_TRACK = Retention("e_track", "e-Track", "etrac_retention_days", 90)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("now", "day", "reach"),
    [
        # 10:00 local on 2025-06-10: the cutoff is 2025-03-12 10:00 local.
        ("2025-06-10T10:00:00-03:00", date(2025, 3, 11), Reach.BEYOND),
        ("2025-06-10T10:00:00-03:00", date(2025, 3, 12), Reach.EDGE),
        ("2025-06-10T10:00:00-03:00", date(2025, 3, 13), Reach.WITHIN),
        # 22:30 local on 2025-06-10 is already 2025-06-11 in UTC: the local date decides.
        ("2025-06-10T22:30:00-03:00", date(2025, 3, 11), Reach.BEYOND),
        ("2025-06-10T22:30:00-03:00", date(2025, 3, 12), Reach.EDGE),
        ("2025-06-11T01:30:00+00:00", date(2025, 3, 12), Reach.EDGE),  # the same instant in UTC
        ("2025-06-11T01:30:00+00:00", date(2025, 3, 13), Reach.WITHIN),
        # Exactly local midnight: the day that just began 90 days ago is kept whole.
        ("2025-06-10T00:00:00-03:00", date(2025, 3, 12), Reach.WITHIN),
        ("2025-06-10T00:00:00-03:00", date(2025, 3, 11), Reach.BEYOND),
        # One second after local midnight: that day lost its first second.
        ("2025-06-10T00:00:01-03:00", date(2025, 3, 12), Reach.EDGE),
        # 23:59 local: the cutoff's day is still 2025-03-12, never the UTC 2025-03-13.
        ("2025-06-10T23:59:00-03:00", date(2025, 3, 12), Reach.EDGE),
        ("2025-06-10T23:59:00-03:00", date(2025, 3, 13), Reach.WITHIN),
    ],
)
def test_a_day_is_within_at_the_edge_of_or_beyond_the_retention(now: str, day: date, reach: Reach) -> None:
    assert E_TRACK.reach(day, at(now)) is reach


def test_the_oldest_complete_day_is_the_first_local_day_after_the_cutoff() -> None:
    assert E_TRACK.oldest_complete_day(at("2025-06-10T10:00:00-03:00")) == date(2025, 3, 13)
    assert E_TRACK.oldest_complete_day(at("2025-06-11T01:30:00+00:00")) == date(2025, 3, 13)
    assert E_TRACK.oldest_complete_day(at("2025-06-10T00:00:00-03:00")) == date(2025, 3, 12)


def test_it_agrees_with_a_sandbox_that_keeps_whole_days() -> None:
    # The e-Track sandbox serves days >= today - 90 (sandbox/etrac/server.py _oldest_kept): the
    # oldest day it serves is never refused, the one before it always is.
    for hour in (0, 3, 12, 21, 23):
        now = datetime(2025, 6, 10, hour, 30, tzinfo=SP)
        oldest_served = date(2025, 6, 10) - timedelta(days=90)
        assert E_TRACK.reach(oldest_served, now) is not Reach.BEYOND
        assert E_TRACK.reach(oldest_served - timedelta(days=1), now) is Reach.BEYOND


def test_an_unknown_retention_refuses_nothing() -> None:
    unknown = Retention("e_track", "e-Track", "etrac_retention_days", None)
    assert unknown.reach(date(2000, 1, 1), at("2025-06-10T10:00:00-03:00")) is Reach.WITHIN
    assert unknown.oldest_complete_day(at("2025-06-10T10:00:00-03:00")) is None


def test_the_refusal_says_why_and_how_to_override() -> None:
    text = E_TRACK.refusal(date(2025, 3, 10), at("2025-06-10T10:00:00-03:00"))
    assert text.startswith("e_track 2025-03-10 is older than the e-Track API keeps")
    assert "retention of 90 days ([sync_apis] etrac_retention_days)" in text
    assert "nothing before 2025-03-12 10:00 (São Paulo)" in text
    assert "oldest complete day it serves now is 2025-03-13" in text
    assert "Refused before any request" in text
    assert "AIRFLOW__SYNC_APIS__ETRAC_RETENTION_DAYS" in text


@pytest.mark.parametrize(("value", "days"), [("90", 90), (" 30 ", 30), ("0", None), ("", None), (None, None)])
def test_the_option_is_days_or_unknown(value: object, days: int | None) -> None:
    assert parse_days(value, "etrac_retention_days") == days


@pytest.mark.parametrize("value", ["-1", "ninety", "1.5"])
def test_a_bad_option_value_names_the_option(value: str) -> None:
    with pytest.raises(ValueError, match=r"\[sync_apis\] etrac_retention_days = "):
        parse_days(value, "etrac_retention_days")
