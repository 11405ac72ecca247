"""Value formats of the Auvo API and the deterministic randomness behind the world.

Auvo sends offset-less local timestamps (§2, §6.3 item 6), two spellings of "no date" (``""`` and
``0001-01-01T00:00:00``, §2), money as pt-BR strings (``"2.500.000,00"``, §2) and durations as
decimal strings. The world works with naive datetimes that are America/Sao_Paulo local time
(UTC-3, no DST since 2019), exactly what the API prints.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sandbox.core import SAO_PAULO

EMPTY_DATE = ""  # e.g. checkInDate, visualizedDate before the event [A, C, P]
ZERO_DATE = "0001-01-01T00:00:00"  # e.g. deliveredDate before delivery [A, C, P]


def local_naive(moment: datetime) -> datetime:
    """An aware clock reading as the naive Sao Paulo local time the API prints."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(SAO_PAULO).replace(tzinfo=None)


def ts(moment: datetime | None, empty: str = EMPTY_DATE) -> str:
    """``yyyy-MM-ddTHH:mm:ss``, no offset (§2); ``empty`` when there is no moment."""
    if moment is None:
        return empty
    return local_naive(moment).replace(microsecond=0).isoformat()


def ts_space(moment: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss``: login created/expiration, segment registrationDate (§1.2, §2)."""
    return local_naive(moment).strftime("%Y-%m-%d %H:%M:%S")


def parse_ts(text: str) -> datetime | None:
    """Inverse of ``ts``: None for the two empty spellings."""
    if text in (EMPTY_DATE, ZERO_DATE):
        return None
    return datetime.fromisoformat(text)


def money_br(value: Decimal | float | int) -> str:
    """pt-BR money string with thousands dots and a decimal comma: ``"2.500.000,00"`` (§2)."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{'.'.join(groups)},{cents}"


def decimal_string(seconds: int) -> str:
    """Hours as the API's ``durationDecimal``: a plain decimal string like ``"3.41111111111111"``."""
    hours = seconds / 3600
    text = f"{hours:.14f}".rstrip("0").rstrip(".")
    return text or "0"


def hms(seconds: int) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def rng(seed: int, *parts: object) -> random.Random:
    """A private RNG for one record or one event: independent of every other draw.

    ``random.Random(str)`` hashes the string with SHA-512, so this is stable across processes
    (unlike ``hash()``), which is what makes the world a pure function of the seed.
    """
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def guid(r: random.Random) -> str:
    return str(uuid.UUID(int=r.getrandbits(128), version=4))


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def days_between(a: date, b: date) -> int:
    return (b - a).days


def at(day: date, seconds: float) -> datetime:
    return day_start(day) + timedelta(seconds=int(seconds))
