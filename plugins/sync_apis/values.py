"""One value parser for both APIs: empty values, text, numbers, money, flags, local timestamps.

Both sources send values as loosely typed JSON: numbers as strings with Brazilian or English
separators, flags as ``1``/``"S"``/``"ligado"``, offset-less local times in several shapes,
placeholders for "nothing". This module reads all of them **one way**; the few places where the
two APIs really differ are the named fields of :class:`ValueRules`, each citing the doc section
that justifies it, and the two instances :data:`AUVO` and :data:`ETRAC`.

Every reader returns None for an empty value and raises ``ValueError`` for a value it cannot
read; what an unreadable value costs (NULL, a rejection, ``extra["_invalid"]``) is the record
parser's decision (``auvo/parse.py``, ``etrac/parse.py``), not this module's.

The one behaviour, in short:

- **empty**: ``None``, blank text and the source's placeholders (:attr:`ValueRules.placeholders`);
  for timestamps also the zero dates ``0001-01-01T00:00:00``, ``01/01/0001``, ``0000-00-00``...
- **text**: trimmed; numbers become their text (``12.0`` -> ``"12"``), booleans ``"true"``/
  ``"false"``; an object or a list is not text.
- **numbers**: an optional ``R$``, a sign, digits with separators, and (only where the source
  sends them, :attr:`ValueRules.units`) a unit after the number. When both ``.`` and ``,``
  appear, the last one is the decimal mark; several of the same one group thousands
  (``"1.234.567"``, ``"1,234,567"``); a single comma is a decimal comma (``"12,6"``); a single
  dot is a decimal point unless the *field* says dots group thousands (``dot_groups_thousands``:
  money, odometers) and exactly three digits follow it (``"2.500"``, ``"123.456 km"``).
  Grouped digits must come in groups of three (``"1.2.3"`` is unreadable, not 123); exponents,
  ``NaN``, infinities and booleans are not numbers.
- **flags**: ``true/false``, ``1/0``, ``S/N``, ``sim/não``, ``t/f``, ``y/n``, ``yes/no``,
  ``on/off``, ``ligado/desligado`` (and ``ligada``); ``1``/``0`` as numbers; anything else is
  unreadable.
- **timestamps**: ISO 8601 (``T`` or space, fractions, ``Z`` or an offset), ``DD/MM/YYYY``,
  ``DD-MM-YYYY`` and ``YYYY/MM/DD`` with ``HH:MM[:SS[.fff]]`` or alone; a string without an
  offset is wall-clock time in ``tz`` (default :data:`sync_apis.LOCAL_TZ`), taken with
  ``fold=0`` like ``datetime.replace(tzinfo=...)`` (the earlier of a repeated hour, the
  pre-transition offset in a skipped one: São Paulo had DST until 2019).

Speed matters here (issue 11: timestamp parsing was 22 % of an e-Track chunk, per-field typing
another 16 %): the common shapes (``DD/MM/YYYY HH:MM:SS``, ``YYYY-MM-DD[T ]HH:MM:SS``, plain
decimal strings, JSON numbers) take a fast path that gives the same result as the general one,
which every other shape falls back to. ``python -m bench values`` measures both against a
strptime-based reference.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from sync_apis import LOCAL_TZ

__all__ = ["AUVO", "ETRAC", "ValueRules", "fast_timestamp", "is_zero_date", "plain_decimal"]

# --------------------------------------------------------------------------- flags

_TRUE = frozenset({"1", "true", "t", "on", "sim", "s", "yes", "y", "ligado", "ligada"})
_FALSE = frozenset({"0", "false", "f", "off", "não", "nao", "n", "no", "desligado", "desligada"})

# --------------------------------------------------------------------------- numbers

# After spaces are removed: optional currency, sign, the digits and separators, then maybe a
# unit, which has no digit and cannot begin like a number ("5-", "5.5.": not units).
_NUMBER = re.compile(r"(?:R\$)?([+-]?)([\d.,]+)([^\d.,+\-][^\d]*)?", re.DOTALL)
# Digits grouped by thousands: 1 to 3 digits, then groups of exactly 3.
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})+")
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)


def _canonical(body: str, dot_groups_thousands: bool) -> str:
    """``"1.234,5"`` -> ``"1234.5"``: the digits and separators of a number, one decimal point."""
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        decimal_mark = "," if body.rfind(",") > body.rfind(".") else "."
        group_mark = "." if decimal_mark == "," else ","
        whole, _, fraction = body.rpartition(decimal_mark)
        if decimal_mark in whole or not _GROUPED.fullmatch(whole) or not fraction.isdigit():
            raise ValueError("misplaced separators")
        return whole.replace(group_mark, "") + "." + fraction
    if commas > 1 or dots > 1:
        # Only thousands separators: "1.234.567" (pt-BR) or "1,234,567" (en).
        if not _GROUPED.fullmatch(body):
            raise ValueError("misplaced separators")
        return body.replace(",", "").replace(".", "")
    if commas:
        return body.replace(",", ".")  # one comma: the Brazilian decimal mark ("12,6", "0,00")
    if dots and dot_groups_thousands and _GROUPED.fullmatch(body):
        return body.replace(".", "")  # "2.500", "123.456": this field is never fractional
    return body


# A decimal string the fast path may hand to float() as it is (no exponent, no "nan", no "_").
_PLAIN_DECIMAL = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)
plain_decimal = _PLAIN_DECIMAL.fullmatch
"""Whether a string is a plain decimal (``"-23.5478507"``): ``float()`` reads it as every
``ValueRules.number`` would, so a hot loop may skip the rules for it."""

# --------------------------------------------------------------------------- timestamps

_ZERO_DATES = (
    "0001-01-01",
    "01/01/0001",
    "01-01-0001",
    "0000-00-00",
    "00/00/0000",
    "00-00-0000",
)
_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d")
_FRACTION = re.compile(r"(?P<base>.*\d{2}:\d{2}:\d{2})[.,](?P<frac>\d{1,9})")
_DATETIME_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
)
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%Y/%m/%d")
_DURATION = re.compile(r"(-)?(\d+):(\d{1,2})(?::(\d{1,2}))?")


def is_zero_date(text: str) -> bool:
    """``0001-01-01T00:00:00`` and kin: the APIs' "no date", not an error."""
    return text.startswith(_ZERO_DATES)


def _zoned(moment: datetime, tz: tzinfo) -> datetime | None:
    if moment.year <= 1:  # 0001-01-01 with an offset or a time: still "no date"
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


_fromisoformat = datetime.fromisoformat  # one attribute lookup less per value


def _fast_timestamp(text: str, tz: tzinfo) -> datetime | None:
    """The shapes the APIs send by default, or None to take the general path.

    ``DD/MM/YYYY HH:MM:SS`` (e-Track; also ``DD-MM-YYYY``) and ``YYYY-MM-DD[T ]HH:MM:SS`` (Auvo,
    e-Track's ISO modes), recognised by their separators at fixed positions. The digits are read
    by ``datetime.fromisoformat`` (C, strict: ASCII digits, real calendar dates), the e-Track
    shape first rearranged into ISO order; the zone goes in through the positional constructor,
    several times cheaper than strptime, ``replace(tzinfo=...)`` or keyword arguments. Anything
    else — and any failure, so that the general path phrases the error — returns None.
    """
    if len(text) != 19 or text[13] != ":" or text[16] != ":":
        return None
    sep = text[2]
    if (sep == "/" or sep == "-") and text[5] == sep and text[10] == " ":
        iso = text[6:10] + "-" + text[3:5] + "-" + text[0:2] + text[10:]
    elif text[4] == "-" and text[7] == "-" and (text[10] == "T" or text[10] == " "):
        iso = text
    else:
        return None
    try:
        naive = _fromisoformat(iso)
    except ValueError:  # 31/02, 00/00/0000, letters: the general path says which
        return None
    if naive.year <= 1 or naive.tzinfo is not None:
        return None
    return datetime(naive.year, naive.month, naive.day, naive.hour, naive.minute, naive.second, 0, tz)


fast_timestamp = _fast_timestamp
"""``ValueRules.timestamp``'s fast path for text, for hot loops: the aware datetime every
``ValueRules.timestamp`` returns for the text, or None when it takes the general path."""


# --------------------------------------------------------------------------- the rules


@dataclass(frozen=True, slots=True)
class ValueRules:
    """How values are read; the fields are where the two sources differ (and only those)."""

    name: str
    placeholders: frozenset[str] = field(default_factory=frozenset)
    """Lower-cased strings that mean "no value" besides blank text (``"-"``, ``"null"``...)."""
    units: bool = False
    """Numbers may carry a unit after them (``"42 km/h"``, ``"12,6 V"``, ``"123.456 km"``)."""

    # ------------------------------------------------------------------ empty and text

    def is_empty(self, value: Any) -> bool:
        """None, blank text or one of this source's placeholders."""
        if value is None:
            return True
        if isinstance(value, str):
            text = value.strip()
            return not text or text.lower() in self.placeholders
        return False

    def text(self, value: Any) -> str | None:
        """Trimmed text; numbers and flags as text; an object or a list raises."""
        if isinstance(value, str):
            text = value.strip()
            if not text or text.lower() in self.placeholders:
                return None
            return text
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # JSON 12.0 is the number 12: "12", as for 12
        if isinstance(value, int | float | Decimal):
            return str(value)
        raise ValueError(f"not text: {type(value).__name__}")

    # ------------------------------------------------------------------ numbers

    def _number_text(self, value: str, dot_groups_thousands: bool) -> str | None:
        """The canonical decimal text of a number string, None when empty; ValueError otherwise."""
        text = value.strip()
        if " " in text or "\u00a0" in text:
            text = text.replace(" ", "").replace("\u00a0", "")
        match = _NUMBER.fullmatch(text)
        if match is None:
            if not text or text.lower() in self.placeholders:  # no placeholder looks like a number
                return None
            raise ValueError(f"not a number: {value!r}")
        sign, body, unit = match.groups()
        if unit is not None and not self.units:
            raise ValueError(f"not a number: {value!r}")
        if "," not in body and "." not in body:
            return sign + body
        try:
            number = _canonical(body, dot_groups_thousands)
        except ValueError:
            raise ValueError(f"unreadable number {value!r}") from None
        if not number.replace(".", ""):  # "." or ",": separators without a digit
            raise ValueError(f"not a number: {value!r}")
        return sign + number

    def number(self, value: Any, *, dot_groups_thousands: bool = False) -> float | None:
        """A float (e-Track's columns, Auvo's coordinates); see the module docstring."""
        kind = type(value)
        if kind is float:
            if math.isfinite(value):
                return value
            raise ValueError(f"not a finite number: {value!r}")
        if kind is int:
            try:
                return float(value)
            except OverflowError:
                raise ValueError(f"number out of range: {value!r}") from None
        if kind is str and _PLAIN_DECIMAL.fullmatch(value) and not (dot_groups_thousands and "." in value):
            return float(value)
        if isinstance(value, str):
            text = self._number_text(value, dot_groups_thousands)
            return None if text is None else float(text)
        if value is None:
            return None
        if isinstance(value, Decimal) and value.is_finite():
            return float(value)
        raise ValueError(f"not a number: {value!r}")

    def decimal(self, value: Any, *, dot_groups_thousands: bool = False) -> Decimal | None:
        """An exact Decimal (Auvo's numeric and money columns); floats keep their short repr."""
        if isinstance(value, str):
            text = self._number_text(value, dot_groups_thousands)
            if text is None:
                return None
            try:
                return Decimal(text)
            except InvalidOperation:
                raise ValueError(f"not a number: {value!r}") from None
        if value is None:
            return None
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            number = Decimal(str(value))  # str(): 12.5 -> 12.5, not 12.5000000000000000001...
            if number.is_finite():
                return number
        raise ValueError(f"not a number: {value!r}")

    def money(self, value: Any) -> Decimal | None:
        """pt-BR money (auvo-api.md §2: ``"0,00"``, ``"2.500.000,00"``, ``"R$ 6,00"``); ``"2.500"`` = 2500."""
        return self.decimal(value, dot_groups_thousands=True)

    def integer(self, value: Any) -> int | None:
        """An int from an int, an integral float (``3.0``) or a number string of integral value."""
        if type(value) is int:
            return value
        if isinstance(value, float):
            if value.is_integer():
                return int(value)
            raise ValueError(f"not an integer: {value!r}")
        if isinstance(value, str):
            text = value.strip()
            if _INTEGER.fullmatch(text):
                return int(text)
        number = self.decimal(value)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise ValueError(f"not an integer: {value!r}")
        return int(number)

    # ------------------------------------------------------------------ flags

    def boolean(self, value: Any) -> bool | None:
        """A flag; see the module docstring for the words read as true and false."""
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            if value == 1 or value == 0:
                return bool(value)
            raise ValueError(f"not a 1/0 flag: {value!r}")
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            if not text or text in self.placeholders:
                return None
        elif value is None:
            return None
        raise ValueError(f"not a flag: {value!r}")

    # ------------------------------------------------------------------ time

    def timestamp(self, value: Any, tz: tzinfo = LOCAL_TZ) -> datetime | None:
        """An aware datetime; text without an offset is wall-clock time in ``tz``."""
        if type(value) is str:
            fast = _fast_timestamp(value, tz)
            if fast is not None:
                return fast
            return self._timestamp_text(value, tz)
        if isinstance(value, datetime):
            return _zoned(value, tz)
        if isinstance(value, date):
            return _zoned(datetime(value.year, value.month, value.day), tz)
        if value is None:
            return None
        raise ValueError(f"not a date-time: {value!r}")

    def _timestamp_text(self, value: str, tz: tzinfo) -> datetime | None:
        text = " ".join(value.split())
        if not text or text.lower() in self.placeholders or is_zero_date(text):
            return None
        # ISO 8601 (with T, fractions, Z or an offset) first: it is the only form carrying a zone.
        if _ISO_START.match(text):
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                pass
            else:
                return _zoned(moment, tz)
        micros = 0
        fraction = _FRACTION.fullmatch(text)
        if fraction:
            text = fraction.group("base")
            micros = int(fraction.group("frac")[:6].ljust(6, "0"))
        for fmt in _DATETIME_FORMATS:
            try:
                return _zoned(datetime.strptime(text, fmt).replace(microsecond=micros), tz)
            except ValueError:
                continue
        for fmt in _DATE_FORMATS:
            try:
                return _zoned(datetime.strptime(text, fmt), tz)
            except ValueError:
                continue
        raise ValueError(f"unrecognised date-time {value!r}")

    def date(self, value: Any, tz: tzinfo = LOCAL_TZ) -> date | None:
        """The calendar date of any accepted date or date-time form, as written."""
        moment = self.timestamp(value, tz)
        return None if moment is None else moment.date()

    def duration(self, value: Any) -> timedelta | None:
        """``"01:11:35"`` (hours may exceed 24), ``"01:11"``, or a number of seconds."""
        if self.is_empty(value):
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return timedelta(seconds=float(value))
        if not isinstance(value, str):
            raise ValueError(f"not a duration: {value!r}")
        match = _DURATION.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"unreadable duration {value!r}")
        sign, hours, minutes, seconds = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds or 0))
        return -delta if sign else delta


AUVO = ValueRules(name="auvo")
"""Auvo (auvo-api.md §2, §6.3): "empty" is ``""`` (and the zero date); any other text is the
user's (a ``"-"`` typed in a note is kept). Numbers are JSON numbers or pt-BR/decimal strings
(``"2.500.000,00"``, ``"3.41111111111111"``), never with a unit: ``"5001x"`` is unreadable."""

ETRAC = ValueRules(
    name="etrac",
    placeholders=frozenset({"null", "none", "-", "--", "n/a"}),
    units=True,
)
"""e-Track (etrac-api.md §3): value formats are undocumented and the clients that read the live
API defend against Brazilian strings with units (§3 "Units-in-strings quirk": ``"42 km/h"``,
``"12,6 V"``, ``"123.456 km"``) and against placeholders for "nothing" (S2)."""
