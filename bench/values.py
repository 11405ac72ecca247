"""Value parsing of e-Track and Auvo fields (issue 11, point 1): ``sync_apis.values`` vs the old way.

The profile of an e-Track history chunk put timestamp parsing at 22 % (strptime + regex, two
timestamps per record) and per-field typing at another 16 %. This benchmark times the readers
of ``sync_apis.values`` against a **reference kept here**: the straightforward strptime-based
parsers the package had before (``etrac/parse.py`` ``parse_datetime``/``parse_number``/
``parse_bool``, ``auvo/parse.py`` ``to_timestamptz``), measured in the same run, interleaved,
best of ``repeats``. Both must give the same value for every input (checked first).

Inputs are the shapes the sandbox sends by default and in its "formatted" mode
(sandbox/etrac/formats.py): ``DD/MM/YYYY HH:MM:SS`` times, coordinates as dot-decimal strings,
ints and floats for the rest, or ``"42 km/h"``/``"123.456 km"``/``"12,6 V"``/``"1"``.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from bench.report import figure, machine_load, ratio
from sync_apis import LOCAL_TZ
from sync_apis.values import AUVO, ETRAC

# --------------------------------------------------------------------------- the old way (baseline)

_OLD_EMPTY = frozenset({"", "null", "none", "-", "--", "n/a"})
_OLD_EMPTY_DATES = ("0001-01-01", "01/01/0001", "0000-00-00", "00/00/0000")
_OLD_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
)
_OLD_DATES = ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%Y/%m/%d")
_OLD_FRACTION = re.compile(r"^(?P<base>.*\d{2}:\d{2}:\d{2})[.,](?P<frac>\d{1,9})$")
_OLD_NUMBER = re.compile(r"[-+]?[\d.,]+")
_OLD_DOT_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+$")
_OLD_TRUE = frozenset({"1", "true", "t", "on", "sim", "s", "ligada", "ligado", "yes", "y"})
_OLD_FALSE = frozenset({"0", "false", "f", "off", "nao", "não", "n", "desligada", "desligado", "no"})


def _old_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _OLD_EMPTY)


def old_timestamp(value: Any, tz: tzinfo = LOCAL_TZ) -> datetime | None:
    """e-Track's former ``parse_datetime``: ISO by regex + fromisoformat, else strptime per format."""
    if _old_empty(value):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    if not isinstance(value, str):
        raise ValueError(f"not a date-time: {value!r}")
    text = " ".join(value.strip().split())
    if text.startswith(_OLD_EMPTY_DATES):
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d", text):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    match = _OLD_FRACTION.match(text)
    micros = 0
    if match:
        text = match.group("base")
        micros = int(match.group("frac")[:6].ljust(6, "0"))
    for fmt in _OLD_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(microsecond=micros, tzinfo=tz)
        except ValueError:
            continue
    for fmt in _OLD_DATES:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise ValueError(f"unrecognised date-time {value!r}")


def old_number(value: Any, *, dot_groups_thousands: bool = False) -> float | None:
    """e-Track's former ``parse_number``: regex search, separators resolved, float()."""
    if _old_empty(value):
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"not a number: {value!r}")
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    match = _OLD_NUMBER.search(text)
    if match is None:
        raise ValueError(f"no number in {value!r}")
    if text[: match.start()].strip() not in ("", "R$"):
        raise ValueError(f"unexpected text before the number in {value!r}")
    number = match.group(0)
    if "," in number and "." in number:
        if number.rfind(",") > number.rfind("."):
            number = number.replace(".", "").replace(",", ".")
        else:
            number = number.replace(",", "")
    elif "," in number:
        number = number.replace(",", "") if number.count(",") > 1 else number.replace(",", ".")
    elif number.count(".") > 1 or (dot_groups_thousands and _OLD_DOT_THOUSANDS.match(number)):
        number = number.replace(".", "")
    return float(number)


def old_flag(value: Any) -> bool | None:
    """e-Track's former ``parse_bool``."""
    if _old_empty(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise ValueError(f"not a 1/0 flag: {value!r}")
    text = str(value).strip().lower()
    if text in _OLD_TRUE:
        return True
    if text in _OLD_FALSE:
        return False
    raise ValueError(f"not a 1/0 flag: {value!r}")


def old_auvo_timestamp(value: Any) -> datetime | None:
    """Auvo's former ``to_timestamptz`` (fromisoformat: already C-fast for its one shape)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or text.startswith("0001-01-01"):
        return None
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TZ)


# --------------------------------------------------------------------------- workloads


def _fix_times(n: int, rng: random.Random, fmt: str) -> list[str]:
    start = datetime(2025, 3, 12)
    return [(start + timedelta(seconds=rng.randrange(86_400))).strftime(fmt) for _ in range(n)]


def _records(n: int, rng: random.Random, formatted: bool) -> list[dict[str, Any]]:
    """Position records' value fields as the sandbox writes them (plain or formatted mode)."""
    times = _fix_times(n, rng, "%d/%m/%Y %H:%M:%S")
    out = []
    for i in range(n):
        speed, odometer, hours, battery = rng.randrange(120), rng.randrange(10**6), rng.randrange(9999), 12.6
        out.append(
            {
                "data_transmissao": times[i],
                "data_gravacao": times[i],
                "latitude": f"{-19.9 - rng.random():.7f}",
                "longitude": f"{-43.9 - rng.random():.7f}",
                "velocidade": f"{speed} km/h" if formatted else speed,
                "ignicao": str(i % 2) if formatted else i % 2,
                "odometro": f"{odometer:,} km".replace(",", ".") if formatted else odometer,
                "odometro_can": 0,
                "horimetro": f"{hours:,} h".replace(",", ".") if formatted else hours,
                "bateria": f"{battery:.1f} V".replace(".", ",") if formatted else battery,
            }
        )
    return out


def _typing(
    timestamp: Callable[..., Any], number: Callable[..., Any], flag: Callable[[Any], Any]
) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The value work of one position record (the fields the positions builder types), nothing else."""

    def row(r: dict[str, Any]) -> tuple[Any, ...]:
        return (
            timestamp(r["data_transmissao"]),
            timestamp(r["data_gravacao"]),
            number(r["latitude"]),
            number(r["longitude"]),
            number(r["velocidade"]),
            flag(r["ignicao"]),
            number(r["odometro"], dot_groups_thousands=True),
            number(r["odometro_can"], dot_groups_thousands=True),
            number(r["horimetro"], dot_groups_thousands=True),
            number(r["bateria"]),
        )

    return row


def _best(work: Callable[[Any], Any], inputs: Sequence[Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for item in inputs:
            work(item)
        best = min(best, time.perf_counter() - started)
    return best


def _compare(
    label: str,
    inputs: Sequence[Any],
    old: Callable[[Any], Any],
    new: Callable[[Any], Any],
    repeats: int,
    target: float,
    unit: str = "values/s",
) -> None:
    mismatches = [item for item in inputs if old(item) != new(item)]
    if mismatches:
        raise SystemExit(f"{label}: new and old readings differ, e.g. {mismatches[0]!r}")
    old_s = new_s = float("inf")
    for _ in range(repeats):  # interleaved: both see the same neighbours on a shared machine
        old_s = min(old_s, _best(old, inputs, 1))
        new_s = min(new_s, _best(new, inputs, 1))
    print(f" {label} ({len(inputs):,} inputs, same results):", flush=True)
    figure("old (strptime/regex reference)", len(inputs) / old_s, unit)
    figure("sync_apis.values", len(inputs) / new_s, unit)
    ratio("values / old", old_s / new_s, target)


def main(quick: bool = False) -> None:
    n, repeats = (2_000, 2) if quick else (100_000, 5)
    rng = random.Random(11)
    mode = " (quick)" if quick else ""
    print(f"values{mode}: best of {repeats}, interleaved; {machine_load()}", flush=True)
    _compare(
        "e-Track timestamps DD/MM/YYYY HH:MM:SS",
        _fix_times(n, rng, "%d/%m/%Y %H:%M:%S"),
        old_timestamp,
        ETRAC.timestamp,
        repeats,
        target=5.0,
    )
    _compare(
        "e-Track timestamps YYYY-MM-DD HH:MM:SS (iso_space mode)",
        _fix_times(n, rng, "%Y-%m-%d %H:%M:%S"),
        old_timestamp,
        ETRAC.timestamp,
        repeats,
        target=1.5,
    )
    _compare(
        "Auvo timestamps YYYY-MM-DDTHH:MM:SS",
        _fix_times(n, rng, "%Y-%m-%dT%H:%M:%S"),
        old_auvo_timestamp,
        AUVO.timestamp,
        repeats,
        target=1.0,  # Auvo already used fromisoformat: the point is not to be slower
    )
    coordinates = [f"{-19.9 - rng.random():.7f}" for _ in range(n)]
    _compare("e-Track coordinates (dot-decimal strings)", coordinates, old_number, ETRAC.number, repeats, 1.5)
    for formatted in (False, True):
        records = _records(n // 4, rng, formatted)
        _compare(
            f"e-Track position record typing, {'formatted' if formatted else 'plain'} mode (10 fields)",
            records,
            _typing(old_timestamp, old_number, old_flag),
            _typing(ETRAC.timestamp, ETRAC.number, ETRAC.boolean),
            repeats,
            target=2.0,
            unit="records/s",
        )
