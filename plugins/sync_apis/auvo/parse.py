"""Pure functions: one Auvo API record (a plain dict) -> one warehouse row.

No HTTP, no SQL, no Airflow. Tolerant of what the API really sends (auvo-api.md §2, §6.3):
``userID``/``userId``, ``id``/``customerId``, ``description``/``name``. The values themselves
(``""`` and ``0001-01-01T00:00:00`` for "no date", pt-BR money ``"2.500.000,00"``, decimal
strings ``"3.41111111111111"``, offset-less local timestamps) are read by ``sync_apis.values``
with Auvo's rules (``values.AUVO``); this module decides what an unreadable one costs.

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

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sync_apis import LOCAL_TZ
from sync_apis.auvo.streams import Column, Kind, Stream
from sync_apis.rejected import Rejected
from sync_apis.values import AUVO

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


def _lenient(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Auvo's price of an unreadable value: NULL, the original stays in ``raw`` (module docstring)."""

    def convert(value: Any) -> Any:
        try:
            return read(value)
        except ValueError:
            return None

    return convert


# One reader per column kind, all from values.py with Auvo's rules (values.AUVO).
CONVERTERS: dict[Kind, Callable[[Any], Any]] = {
    "bigint": _lenient(AUVO.integer),
    "int": _lenient(AUVO.integer),
    "text": _lenient(AUVO.text),
    "bool": _lenient(AUVO.boolean),
    "float": _lenient(AUVO.number),
    "numeric": _lenient(AUVO.decimal),
    "money": _lenient(AUVO.money),
    "timestamptz": _lenient(AUVO.timestamp),
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


def stamp_problem(stream: Stream, record: Mapping[str, Any]) -> str | None:
    """Why the record's day or cursor stamp is unusable, or None (see the module docstring)."""
    for name in (stream.day_field, stream.cursor_field):
        if name is None:
            continue
        raw = field(record, name)
        try:
            AUVO.timestamp(raw)  # absent, "" or the zero date: None, not a problem
        except ValueError:
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
        text = CONVERTERS["text"](value) if not isinstance(value, bool) else None
        if text is None or text.strip() in ("", "00000000-0000-0000-0000-000000000000"):
            raise Rejected(f"unusable key {key.sources[0]}={value!r}", record)
        return text.strip()
    number = CONVERTERS["bigint"](value)
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
    """For window filters: an API time string as an aware datetime, None when unreadable."""
    return CONVERTERS["timestamptz"](value)


def api_time(moment: datetime) -> str:
    """A filter value in the API's format: local ``yyyy-MM-ddTHH:mm:ss``, no offset."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL_TZ).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()
