"""How the fake e-Track API writes values, and how it reads the dates clients send.

Output switches (etrac-api.md §3 and the §6 settings table):

- ``date_format``: ``br`` = ``DD/MM/YYYY HH:MM:SS`` (default, mirrors the request format),
  ``iso_space`` = ``YYYY-MM-DD HH:MM:SS``, ``iso_t`` = ``YYYY-MM-DDTHH:MM:SS``; always local
  time of the world's zone, never an offset (§3 "Time zone: unknown").
- ``numeric_format``: ``plain`` = numbers as the doc types them (lat/lon are *strings*,
  speed/odometer/hour-meter ints, battery float); ``formatted`` = the Brazilian strings two
  clients defend against (§3 "Units-in-strings quirk"): ``"42 km/h"``, ``"123.456 km"``,
  ``"4.321 h"``, ``"12,6 V"``, ignition ``"1"``/``"0"``; lat/lon stay dot-decimal strings.
- ``history_fields`` (§2 E3): ``full`` = every §3 field, ``strict_doc`` = the doc's history list
  (no ``equipamento_serial``/``data_gravacao``), ``no_placa`` = no ``placa``/``descricao``/``frota``
  (S2 saw items without ``placa``; the ``terminal`` object carries them).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.etrac.config import EtracConfig
from sandbox.etrac.fleet import Vehicle
from sandbox.etrac.world import Fix, can_odometer

# ---- output -----------------------------------------------------------------------------------


def format_datetime(epoch: int, tz: ZoneInfo, mode: str) -> str:
    d = datetime.fromtimestamp(epoch, tz)
    clock = f"{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    if mode == "br":
        return f"{d.day:02d}/{d.month:02d}/{d.year:04d} {clock}"
    sep = "T" if mode == "iso_t" else " "
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}{sep}{clock}"


def thousands(n: int) -> str:
    """``123456`` -> ``"123.456"`` (Brazilian thousands separator)."""
    return f"{n:,}".replace(",", ".")


def position_record(
    v: Vehicle, fix: Fix, config: EtracConfig, tz: ZoneInfo, *, history: bool
) -> dict[str, Any]:
    """One position item; ``history`` applies the E3 ``history_fields`` switch."""
    formatted = config.numeric_format == "formatted"
    odo_can = can_odometer(v, fix.odometer_km)
    hours = fix.engine_s // 3600
    record: dict[str, Any] = {
        "placa": v.placa,
        "descricao": v.descricao,
        "frota": v.frota,
        "equipamento_serial": v.equipamento_serial,
        "data_transmissao": format_datetime(fix.t, tz, config.date_format),
        "data_gravacao": format_datetime(fix.gravacao, tz, config.date_format),
        "latitude": f"{fix.lat:.7f}",
        "longitude": f"{fix.lon:.7f}",
        "logradouro": fix.logradouro,
        "velocidade": f"{fix.speed} km/h" if formatted else fix.speed,
        "ignicao": ("1" if fix.ignition else "0") if formatted else int(fix.ignition),
        "odometro": f"{thousands(fix.odometer_km)} km" if formatted else fix.odometer_km,
        "odometro_can": f"{thousands(odo_can)} km" if formatted else odo_can,
        "horimetro": f"{thousands(hours)} h" if formatted else hours,
        "bateria": f"{fix.battery:.1f} V".replace(".", ",") if formatted else fix.battery,
    }
    if history:
        if config.history_fields == "strict_doc":
            del record["equipamento_serial"], record["data_gravacao"]
        elif config.history_fields == "no_placa":
            del record["placa"], record["descricao"], record["frota"]
    return record


def trip_record(trip: dict[str, Any], config: EtracConfig) -> dict[str, Any]:
    """A ground-truth trip (``World.trips``) as ``/resumoviagens`` writes it: all strings (§2 E4)."""
    out = dict(trip)
    for key in ("data_inicio_conducao", "data_fim_conducao"):
        out[key] = format_datetime(int(trip[key].timestamp()), trip[key].tzinfo, config.date_format)
    for key in (
        "latitude_inicio_conducao",
        "longitude_inicio_conducao",
        "latitude_fim_conducao",
        "longitude_fim_conducao",
    ):
        out[key] = f"{trip[key]:.7f}"
    out["odometro_inicio_conducao"] = str(trip["odometro_inicio_conducao"])
    out["odometro_fim_conducao"] = str(trip["odometro_fim_conducao"])
    out["duracao_conducao"] = hhmmss(trip["duracao_conducao"])
    out["distancia_conducao"] = f"{trip['distancia_conducao']:.1f}"
    return out


def hhmmss(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


# ---- input ------------------------------------------------------------------------------------

_BR_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_BR_DATETIME = re.compile(r"^(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})$")
_DASH_DATE = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")


def parse_br_date(text: str) -> date | None:
    """``DD/MM/YYYY`` (E3 ``data``), or None when it is anything else."""
    m = _BR_DATE.match(text.strip())
    return _date(m.group(3), m.group(2), m.group(1)) if m else None


def parse_br_datetime(text: str, tz: ZoneInfo) -> datetime | None:
    """``DD/MM/YYYY HH:MM:SS`` (E3 ``data_inicio``/``data_fim``), local time of ``tz``."""
    m = _BR_DATETIME.match(text.strip())
    if not m:
        return None
    day = _date(m.group(3), m.group(2), m.group(1))
    hh, mm, ss = int(m.group(4)), int(m.group(5)), int(m.group(6))
    if day is None or hh > 23 or mm > 59 or ss > 59:
        return None
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=tz)


def parse_dash_date(text: str) -> date | None:
    """``DD-MM-YYYY`` (E4 ``data``; note the dashes)."""
    m = _DASH_DATE.match(text.strip())
    return _date(m.group(3), m.group(2), m.group(1)) if m else None


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
