"""parse.py on literal inputs, the ugly ones included (auvo-api.md §2, §6.3).

The column readers are ``sync_apis.values`` with Auvo's rules, made lenient (unreadable -> NULL):
these cases pin what an Auvo column gets; tests/unit/test_values.py covers the readers themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from sync_apis.auvo import parse
from sync_apis.auvo.parse import to_row
from sync_apis.auvo.streams import BY_NAME, CUSTOMERS, PRODUCTS, SERVICES, TASKS, USERS
from sync_apis.rejected import Rejected

SP = timezone(timedelta(hours=-3))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0,00", Decimal("0.00")),
        ("2.500.000,00", Decimal("2500000.00")),
        ("6,00", Decimal("6.00")),
        ("R$ 1.234,56", Decimal("1234.56")),
        ("-15,5", Decimal("-15.5")),
        ("2.500", Decimal("2500")),  # pt-BR thousands, the documented reading of a money string
        (12.5, Decimal("12.5")),
        (7, Decimal("7")),
        ("", None),
        ("abc", None),
        (None, None),
        (True, None),
    ],
)
def test_money(text, expected):
    assert parse.CONVERTERS["money"](text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.41111111111111", Decimal("3.41111111111111")),
        ("3,5", Decimal("3.5")),
        ("0", Decimal("0")),
        ("", None),
        ("NaN", None),
    ],
)
def test_decimal(text, expected):
    assert parse.CONVERTERS["numeric"](text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-10T08:00:00", datetime(2025, 3, 10, 8, 0, tzinfo=SP)),
        ("2025-03-10 09:30:00", datetime(2025, 3, 10, 9, 30, tzinfo=SP)),  # login / segment format
        ("2025-03-10T08:00:00Z", datetime(2025, 3, 10, 5, 0, tzinfo=SP)),
        ("2025-03-10T08:00:00-02:00", datetime(2025, 3, 10, 7, 0, tzinfo=SP)),
        ("2025-03-10", datetime(2025, 3, 10, 0, 0, tzinfo=SP)),
        ("", None),
        ("0001-01-01T00:00:00", None),
        ("0001-01-01 00:00:00", None),
        ("not a date", None),
        (None, None),
        (20250310, None),
    ],
)
def test_local_timestamps(value, expected):
    got = parse.CONVERTERS["timestamptz"](value)
    assert got == expected
    if got is not None:
        assert got.utcoffset() is not None


def test_local_time_is_sao_paulo_utc_minus_3():
    got = parse.CONVERTERS["timestamptz"]("2025-03-10T00:00:00")
    assert got is not None and got.utcoffset() == timedelta(hours=-3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), ("42", 42), (" 7 ", 7), (3.0, 3), (3.5, None), ("", None), (True, None), ("x", None)],
)
def test_int(value, expected):
    assert parse.CONVERTERS["bigint"](value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("False", False),
        (1, True),
        (0, False),
        ("", None),
        (2, None),
    ],
)
def test_bool(value, expected):
    assert parse.CONVERTERS["bool"](value) is expected


def test_text_treats_empty_as_null_and_keeps_numbers():
    assert parse.CONVERTERS["text"]("") is None
    assert parse.CONVERTERS["text"]("   ") is None
    assert parse.CONVERTERS["text"](10000) == "10000"
    assert parse.CONVERTERS["text"]({"a": 1}) is None
    assert parse.CONVERTERS["text"]("Cliente A") == "Cliente A"


def _columns(stream, row):
    return dict(zip(stream.all_columns, row, strict=True))


def test_task_row_from_a_real_shaped_record():
    record = {
        "taskID": 900001,
        "externalId": "",
        "idUserFrom": 11,
        "idUserTo": 12,
        "customerId": 5001,
        "taskDate": "2025-03-10T08:00:00",
        "checkInDate": "",
        "deliveredDate": "0001-01-01T00:00:00",
        "deliveredOnSmarthPhone": True,
        "expense": "2.500.000,00",
        "durationDecimal": "3.41111111111111",
        "taskStatus": 1,
        "dateLastUpdate": "2025-03-09T17:02:11",
        "products": [{"productId": "x"}],
        "somethingNew": {"kept": "in raw"},
    }
    row = to_row(TASKS, record)
    assert isinstance(row, tuple)
    got = _columns(TASKS, row)
    assert got["task_id"] == 900001
    assert got["external_id"] is None
    assert got["id_user_to"] == 12
    assert got["task_date"] == datetime(2025, 3, 10, 8, 0, tzinfo=SP)
    assert got["check_in_date"] is None
    assert got["delivered_date"] is None
    assert got["delivered_on_smarth_phone"] is True
    assert got["expense"] == Decimal("2500000.00")
    assert got["duration_decimal"] == Decimal("3.41111111111111")
    assert got["raw"] is record  # the whole record, unknown fields included


@pytest.mark.parametrize("key_field", ["userID", "userId"])
def test_user_key_in_either_spelling(key_field):
    row = to_row(
        USERS,
        {key_field: 150001, "name": "Ana", "userType": {"userTypeId": 3}, "basePoint": {"latitude": -23.5}},
    )
    assert isinstance(row, tuple)
    got = _columns(USERS, row)
    assert got["user_id"] == 150001
    assert got["user_type_id"] == 3
    assert got["base_point_latitude"] == -23.5


@pytest.mark.parametrize(
    "record",
    [{"id": 5001, "description": "Cliente A"}, {"customerId": 5001, "name": "Cliente A"}],
)
def test_customer_id_and_name_variants(record):
    got = _columns(CUSTOMERS, to_row(CUSTOMERS, record))
    assert got["customer_id"] == 5001
    assert got["description"] == "Cliente A"


def test_guid_keys_for_products_and_services():
    guid = "6f1c2b0e-8d7a-4f5e-9c1b-2a3d4e5f6a7b"
    product = _columns(PRODUCTS, to_row(PRODUCTS, {"productId": guid, "code": 10001, "unitaryCost": "6,00"}))
    assert product["product_id"] == guid
    assert product["code"] == "10001"
    assert product["unitary_cost"] == Decimal("6.00")
    service = _columns(SERVICES, to_row(SERVICES, {"id": guid, "title": "Visita", "price": 120.5}))
    assert service["service_id"] == guid
    assert service["price"] == Decimal("120.5")


@pytest.mark.parametrize(
    ("stream", "record", "reason"),
    [
        (TASKS, {"customerId": 1}, "missing key (taskID/taskId/id)"),
        (TASKS, {"taskID": ""}, "missing key"),
        (TASKS, {"taskID": "abc"}, "unusable key taskID='abc'"),
        (TASKS, {"taskID": 0}, "unusable key"),
        (USERS, {"name": "no id"}, "missing key (userID/userId/id)"),
        (PRODUCTS, {"productId": "00000000-0000-0000-0000-000000000000"}, "unusable key"),
        (BY_NAME["teams"], ["not", "an", "object"], "not an object"),
    ],
)
def test_records_without_a_usable_key_are_rejected_with_a_reason(stream, record, reason):
    with pytest.raises(Rejected) as rejected:
        to_row(stream, record)
    got = rejected.value
    assert reason in got.reason
    assert got.raw == record


def test_api_time_is_local_without_offset():
    moment = datetime(2025, 3, 10, 3, 0, tzinfo=UTC)
    assert parse.api_time(moment) == "2025-03-10T00:00:00"


# --------------------------------------------------------------------------- hostile records

GOOD_TASK = {"taskID": 900002, "taskDate": "2025-03-10T08:00:00", "dateLastUpdate": "2025-03-10T09:00:00"}
EXPENSES = BY_NAME["expenses"]


@pytest.mark.parametrize(
    ("stream", "record", "reason"),
    [
        (
            TASKS,
            {**GOOD_TASK, "taskDate": "2025-13-45T99:00:00"},
            "unreadable taskDate: '2025-13-45T99:00:00'",
        ),
        (TASKS, {**GOOD_TASK, "taskDate": "31/02/2025"}, "unreadable taskDate: '31/02/2025'"),
        (TASKS, {**GOOD_TASK, "taskDate": "2025-02-31T10:00:00"}, "unreadable taskDate"),
        (TASKS, {**GOOD_TASK, "taskDate": {"date": "2025-03-10"}}, "unreadable taskDate: {'date'"),
        (TASKS, {**GOOD_TASK, "taskDate": 20250310}, "unreadable taskDate: 20250310"),
        (TASKS, {**GOOD_TASK, "dateLastUpdate": "ontem"}, "unreadable dateLastUpdate: 'ontem'"),
        (CUSTOMERS, {"id": 7, "dateLastUpdate": "2025-02-30T00:00:00"}, "unreadable dateLastUpdate"),
        (EXPENSES, {"id": 8, "date": "2025-03-32T00:00:00", "amount": "10,00"}, "unreadable date"),
        (TASKS, {**GOOD_TASK, "taskID": {"id": 1}}, "unusable key taskID={'id': 1}"),
        (TASKS, {**GOOD_TASK, "taskID": 2**63}, "unusable key"),
        (TASKS, {**GOOD_TASK, "taskID": "1e400"}, "unusable key"),
        (USERS, {"userID": [1]}, "unusable key"),
    ],
)
def test_records_whose_key_or_day_stamp_is_unreadable_are_rejected(stream, record, reason):
    with pytest.raises(Rejected) as rejected:
        to_row(stream, record)
    got = rejected.value
    assert reason in got.reason
    assert got.raw is record  # kept whole for sync_meta.rejected_records


@pytest.mark.parametrize("stamp", ["", "0001-01-01T00:00:00", None])
def test_no_date_in_a_stamp_is_not_a_rejection(stamp):
    record = {**GOOD_TASK, "dateLastUpdate": stamp}
    got = _columns(TASKS, to_row(TASKS, record))
    assert got["date_last_update"] is None


@pytest.mark.parametrize(
    ("fields", "column"),
    [
        ({"expense": "abc"}, "expense"),
        ({"expense": {"value": 10}}, "expense"),
        ({"durationDecimal": "3,4,5x"}, "duration_decimal"),
        ({"latitude": 91.0}, "latitude"),
        ({"latitude": "-90.0001"}, "latitude"),
        ({"longitude": -180.5}, "longitude"),
        ({"longitude": "abc"}, "longitude"),
        ({"priority": 2**31}, "priority"),
        ({"priority": "alta"}, "priority"),
        ({"customerId": 2**63}, "customer_id"),
        ({"customerId": "5001x"}, "customer_id"),
        ({"checkInDate": "2025-02-29T10:00:00"}, "check_in_date"),  # 2025 is no leap year
        ({"creationDate": ["2025-03-01"]}, "creation_date"),
        ({"address": {"street": "Rua A"}}, "address"),
        ({"orientation": ["a", "b"]}, "orientation"),
        ({"finished": "talvez"}, "finished"),
        ({"checkIn": 2}, "check_in"),
    ],
)
def test_unreadable_descriptive_fields_load_as_null_with_the_original_in_raw(fields, column):
    record = {**GOOD_TASK, "expense": "6,00", "latitude": -23.5, "longitude": -46.6, **fields}
    got = _columns(TASKS, to_row(TASKS, record))
    assert got[column] is None
    assert got["task_id"] == 900002 and got["task_date"] == datetime(2025, 3, 10, 8, 0, tzinfo=SP)
    for name, value in fields.items():
        assert got["raw"][name] == value  # the original value, as sent


def test_coordinates_on_the_limits_and_unknown_fields_are_kept():
    record = {**GOOD_TASK, "latitude": -90, "longitude": "180", "brandNew": {"nested": [1, 2]}}
    got = _columns(TASKS, to_row(TASKS, record))
    assert (got["latitude"], got["longitude"]) == (-90.0, 180.0)
    assert got["raw"]["brandNew"] == {"nested": [1, 2]}
    user = _columns(USERS, to_row(USERS, {"userID": 1, "basePoint": {"latitude": 123.0, "longitude": 10}}))
    assert (user["base_point_latitude"], user["base_point_longitude"]) == (None, 10.0)
