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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from sync_apis import LOCAL_TZ as SAO_PAULO  # the row builders' default zone (the one constant)
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


@dataclass
class _Fields:
    """Reads typed fields out of one record, collecting unreadable values instead of failing."""

    record: Mapping[str, Any]
    invalid: dict[str, Any]

    def text(self, name: str) -> str | None:
        raw = self.record.get(name)
        try:
            return ETRAC.text(raw)  # an object where text belongs raises: not "{'a': 1}"
        except ValueError:
            self.invalid[name] = raw
            return None

    def number(self, name: str, *, dot_groups_thousands: bool = False) -> float | None:
        raw = self.record.get(name)
        try:
            return ETRAC.number(raw, dot_groups_thousands=dot_groups_thousands)
        except ValueError:
            self.invalid[name] = raw
            return None

    def flag(self, name: str) -> bool | None:
        raw = self.record.get(name)
        try:
            return ETRAC.boolean(raw)
        except ValueError:
            self.invalid[name] = raw
            return None

    def moment(self, name: str, tz: tzinfo) -> datetime | None:
        raw = self.record.get(name)
        try:
            return ETRAC.timestamp(raw, tz)
        except ValueError:
            self.invalid[name] = raw
            return None

    def duration(self, name: str) -> timedelta | None:
        raw = self.record.get(name)
        try:
            return ETRAC.duration(raw)
        except ValueError:
            self.invalid[name] = raw
            return None


def _as_record(record: Any) -> Mapping[str, Any]:
    if not isinstance(record, Mapping):
        raise Rejected(f"not a JSON object: {type(record).__name__}")
    return record


def _required_moment(fields: _Fields, name: str, tz: tzinfo) -> datetime:
    raw = fields.record.get(name)
    if type(raw) is str:  # the common shapes first: what ETRAC.timestamp would return for them
        value = fast_timestamp(raw, tz)
        if value is not None:
            return value
    if ETRAC.is_empty(raw):
        raise Rejected(f"missing {name}")
    try:
        value = ETRAC.timestamp(raw, tz)
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


def _plate(record: Mapping[str, Any], fallback: str | None) -> str:
    raw = record.get("placa")
    missing = ETRAC.is_empty(raw)
    plate = normalize_plate(fallback if missing else raw)
    if plate is None:
        raise Rejected("missing placa" if missing else f"unreadable placa: {raw!r}")
    return plate


# Field names of the position record (docs/etrac-api.md §3). Anything else goes to ``extra``.
POSITION_FIELDS = frozenset(
    {
        "placa", "descricao", "frota", "equipamento_serial", "data_transmissao", "data_gravacao",
        "latitude", "longitude", "logradouro", "velocidade", "ignicao", "odometro", "odometro_can",
        "horimetro", "bateria",
    }
)  # fmt: skip


def position_row(record: Any, *, plate: str | None = None, tz: tzinfo = SAO_PAULO) -> dict[str, Any]:
    """One position record (E1 item or E3 ``posicoes`` item) -> an e_track.positions row by column
    name (``etrac.streams.POSITIONS`` adds ``origin`` and orders it for COPY).

    ``plate`` is the plate the history was requested for: history items may omit ``placa``.
    """
    rec = _as_record(record)
    invalid: dict[str, Any] = {}
    fields = _Fields(rec, invalid)
    placa = _plate(rec, plate)
    fix_time = _required_moment(fields, "data_transmissao", tz)
    latitude = _coordinate(fields, "latitude", 90.0)
    longitude = _coordinate(fields, "longitude", 180.0)
    row = {
        "placa": placa,
        "data_transmissao": fix_time,
        "latitude": latitude,
        "longitude": longitude,
        "logradouro": fields.text("logradouro"),
        "velocidade": fields.number("velocidade"),
        "ignicao": fields.flag("ignicao"),
        "odometro": fields.number("odometro", dot_groups_thousands=True),
        "odometro_can": fields.number("odometro_can", dot_groups_thousands=True),
        "horimetro": fields.number("horimetro", dot_groups_thousands=True),
        "bateria": fields.number("bateria"),
        "equipamento_serial": fields.text("equipamento_serial"),
        "data_gravacao": fields.moment("data_gravacao", tz),
    }
    # Records rarely carry an unknown field: a set difference (C) finds out, the rest is skipped.
    unknown = rec.keys() - POSITION_FIELDS
    extra: dict[str, Any] = {k: v for k, v in rec.items() if k in unknown} if unknown else {}
    if invalid:
        extra["_invalid"] = invalid
    row["extra"] = extra
    return row


def terminal_row(record: Any, *, tz: tzinfo = SAO_PAULO) -> dict[str, Any]:
    """One /ultimas-posicoes item -> an e_track.terminals row by column name (the vehicle and its
    last fix).

    Only ``placa`` is required: a vehicle that never transmitted is still a vehicle.
    """
    rec = _as_record(record)
    fields = _Fields(rec, {})
    placa = _plate(rec, None)
    latitude = fields.number("latitude")
    longitude = fields.number("longitude")
    if latitude is not None and not -90.0 <= latitude <= 90.0:
        latitude = None
    if longitude is not None and not -180.0 <= longitude <= 180.0:
        longitude = None
    return {
        "placa": placa,
        "descricao": fields.text("descricao"),
        "frota": fields.text("frota"),
        "equipamento_serial": fields.text("equipamento_serial"),
        "data_transmissao": fields.moment("data_transmissao", tz),
        "data_gravacao": fields.moment("data_gravacao", tz),
        "latitude": latitude,
        "longitude": longitude,
        "logradouro": fields.text("logradouro"),
        "raw": dict(rec),
    }


TRIP_FIELDS = frozenset(
    {
        "cliente", "cliente_fantasia", "placa", "descricao", "frota", "data_inicio_conducao",
        "data_fim_conducao", "latitude_inicio_conducao", "longitude_inicio_conducao",
        "latitude_fim_conducao", "longitude_fim_conducao", "localizacao_inicio_conducao",
        "localizacao_fim_conducao", "odometro_inicio_conducao", "odometro_fim_conducao",
        "duracao_conducao", "distancia_conducao", "condutor_nome", "condutor_identificacao",
    }
)  # fmt: skip


def trip_row(record: Any, *, plate: str | None = None, tz: tzinfo = SAO_PAULO) -> dict[str, Any]:
    """One /resumoviagens item -> an e_track.trips row by column name (key: placa,
    data_inicio_conducao; ``etrac.streams.TRIPS`` adds ``reported_day``)."""
    rec = _as_record(record)
    fields = _Fields(rec, {})
    placa = _plate(rec, plate)
    start = _required_moment(fields, "data_inicio_conducao", tz)

    def coord(name: str, limit: float) -> float | None:
        value = fields.number(name)
        return value if value is None or -limit <= value <= limit else None

    return {
        "placa": placa,
        "data_inicio_conducao": start,
        "data_fim_conducao": fields.moment("data_fim_conducao", tz),
        "cliente": fields.text("cliente"),
        "cliente_fantasia": fields.text("cliente_fantasia"),
        "descricao": fields.text("descricao"),
        "frota": fields.text("frota"),
        "latitude_inicio_conducao": coord("latitude_inicio_conducao", 90.0),
        "longitude_inicio_conducao": coord("longitude_inicio_conducao", 180.0),
        "latitude_fim_conducao": coord("latitude_fim_conducao", 90.0),
        "longitude_fim_conducao": coord("longitude_fim_conducao", 180.0),
        "localizacao_inicio_conducao": fields.text("localizacao_inicio_conducao"),
        "localizacao_fim_conducao": fields.text("localizacao_fim_conducao"),
        "odometro_inicio_conducao": fields.number("odometro_inicio_conducao"),
        "odometro_fim_conducao": fields.number("odometro_fim_conducao"),
        "duracao_conducao": fields.duration("duracao_conducao"),
        "distancia_conducao": fields.number("distancia_conducao"),
        "condutor_nome": fields.text("condutor_nome"),
        "condutor_identificacao": fields.text("condutor_identificacao"),
        "raw": dict(rec),
    }


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
