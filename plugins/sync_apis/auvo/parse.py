"""Pure functions: one Auvo API record (a plain dict) -> one warehouse row.

No HTTP, no SQL, no Airflow. Tolerant of what the API really sends (auvo-api.md §2, §6.3):
``userID``/``userId``, ``id``/``customerId``, ``description``/``name``, ``""`` and
``0001-01-01T00:00:00`` for "no date", pt-BR money strings (``"2.500.000,00"``), decimal strings
(``"3.41111111111111"``) and offset-less local timestamps (America/Sao_Paulo).

What a bad value costs (docs: README "Bad records"):

- the key (``id``/``taskID``...) missing, unreadable, not positive or beyond bigint: the record
  is ``Rejected`` with a reason (it lands in ``sync_meta.rejected_records``);
- the stamps that place a record in time, the stream's ``day_field`` (``taskDate``, expense
  ``date``) and ``cursor_field`` (``dateLastUpdate``): present but unreadable (``31/02/2025``,
  ``2025-13-45T99:00:00``, an object) is rejected too, since the record cannot be put in its
  day or ordered against a newer copy; absent or Auvo's "no date" loads as NULL;
- any other column that cannot be read as its type (``"abc"`` as money, an object where text
  belongs, a latitude beyond ±90, an integer beyond its column) becomes NULL; the record is kept
  whole, unknown fields included, in ``raw``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sync_apis.auvo.streams import Column, Kind, Stream
from sync_apis.rejected import Rejected

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
_ZERO_DATES = ("0001-01-01T00:00:00", "0001-01-01 00:00:00", "0001-01-01")
_CURRENCY = re.compile(r"^\s*(?:R\$)?\s*")


# --------------------------------------------------------------------------- field lookup


def field(record: Mapping[str, Any], name: str) -> Any:
    """``record[name]``, following dots into nested objects, case-insensitive as a fallback.

    The API's routing and names are ASP.NET-style case-insensitive; its payloads have been
    seen as ``BasePoint`` and ``basePoint`` (§5.3), so a second, folded lookup is cheap safety.
    """
    current: Any = record
    for part in name.split("."):
        if not isinstance(current, Mapping):
            return None
        if part in current:
            current = current[part]
            continue
        folded = part.lower()
        for key, value in current.items():
            if isinstance(key, str) and key.lower() == folded:
                current = value
                break
        else:
            return None
    return current


def first_present(record: Mapping[str, Any], sources: tuple[str, ...]) -> Any:
    """The first of ``sources`` that is present and not null (``""`` counts as present)."""
    for name in sources:
        value = field(record, name)
        if value is not None:
            return value
    return None


# --------------------------------------------------------------------------- scalars


def to_text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if text.strip() else None  # the API's "" means "not set" (design.md)


def to_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        number = to_decimal(text)
        if number is not None and number == number.to_integral_value():
            return int(number)
    return None


def to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in ("true", "1", "sim", "s", "yes"):
            return True
        if folded in ("false", "0", "não", "nao", "n", "no"):
            return False
    return None


def to_decimal(value: Any) -> Decimal | None:
    """A decimal from a JSON number or a string in either convention.

    ``"3.41111111111111"`` (dot decimal, as ``durationDecimal``) and ``"1.234,5"`` (pt-BR) both
    work: when a comma is present it is the decimal separator and dots group thousands.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if not isinstance(value, str):
        return None
    text = _CURRENCY.sub("", value).replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif text.count(".") > 1:
        text = text.replace(".", "")  # "2.500.000": only thousands separators
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def to_money(value: Any) -> Decimal | None:
    """pt-BR money: ``"0,00"``, ``"2.500.000,00"``, ``"R$ 6,00"``; JSON numbers as they are.

    The one ambiguous spelling, a single dot followed by exactly three digits and no comma
    (``"2.500"``), is read the pt-BR way (2500): money in this API is pt-BR text or a JSON number.
    """
    if isinstance(value, str):
        text = _CURRENCY.sub("", value).strip()
        if re.fullmatch(r"-?\d{1,3}\.\d{3}", text):
            text = text.replace(".", "")
        return to_decimal(text)
    return to_decimal(value)


def to_float(value: Any) -> float | None:
    number = to_decimal(value)
    return float(number) if number is not None else None


def to_timestamptz(value: Any) -> datetime | None:
    """An aware datetime; offset-less API times are America/Sao_Paulo local (§1.2, §2).

    Both ``T`` and space separators occur (login ``expiration``, segment ``registrationDate``);
    ``""`` and ``0001-01-01T00:00:00`` mean "no date".
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if not text or text in _ZERO_DATES or text.startswith("0001-01-01"):
            return None
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.year <= 1:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SAO_PAULO)
    return moment


CONVERTERS: dict[Kind, Callable[[Any], Any]] = {
    "bigint": to_int,
    "int": to_int,
    "text": to_text,
    "bool": to_bool,
    "float": to_float,
    "numeric": to_decimal,
    "money": to_money,
    "timestamptz": to_timestamptz,
}


# Largest value of the warehouse's integer columns: a bigger number would fail the whole COPY.
INT_LIMITS: dict[Kind, int] = {"bigint": 2**63 - 1, "int": 2**31 - 1}
COORDINATE_LIMITS = (("latitude", 90.0), ("longitude", 180.0))


def in_range(column: Column, value: Any) -> Any:
    """``value``, or None when its column cannot hold it (integer size, coordinate range)."""
    if value is None:
        return None
    limit = INT_LIMITS.get(column.kind)
    if limit is not None and not -limit - 1 <= value <= limit:
        return None
    for suffix, bound in COORDINATE_LIMITS:
        if column.kind == "float" and column.name.endswith(suffix) and not -bound <= value <= bound:
            return None
    return value


def convert(column: Column, record: Mapping[str, Any]) -> Any:
    return in_range(column, CONVERTERS[column.kind](first_present(record, column.sources)))


def is_no_date(value: Any) -> bool:
    """Absent, ``""`` or Auvo's ``0001-01-01T00:00:00``: "not set", not an error."""
    if value is None:
        return True
    return isinstance(value, str) and (not value.strip() or value.strip().startswith("0001-01-01"))


def stamp_problem(stream: Stream, record: Mapping[str, Any]) -> str | None:
    """Why the record's day or cursor stamp is unusable, or None (see the module docstring)."""
    for name in (stream.day_field, stream.cursor_field):
        if name is None:
            continue
        raw = field(record, name)
        if not is_no_date(raw) and to_timestamptz(raw) is None:
            return f"unreadable {name}: {raw!r}"[:300]
    return None


# --------------------------------------------------------------------------- keys and rows


def parse_key(stream: Stream, record: Any) -> int | str:
    """The record's business key; ``Rejected`` (keeping the record) when it has none usable."""
    if not isinstance(record, Mapping):
        raise Rejected(f"record is a {type(record).__name__}, not an object", record)
    key = stream.key
    value = first_present(record, key.sources)
    if value is None or value == "":
        raise Rejected(f"missing key ({'/'.join(key.sources)})", record)
    if key.kind == "text":
        # GUID keys (products, services); a numeric id under the doc's field names is kept as text.
        text = to_text(value) if not isinstance(value, bool) else None
        if text is None or text.strip() in ("", "00000000-0000-0000-0000-000000000000"):
            raise Rejected(f"unusable key {key.sources[0]}={value!r}", record)
        return text.strip()
    number = to_int(value)
    if number is None or number <= 0 or number > INT_LIMITS["bigint"]:
        raise Rejected(f"unusable key {key.sources[0]}={value!r}", record)
    return number


def to_row(stream: Stream, record: Any) -> tuple[Any, ...]:
    """(key, typed columns..., raw) in ``stream.all_columns`` order; ``Rejected`` (keeping the
    record) when it has no usable key or day/cursor stamp."""
    key = parse_key(stream, record)
    problem = stamp_problem(stream, record)
    if problem is not None:
        raise Rejected(problem, record)
    typed = tuple(convert(col, record) for col in stream.columns)
    return (key, *typed, record)


def local_time(value: Any) -> datetime | None:
    """Shortcut for window filters: an API time string as an aware datetime."""
    return to_timestamptz(value)


def api_time(moment: datetime) -> str:
    """A filter value in the API's format: local ``yyyy-MM-ddTHH:mm:ss``, no offset."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(SAO_PAULO).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()
