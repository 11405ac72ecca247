"""Every setting of the fake e-Track API, and how to change one from text or JSON.

The fields split in two groups (see ``field(metadata=...)``):

- **world** fields shape the deterministic data (seed, fleet size, fix cadence, time zone, ...).
  They are read once, when ``make_server`` builds the world, and cannot be changed on a running
  server (the admin route refuses them).
- **switches** choose between the alternatives listed in etrac-api.md §6 ("settings" table) for
  everything the real API does not document. They are read on every request, so tests may flip
  them on ``server.config`` (or over HTTP: ``POST /_sandbox/etrac/config``) between requests.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args, get_origin

DEFAULT_EMAIL = "sandbox@example.com"
DEFAULT_KEY = "1234567890123"

CodeHeaderMode = Literal["mirror", "always_200", "text", "omit"]
LongWindowMode = Literal["error", "truncate", "honour"]
OrderMode = Literal["asc", "desc", "unordered"]
HistoryFieldsMode = Literal["full", "strict_doc", "no_placa"]
TripsKey = Literal["retorno", "conducoes"]
EmptyResultsMode = Literal["empty", "erro"]
UnknownPlateMode = Literal["erro", "empty"]
DateFormat = Literal["br", "iso_space", "iso_t"]
NumericFormat = Literal["plain", "formatted"]


def _world(help_text: str) -> dict[str, Any]:
    return {"world": True, "help": help_text}


def _switch(help_text: str) -> dict[str, Any]:
    return {"world": False, "help": help_text}


@dataclass
class EtracConfig:
    """The fake e-Track server's settings; the defaults are the proposals of etrac-api.md §6."""

    # ---- world: fixed when the server is built --------------------------------------------
    seed: int = field(default=7, metadata=_world("seed of the deterministic world"))
    vehicles: int = field(default=20, metadata=_world("number of vehicles (terminals) in the account"))
    timezone: str = field(
        default="America/Sao_Paulo",
        metadata=_world("zone of generated data; API strings carry no offset (§3)"),
    )
    data_start: date = field(
        default=date(2025, 1, 1), metadata=_world("first local day with data; earlier days are empty")
    )
    drive_fix_interval_s: tuple[int, int] = field(
        default=(30, 120), metadata=_world("seconds between fixes while ignition is on (§6)")
    )
    park_fix_interval_s: tuple[int, int] = field(
        default=(900, 3600), metadata=_world("seconds between fixes while parked (§6)")
    )
    duplicate_ratio: float = field(
        default=0.004, metadata=_world("share of fixes the API sends twice (exact duplicates)")
    )
    null_logradouro_ratio: float = field(
        default=0.05, metadata=_world("share of fixes whose logradouro is null")
    )
    late_gravacao_ratio: float = field(
        default=0.02, metadata=_world("share of fixes stored minutes after transmission")
    )

    # ---- switches: read on every request --------------------------------------------------
    credentials: dict[str, str] = field(
        default_factory=lambda: {DEFAULT_EMAIL: DEFAULT_KEY},
        metadata=_switch("accepted Basic-auth pairs e-mail -> API key (§1)"),
    )
    errors_as_200: bool = field(
        default=False, metadata=_switch("send every error body with HTTP 200 (ETRAC_FAKE_ERRORS_AS_200, §6)")
    )
    code_header: CodeHeaderMode = field(
        default="mirror",
        metadata=_switch("code_header: mirror the status, always '200', '401 Unauthorized' text, or omit"),
    )
    long_window: LongWindowMode = field(
        default="error", metadata=_switch("history window > 24 h: 400 erro, truncate to 24 h, or honour")
    )
    order: OrderMode = field(default="asc", metadata=_switch("order of history posicoes by data_transmissao"))
    history_fields: HistoryFieldsMode = field(
        default="full",
        metadata=_switch(
            "history items: full, strict_doc (no serial/gravacao), no_placa (no placa/descricao/frota)"
        ),
    )
    trips_key: TripsKey = field(
        default="retorno", metadata=_switch("envelope key of /resumoviagens (doc: retorno; S3: conducoes)")
    )
    empty_results: EmptyResultsMode = field(
        default="empty", metadata=_switch("no data: 200 with [] or an erro body (404)")
    )
    unknown_plate: UnknownPlateMode = field(
        default="erro", metadata=_switch("unknown plate: 400 erro or 200 with an empty list")
    )
    date_format: DateFormat = field(
        default="br",
        metadata=_switch("br=DD/MM/YYYY HH:MM:SS, iso_space=YYYY-MM-DD HH:MM:SS, iso_t=YYYY-MM-DDTHH:MM:SS"),
    )
    numeric_format: NumericFormat = field(
        default="plain", metadata=_switch("plain numbers, or strings with units and BR decimals ('12,6 V')")
    )
    retention_days: int | None = field(
        default=90, metadata=_switch("days of history kept; older days answer empty (none = all)")
    )
    rate_limit_per_minute: int | None = field(
        default=None, metadata=_switch("requests per minute per user before 429 (none = off)")
    )
    latency_s: float = field(default=0.0, metadata=_switch("fixed delay before every data answer (seconds)"))
    latency_jitter_s: float = field(
        default=0.0, metadata=_switch("extra random delay up to this many seconds")
    )
    correction_round: int = field(
        default=0,
        metadata=_switch(
            "the API's n-th revision of its data: from 1 on, correction_ratio of the fixes have moved "
            "5-30 m (same time) and of the trips start 5-120 s earlier; 0 = as first sent. "
            "The world's ground truth follows"
        ),
    )
    correction_ratio: float = field(
        default=0.02, metadata=_switch("share of fixes and trips a correction round changes, within [0, 1]")
    )


WORLD_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(EtracConfig) if f.metadata.get("world")
)
SWITCH_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(EtracConfig) if not f.metadata.get("world")
)


class ConfigError(ValueError):
    """A setting name or value that does not fit EtracConfig."""


def field_help(name: str) -> str:
    for f in dataclasses.fields(EtracConfig):
        if f.name == name:
            return str(f.metadata.get("help", ""))
    raise ConfigError(f"unknown setting {name!r}")


def coerce_value(tp: Any, value: Any, name: str = "value") -> Any:
    """Turn ``value`` (a JSON value or command-line text) into the field type ``tp``.

    Shared by the admin route and the CLI so a switch reads the same everywhere:
    booleans accept 1/0/true/false/yes/no/on/off, optional fields accept ``null``/``none``,
    pairs accept ``"30,120"`` or ``[30, 120]``, credentials accept a JSON object or
    ``"email:key,email2:key2"``.
    """
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
            return None
        return coerce_value(args[0], value, name)
    if origin is Literal:
        allowed = get_args(tp)
        for option in allowed:  # command-line text "429" must match Literal[403, 429]
            if value == option or (isinstance(value, str) and str(option) == value):
                return option
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(map(str, allowed))}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}: {value!r} is not a boolean")
    if tp is int or tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: {value!r} is not a number")
        try:
            return tp(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: {value!r} is not a{'n int' if tp is int else ' number'}") from None
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name}: {value!r} is not a string")
        return value
    if tp is date:
        try:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None
    if origin is tuple:
        items = value.split(",") if isinstance(value, str) else list(value)
        pair = tuple(coerce_value(int, item, name) for item in items)
        if len(pair) != 2 or pair[0] <= 0 or pair[0] > pair[1]:
            raise ConfigError(f"{name}: {value!r} is not a pair 'low,high' with 0 < low <= high")
        return pair
    if origin is dict:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                value = json.loads(text)
            else:
                value = dict(item.split(":", 1) for item in text.split(",") if item)
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ConfigError(f"{name}: expected an object of strings")
        return dict(value)
    raise ConfigError(f"{name}: unsupported type {tp!r}")


def is_supported(tp: Any) -> bool:
    """Whether ``coerce_value`` can produce ``tp`` (the CLI offers flags only for those)."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return len(args) == 1 and is_supported(args[0])
    if origin is Literal:
        return True
    if origin is tuple:
        return get_args(tp) == (int, int)
    if origin is dict:
        return get_args(tp) == (str, str)
    return tp in (bool, int, float, str, date)


def field_types() -> dict[str, Any]:
    return typing.get_type_hints(EtracConfig)


def apply_settings(config: EtracConfig, settings: dict[str, Any], *, allow_world: bool) -> dict[str, Any]:
    """Validate every item first, then set them all on ``config`` (all or nothing)."""
    types_ = field_types()
    changes: dict[str, Any] = {}
    for name, raw in settings.items():
        if name not in types_:
            raise ConfigError(f"unknown setting {name!r}")
        if name in WORLD_FIELDS and not allow_world:
            raise ConfigError(f"{name!r} shapes the world and is fixed once the server runs")
        changes[name] = coerce_value(types_[name], raw, name)
    validate(dataclasses.replace(config, **changes))
    for name, value in changes.items():
        setattr(config, name, value)
    return changes


def validate(config: EtracConfig) -> None:
    if config.vehicles < 0:
        raise ConfigError("vehicles must be >= 0")
    for name in ("duplicate_ratio", "null_logradouro_ratio", "late_gravacao_ratio", "correction_ratio"):
        if not 0.0 <= getattr(config, name) <= 1.0:
            raise ConfigError(f"{name} must be within [0, 1]")
    if config.latency_s < 0 or config.latency_jitter_s < 0:
        raise ConfigError("latency must be >= 0")
    if config.correction_round < 0:
        raise ConfigError("correction_round must be >= 0")
    if config.retention_days is not None and config.retention_days < 0:
        raise ConfigError("retention_days must be >= 0 or None")


def as_json(config: EtracConfig) -> dict[str, Any]:
    """The config as plain JSON values (dates as ISO text, pairs as lists)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)
        out[f.name] = value
    return out
