"""sync_apis.values on the ugly literals of both API docs (auvo-api.md §2/§6.3, etrac-api.md §3).

The readers return None for "nothing", raise ValueError for "unreadable"; the record parsers
decide what that costs. Where Auvo and e-Track used to disagree silently, the cases below pin
the one behaviour, and the two named differences (``placeholders``, ``units``) per source.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from sync_apis import LOCAL_TZ, LOCAL_TZ_NAME
from sync_apis.values import AUVO, ETRAC, ValueRules

BOTH = pytest.mark.parametrize("rules", [AUVO, ETRAC], ids=["auvo", "etrac"])


def test_the_zone_is_defined_once_and_is_sao_paulo() -> None:
    assert LOCAL_TZ.key == LOCAL_TZ_NAME == "America/Sao_Paulo"
    from sync_apis import localday

    assert localday.LOCAL_TZ is LOCAL_TZ


# --------------------------------------------------------------------------- numbers


@BOTH
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0,00", "0.00"),
        ("1.234,56", "1234.56"),
        ("R$ 1.234,56", "1234.56"),
        ("R$6,00", "6.00"),
        ("2.500.000,00", "2500000.00"),
        ("1,234,567", "1234567"),  # auvo used to read None, e-Track 1234567
        ("1.234.567", "1234567"),
        ("1,234.5", "1234.5"),  # auvo used to read 1.2345
        ("3.41111111111111", "3.41111111111111"),
        ("-19.9166813", "-19.9166813"),
        ("-43,9344931", "-43.9344931"),
        ("12,6", "12.6"),
        ("2.500", "2.500"),  # a lone dot is a decimal point unless the field says otherwise
        ("  7 ", "7"),
        ("+5", "5"),
        ("1 234,5", "1234.5"),
        ("\u00a01.234,5", "1234.5"),
        ("0001", "1"),
    ],
)
def test_number_strings_read_the_same_for_both_sources(rules: ValueRules, text: str, expected: str) -> None:
    assert rules.decimal(text) == Decimal(expected)
    assert rules.number(text) == float(expected)


@BOTH
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.500", 2500),
        ("123.456", 123456),
        ("-2.500", -2500),
        ("2.500.000,00", 2500000),
        ("123456.7", 123456.7),
    ],
)
def test_dots_group_thousands_only_where_the_field_says_so(
    rules: ValueRules, text: str, expected: float
) -> None:
    assert rules.number(text, dot_groups_thousands=True) == expected
    assert rules.decimal(text, dot_groups_thousands=True) == Decimal(str(expected))


def test_money_is_pt_br() -> None:
    assert AUVO.money("2.500") == Decimal("2500")
    assert AUVO.money("0,00") == Decimal("0.00")
    assert AUVO.money(12.5) == Decimal("12.5")


@BOTH
@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "NaN",
        "inf",
        "1e3",
        "1.2.3",
        "3,4,5",
        "1.234,5,6",
        "12.34,5",
        "--5",
        ",",
        "R$",
        True,
        False,
        [1],
        {},
    ],
)
def test_unreadable_numbers_raise(rules: ValueRules, value: object) -> None:
    with pytest.raises(ValueError):
        rules.number(value)
    with pytest.raises(ValueError):
        rules.decimal(value)


@BOTH
def test_non_finite_and_huge_json_numbers_are_unreadable(rules: ValueRules) -> None:
    for value in (float("nan"), float("inf"), 10**400):
        with pytest.raises(ValueError):
            rules.number(value)
    assert rules.number(42) == 42.0 and rules.number(12.6) == 12.6
    assert rules.decimal(12.6) == Decimal("12.6") and rules.decimal(7) == Decimal("7")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42 km/h", 42.0),
        ("0 km/h", 0.0),
        ("12,6 V", 12.6),
        ("12.6 V", 12.6),
        ("4,5 °C", 4.5),
        ("123.456 km", 123.456),
    ],
)
def test_units_after_numbers_are_an_etrac_rule(text: str, expected: float) -> None:
    assert ETRAC.number(text) == pytest.approx(expected)
    with pytest.raises(ValueError):
        AUVO.number(text)  # auvo-api.md: numbers never carry units; "5001x" is no 5001


def test_odometer_with_unit_and_thousands() -> None:
    assert ETRAC.number("123.456 km", dot_groups_thousands=True) == 123456.0


@pytest.mark.parametrize("text", ["5-", "12.6V2", "km", "abc 12", "N/D volts", "abc V", "12 3x4"])
def test_a_unit_is_text_after_the_number_only(text: str) -> None:
    with pytest.raises(ValueError):
        ETRAC.number(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), ("42", 42), (" 7 ", 7), ("+7", 7), (3.0, 3), ("3,0", 3), ("1.234.567", 1234567), (2**63, 2**63)],
)
def test_integers(value: object, expected: int) -> None:
    got = AUVO.integer(value)
    assert got == expected and type(got) is int


@pytest.mark.parametrize("value", [3.5, "3,5", True, "x", "1e400", "+-7", float("inf")])
def test_non_integers_raise(value: object) -> None:
    with pytest.raises(ValueError):
        AUVO.integer(value)


# --------------------------------------------------------------------------- empty values


@BOTH
@pytest.mark.parametrize("value", [None, "", "   ", "\t"])
def test_blank_is_empty_everywhere(rules: ValueRules, value: object) -> None:
    assert rules.is_empty(value)
    assert rules.text(value) is None
    assert rules.number(value) is None
    assert rules.decimal(value) is None
    assert rules.boolean(value) is None
    assert rules.timestamp(value) is None
    assert rules.duration(value) is None


@pytest.mark.parametrize("value", ["-", "--", "null", "NULL", "None", "n/a", " - "])
def test_placeholders_are_empty_for_etrac_and_text_for_auvo(value: str) -> None:
    assert ETRAC.is_empty(value)
    assert ETRAC.text(value) is None and ETRAC.number(value) is None and ETRAC.timestamp(value) is None
    assert ETRAC.boolean(value) is None
    assert not AUVO.is_empty(value)
    assert AUVO.text(value) == value.strip()  # a "-" typed into an Auvo note is the user's text
    with pytest.raises(ValueError):
        AUVO.number(value)
    with pytest.raises(ValueError):
        AUVO.timestamp(value)


@pytest.mark.parametrize("value", [0, 0.0, False, "0", "0,00"])
def test_zero_and_false_are_values_not_empty(value: object) -> None:
    assert not ETRAC.is_empty(value) and not AUVO.is_empty(value)


# --------------------------------------------------------------------------- text and flags


@BOTH
def test_text(rules: ValueRules) -> None:
    assert rules.text(" Cliente A ") == "Cliente A"
    assert rules.text(10000) == "10000"
    assert rules.text(12.0) == "12"
    assert rules.text(12.5) == "12.5"
    assert rules.text(True) == "true" and rules.text(False) == "false"
    for value in ({"a": 1}, [1]):
        with pytest.raises(ValueError):
            rules.text(value)


@BOTH
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ligado", True),
        ("desligado", False),
        ("Ligada", True),
        ("desligada", False),
        ("S", True),
        ("N", False),
        ("sim", True),
        ("não", False),
        ("nao", False),
        ("true", True),
        ("False", False),
        ("on", True),
        ("off", False),
        ("1", True),
        ("0", False),
        (1, True),
        (0, False),
        (1.0, True),
        (True, True),
        (False, False),
    ],
)
def test_flags_read_the_same_for_both_sources(rules: ValueRules, value: object, expected: bool) -> None:
    assert rules.boolean(value) is expected


@BOTH
@pytest.mark.parametrize("value", [2, -1, 0.5, "talvez", "2", {"on": True}])
def test_unreadable_flags_raise(rules: ValueRules, value: object) -> None:
    with pytest.raises(ValueError):
        rules.boolean(value)


# --------------------------------------------------------------------------- timestamps

LOCAL_1432 = datetime(2025, 11, 15, 14, 32, 10, tzinfo=LOCAL_TZ)


@BOTH
@pytest.mark.parametrize(
    "text",
    [
        "15/11/2025 14:32:10",
        "15-11-2025 14:32:10",
        "2025-11-15 14:32:10",
        "2025-11-15T14:32:10",
        "2025/11/15 14:32:10",
        " 15/11/2025  14:32:10 ",
        "2025-11-15T17:32:10Z",
        "2025-11-15T14:32:10-03:00",
        "2025-11-15T18:32:10+01:00",
    ],
)
def test_every_accepted_timestamp_form_is_the_same_instant(rules: ValueRules, text: str) -> None:
    got = rules.timestamp(text)
    assert got == LOCAL_1432
    assert got is not None and got.astimezone(UTC) == datetime(2025, 11, 15, 17, 32, 10, tzinfo=UTC)


@BOTH
def test_offsetless_times_carry_the_local_zone_and_offsets_their_own(rules: ValueRules) -> None:
    assert rules.timestamp("15/11/2025 14:32:10").tzinfo is LOCAL_TZ  # type: ignore[union-attr]
    assert rules.timestamp("2025-03-10T08:00:00").tzinfo is LOCAL_TZ  # type: ignore[union-attr]
    offset = rules.timestamp("2025-03-10T08:00:00-02:00")
    assert offset is not None and offset.utcoffset() == timedelta(hours=-2)
    other = timezone(timedelta(hours=9))
    assert rules.timestamp("10/03/2025 08:00:00", other) == datetime(2025, 3, 10, 8, tzinfo=other)


@BOTH
@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("15/11/2025 14:32:10.250", 250000),
        ("15/11/2025 14:32:10,5", 500000),
        ("2025-11-15T14:32:10.123", 123000),
        ("2025-11-15T14:32:10.1234567", 123456),
    ],
)
def test_fractional_seconds(rules: ValueRules, text: str, micros: int) -> None:
    assert rules.timestamp(text) == LOCAL_1432.replace(microsecond=micros)


@BOTH
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15/11/2025", date(2025, 11, 15)),
        ("15-11-2025", date(2025, 11, 15)),
        ("2025-11-15", date(2025, 11, 15)),
        ("2025/11/15", date(2025, 11, 15)),
        ("15/11/2025 14:32", date(2025, 11, 15)),
    ],
)
def test_dates_alone_are_local_midnight(rules: ValueRules, text: str, expected: date) -> None:
    assert rules.date(text) == expected
    moment = rules.timestamp(text)
    assert moment is not None and moment.date() == expected and moment.tzinfo is LOCAL_TZ


@BOTH
@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00",
        "0001-01-01 00:00:00",
        "0001-01-01",
        "01/01/0001 00:00:00",
        "01-01-0001",
        "0000-00-00 00:00:00",
        "00/00/0000 00:00:00",
        "00/00/0000",
        "0001-01-01T00:00:00-03:00",
    ],
)
def test_zero_dates_mean_no_date(rules: ValueRules, text: str) -> None:
    assert rules.timestamp(text) is None
    assert rules.date(text) is None


@BOTH
@pytest.mark.parametrize(
    "value",
    [
        "31/02/2025 10:00:00",
        "29/02/2025",
        "2025-02-29T10:00:00",
        "2025-13-45T99:00:00",
        "15/11/25 14:32",
        "yesterday",
        "ontem",
        "2025-W10-1T08:00:00",  # fromisoformat would take a week date; the APIs never send one
        "20250310",
        12345,
        20250310,
        {"d": "15/11/2025"},
    ],
)
def test_unreadable_timestamps_raise(rules: ValueRules, value: object) -> None:
    with pytest.raises(ValueError):
        rules.timestamp(value)


@BOTH
def test_datetime_and_date_objects(rules: ValueRules) -> None:
    assert rules.timestamp(datetime(2025, 3, 10, 8)) == datetime(2025, 3, 10, 8, tzinfo=LOCAL_TZ)
    aware = datetime(2025, 3, 10, 8, tzinfo=UTC)
    assert rules.timestamp(aware) is aware
    assert rules.timestamp(date(2025, 3, 10)) == datetime(2025, 3, 10, tzinfo=LOCAL_TZ)


# São Paulo's last daylight-saving years: 2018-11-04 00:00 -> 01:00 (a skipped hour) and
# 2019-02-17 00:00 -> 2019-02-16 23:00 (a repeated hour). Wall times are read with fold=0,
# exactly as ``datetime.replace(tzinfo=...)`` (and so as before this module existed).


@BOTH
@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("04/11/2018 00:30:00", datetime(2018, 11, 4, 3, 30, tzinfo=UTC)),  # skipped: the -03 reading
        ("2018-11-04T00:30:00", datetime(2018, 11, 4, 3, 30, tzinfo=UTC)),
        ("04/11/2018 01:30:00", datetime(2018, 11, 4, 3, 30, tzinfo=UTC)),  # first hour of DST, -02
        ("16/02/2019 23:30:00", datetime(2019, 2, 17, 1, 30, tzinfo=UTC)),  # repeated: the first, -02
        ("2019-02-16 23:30:00", datetime(2019, 2, 17, 1, 30, tzinfo=UTC)),
        ("17/02/2019 00:30:00", datetime(2019, 2, 17, 3, 30, tzinfo=UTC)),  # after DST, -03
        ("15/01/2019 12:00:00", datetime(2019, 1, 15, 14, 0, tzinfo=UTC)),  # summer, -02
    ],
)
def test_dst_gaps_and_folds_of_sao_paulo_history(rules: ValueRules, text: str, utc: datetime) -> None:
    got = rules.timestamp(text)
    assert got is not None and got.fold == 0
    assert got.astimezone(UTC) == utc


def _reference(text: str) -> datetime:
    """What the strptime-based parsers did for the common shapes (the fast path must agree)."""
    fmt = "%d/%m/%Y %H:%M:%S" if text[2] == "/" else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text.replace("T", " "), fmt).replace(tzinfo=LOCAL_TZ)


@pytest.mark.parametrize("year", [2017, 2018, 2019, 2025])
def test_fast_shapes_agree_with_strptime_every_hour_of_the_dst_seasons(year: int) -> None:
    start = datetime(year, 10, 1) if year != 2019 else datetime(year, 2, 1)
    for hour in range(0, 24 * 150, 7):  # 7 h steps cross every hour of the day and both switches
        moment = start + timedelta(hours=hour, minutes=hour % 60, seconds=hour % 59)
        for text in (moment.strftime("%d/%m/%Y %H:%M:%S"), moment.strftime("%Y-%m-%dT%H:%M:%S")):
            got = ETRAC.timestamp(text)
            expected = _reference(text)
            assert got == expected and got is not None
            assert (got.utcoffset(), got.fold) == (expected.utcoffset(), expected.fold), text


# --------------------------------------------------------------------------- durations


@BOTH
def test_durations(rules: ValueRules) -> None:
    assert rules.duration("01:11:35") == timedelta(hours=1, minutes=11, seconds=35)
    assert rules.duration("26:00:01") == timedelta(hours=26, seconds=1)
    assert rules.duration("01:11") == timedelta(hours=1, minutes=11)
    assert rules.duration("-00:00:05") == timedelta(seconds=-5)
    assert rules.duration(90) == timedelta(seconds=90)
    for bad in ("1h11", "01:11:35:00", True, [1]):
        with pytest.raises(ValueError):
            rules.duration(bad)
