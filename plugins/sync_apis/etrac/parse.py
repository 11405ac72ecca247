"""e-Track records -> warehouse rows. Pure functions on plain dicts: no HTTP, no SQL, no Airflow.

The API's value formats are largely undocumented (see docs/etrac-api.md §3), so every value is
read tolerantly by ``sync_apis.values`` with e-Track's rules (``values.ETRAC``): dates as
``DD/MM/YYYY HH:MM:SS``, ``YYYY-MM-DD HH:MM:SS``, ISO with ``T`` or ``DD-MM-YYYY``; offset-less
times are local time (``sync_apis.LOCAL_TZ``); numbers may carry units (``"42 km/h"``,
``"12,6 V"``) and Brazilian separators (``"1.234,5"``, ``"123.456 km"``); placeholders such as
``"-"`` mean "nothing". Plates come with or without a hyphen (``normalize_plate``, here).

What a bad value costs, per table (a value "cannot be read": an impossible date such as
``31/02/2025`` or ``2025-13-45T99:00:00``, ``"abc"`` as a number, an object or list where a
scalar belongs, a coordinate beyond ±90/±180):

- positions: ``placa``, ``data_transmissao``, ``latitude``, ``longitude`` are the row's key and
  its day: the record raises :class:`Rejected` with a reason (sync_meta.rejected_records). Any
  other known field becomes NULL, its original under ``extra["_invalid"]``; unknown fields go
  to ``extra`` as sent.
- trips: ``placa`` and ``data_inicio_conducao`` (the key and the day) reject; any other field
  becomes NULL (coordinates out of range too); ``raw`` keeps the record as sent.
- terminals: only ``placa`` rejects (a vehicle that never transmitted is still a vehicle); the
  rest becomes NULL, ``raw`` keeps the record as sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol

from sync_apis import LOCAL_TZ
from sync_apis.http import json_kind
from sync_apis.rejected import Rejected
from sync_apis.values import ETRAC, fast_timestamp, plain_decimal

# --------------------------------------------------------------------------- plates and request dates


_PLATE_NOISE = re.compile(r"[\s\-.]")


def normalize_plate(value: Any) -> str | None:
    """``"abc-1d23"`` / ``" ABC 1D23 "`` -> ``"ABC1D23"``; None when empty or not a plate."""
    if type(value) is str:
        return _normalize_plate_text(value)
    return _normalize_plate(value)


def _normalize_plate(value: Any) -> str | None:
    if ETRAC.is_empty(value):
        return None
    plate = _PLATE_NOISE.sub("", str(value)).upper()
    if not plate or not plate.isalnum() or len(plate) > 16:
        return None
    return plate


# Every record of a history answer repeats its plate: the text of a plate is normalised once,
# not once per position (a dense day is ~1,500 positions per plate).
_normalize_plate_text = lru_cache(maxsize=1024)(_normalize_plate)


def api_date(day: date) -> str:
    """``DD/MM/YYYY``: the ``data`` form of /ultimasposicoesterminal."""
    return day.strftime("%d/%m/%Y")


def api_trip_date(day: date) -> str:
    """``DD-MM-YYYY``: /resumoviagens wants dashes (docs/etrac-api.md E4)."""
    return day.strftime("%d-%m-%Y")


# --------------------------------------------------------------------------- records


class _Fields:
    """One record being read: optional fields collect their unreadable values instead of failing."""

    __slots__ = ("invalid", "plate", "record")

    def __init__(self, record: Mapping[str, Any], plate: str | None) -> None:
        self.record = record
        self.invalid: dict[str, Any] = {}
        self.plate = plate  # the plate the records were asked for (history items may omit it)

    def value(self, name: str, read: Callable[[Any], Any]) -> Any:
        """``read(raw)``; None, with the original kept in ``invalid``, when it cannot."""
        raw = self.record.get(name)
        try:
            return read(raw)
        except ValueError:
            self.invalid[name] = raw
            return None


def _counter(raw: Any) -> float | None:
    """A cumulative meter (odometer, hour meter): a dot groups thousands, ``"123.456 km"``."""
    return ETRAC.number(raw, dot_groups_thousands=True)


def _within(value: float | None, limit: float) -> float | None:
    if value is None or -limit <= value <= limit:
        return value
    raise ValueError(f"out of range: {value}")


def _latitude(raw: Any) -> float | None:
    return _within(ETRAC.number(raw), 90.0)


def _longitude(raw: Any) -> float | None:
    return _within(ETRAC.number(raw), 180.0)


def _as_record(record: Any) -> Mapping[str, Any]:
    if not isinstance(record, Mapping):
        raise Rejected(f"not a JSON object: {type(record).__name__}")
    return record


# Required fields: a missing or unreadable value rejects the record, with the reason.


def _required_moment(fields: _Fields, name: str) -> datetime:
    raw = fields.record.get(name)
    if type(raw) is str:  # the common shapes first: what ETRAC.timestamp would return for them
        value = fast_timestamp(raw, LOCAL_TZ)
        if value is not None:
            return value
    if ETRAC.is_empty(raw):
        raise Rejected(f"missing {name}")
    try:
        value = ETRAC.timestamp(raw, LOCAL_TZ)
    except ValueError:
        raise Rejected(f"unreadable {name}: {raw!r}") from None
    if value is None:
        raise Rejected(f"empty {name}: {raw!r}")
    return value


def _coordinate(fields: _Fields, name: str, limit: float) -> float:
    raw = fields.record.get(name)
    value: float | None
    if type(raw) is str and plain_decimal(raw):  # "-23.5478507", read as ETRAC.number reads it
        value = float(raw)
    elif ETRAC.is_empty(raw):
        raise Rejected(f"missing {name}")
    else:
        try:
            value = ETRAC.number(raw)  # a boolean is no coordinate: it raises
        except ValueError:
            raise Rejected(f"unreadable {name}: {raw!r}") from None
    if value is None or not -limit <= value <= limit:
        raise Rejected(f"{name} out of range: {raw!r}")
    return value


def _required_latitude(fields: _Fields, name: str) -> float:
    return _coordinate(fields, name, 90.0)


def _required_longitude(fields: _Fields, name: str) -> float:
    return _coordinate(fields, name, 180.0)


def _required_plate(fields: _Fields, name: str) -> str:
    raw = fields.record.get(name)
    missing = ETRAC.is_empty(raw)
    plate = normalize_plate(fields.plate if missing else raw)
    if plate is None:
        raise Rejected(f"missing {name}" if missing else f"unreadable {name}: {raw!r}")
    return plate


# How a column's value is read, by the kind its stream declares (``etrac.streams.Column``): an
# optional field by ``_Fields.value`` with one of these, a required one by its own function,
# which rejects the record. Offset-less times are LOCAL_TZ's.
_READ: dict[str, Callable[[Any], Any]] = {
    "text": ETRAC.text,  # an object where text belongs raises: not "{'a': 1}"
    "number": ETRAC.number,
    "counter": _counter,
    "flag": ETRAC.boolean,
    "moment": ETRAC.timestamp,
    "duration": ETRAC.duration,
    "latitude": _latitude,  # out of range: no value
    "longitude": _longitude,
}
_READ_REQUIRED: dict[str, Callable[[_Fields, str], Any]] = {
    "plate": _required_plate,
    "moment": _required_moment,
    "latitude": _required_latitude,
    "longitude": _required_longitude,
}
# Columns that are not a field of the record: ``extra`` (the fields no column reads, and the
# originals of unreadable values under ``_invalid``), ``raw`` (the record as sent), ``added``
# (set by the sync: which endpoint vouches for a fix, which day reported a trip).
NOT_READ = frozenset({"extra", "raw", "added"})


class ColumnSpec(Protocol):
    """A stream's column (``etrac.streams.Column``), as the builder reads it."""

    @property
    def name(self) -> str: ...  # the warehouse column, and the record field it is read from

    @property
    def kind(self) -> str: ...

    @property
    def required(self) -> bool: ...


def column_problem(column: ColumnSpec) -> str | None:
    """Why ``column`` cannot be built (an unknown kind, one that cannot be required), or None."""
    readers = _READ_REQUIRED if column.required else {**_READ, **dict.fromkeys(NOT_READ)}
    if column.kind not in readers:
        required = "required " if column.required else ""
        return f"column {column.name!r}: no {required}kind {column.kind!r} (known: {sorted(readers)})"
    return None


def row_builder(
    columns: Sequence[ColumnSpec], ignored: frozenset[str] = frozenset()
) -> Callable[..., dict[str, Any]]:
    """The row builder of a stream: ``build(record, *, plate=None)`` -> its row by
    column name (the ``added`` columns aside), or :class:`Rejected` with the reason.

    Required columns are read first, in column order: the first one missing or unreadable is
    the reason. ``ignored``: fields the records carry that this table does not keep (they are
    not ``extra``).
    """
    problems = [p for p in map(column_problem, columns) if p]
    if problems:
        raise ValueError("; ".join(problems))
    read = [c for c in columns if c.required] + [c for c in columns if not c.required and c.kind in _READ]
    known = frozenset(c.name for c in read) | ignored
    # The builder is compiled from the columns, as ``dataclasses`` compiles an ``__init__``: one
    # dict display, evaluated left to right, instead of a loop over the columns for each record.
    # A position takes what the hand-written builders it replaced took (5.2-5.9 µs here), where
    # a loop took 6.1 µs (e-Track sends ~1.5 M positions a day).
    scope: dict[str, Any] = {"_as_record": _as_record, "_Fields": _Fields, "_extra": _extra, "known": known}
    items = []
    for i, c in enumerate(read):
        if c.required:
            scope[f"read_{i}"] = _READ_REQUIRED[c.kind]
            items.append(f"{c.name!r}: read_{i}(fields, {c.name!r})")
        else:
            scope[f"read_{i}"] = _READ[c.kind]
            items.append(f"{c.name!r}: fields.value({c.name!r}, read_{i})")
    items += [f"{c.name!r}: _extra(rec, fields, known)" for c in columns if c.kind == "extra"]
    items += [f"{c.name!r}: dict(rec)" for c in columns if c.kind == "raw"]
    source = (
        "def build(record, *, plate=None):\n"
        "    rec = _as_record(record)\n"
        "    fields = _Fields(rec, plate)\n"
        f"    return {{{', '.join(items)}}}\n"
    )
    exec(compile(source, "<e-Track row builder>", "exec"), scope)  # noqa: S102 - our own columns
    build: Callable[..., dict[str, Any]] = scope["build"]
    return build


def _extra(record: Mapping[str, Any], fields: _Fields, known: frozenset[str]) -> dict[str, Any]:
    """The fields no column reads, as sent, and the originals of unreadable values (``_invalid``)."""
    # Records rarely carry an unknown field: a set difference (C) finds out, the rest is skipped.
    unknown = record.keys() - known
    kept: dict[str, Any] = {k: v for k, v in record.items() if k in unknown} if unknown else {}
    if fields.invalid:
        kept["_invalid"] = fields.invalid
    return kept


# --------------------------------------------------------------------------- envelopes


def error_message(payload: Any) -> str | None:
    """The API's ``erro`` text when the body is an error (whatever the HTTP status)."""
    if isinstance(payload, Mapping) and not ETRAC.is_empty(payload.get("erro")):
        return str(payload["erro"]).strip()
    return None


def envelope_problem(payload: Any, keys: tuple[str, ...]) -> str | None:
    """What keeps ``payload`` from being an envelope with its records under one of ``keys``.

    Only the documented envelopes are answers (etrac-api.md §2, §6): E1 ``retorno``, E3
    ``terminal`` + ``posicoes``, E4 ``retorno`` (or ``conducoes``, S3), empty as ``[]``. A bare
    list, ``null`` for the list, or an object without it is not "no data": it is some other
    answer (a proxy's, a changed API), and loading it as an empty day would lose the day.
    """
    if not isinstance(payload, Mapping):
        return f"a JSON {json_kind(payload)} instead of an object"
    for key in keys:
        if isinstance(payload.get(key), list):
            terminal = payload.get("terminal")
            if terminal is not None and not isinstance(terminal, Mapping):
                return f"'terminal' is {json_kind(terminal)}"
            return None
    present = [k for k in keys if k in payload]
    if present:
        return f"{present[0]!r} is {json_kind(payload[present[0]])}"
    return f"an object without {' or '.join(map(repr, keys))} (keys: {sorted(map(str, payload))[:8]})"


def records_of(payload: Any, *keys: str) -> list[Any]:
    """The record list of a documented envelope (see ``envelope_problem``); ValueError otherwise."""
    problem = envelope_problem(payload, keys)
    if problem is not None:
        raise ValueError(f"unexpected response body: {problem}")
    for key in keys:
        value = payload.get(key)
        if isinstance(value, list):
            return value
    raise AssertionError("unreachable: envelope_problem found the list")
