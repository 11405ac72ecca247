"""The fake e-Track "monitoramento" API (etrac-api.md §6), served by ``sandbox.core``.

Request pipeline, in order (each step cites the doc section it reproduces):

1. Route: only the four data paths under ``/monitoramento`` exist; every other path, including
   the guessed ones listed in §2 "Paths seen in code that are NOT real" and ``/doc`` (S7), is
   404 ``Rota não encontrada``. Paths are matched case-insensitively, trailing slash ignored.
2. Method: data paths are POST-only (§2); anything else is 405 with ``Allow: POST``.
3. Auth: HTTP Basic ``email:key`` on every request (§1); otherwise 401 + ``erro`` +
   ``WWW-Authenticate: Basic realm="eTrac"``.
4. Rate limit (off by default, §4): a per-user one-minute budget -> 429 + ``erro`` + ``Retry-After``.
5. Latency (off by default, §6).
6. The endpoint. Bodies are JSON or form-encoded (§6 "Body parsing"); plates match without
   hyphen/spaces, any case, and come back as 7 upper-case chars (§2 E2).

Errors are ``{"erro": ..., "code_header": ...}`` with the HTTP status, or with HTTP 200 when
``errors_as_200`` is on (S3 handles both, §1 "Wrong credentials"). Big answers are streamed:
``/ultimas-posicoes`` and ``/ultimasposicoesterminal`` never hold a whole response in memory.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from sandbox.core import Clock, FaultPlan, RateBudget, Request, Response, SandboxServer
from sandbox.etrac.config import (
    SWITCH_FIELDS,
    ConfigError,
    EtracConfig,
    apply_settings,
    as_json,
    field_help,
    validate,
)
from sandbox.etrac.formats import (
    parse_br_date,
    parse_br_datetime,
    parse_dash_date,
    position_record,
    trip_record,
)
from sandbox.etrac.world import World, normalize_plate

API_ROOT = "/monitoramento"
ADMIN_ROOT = "/_sandbox/etrac"
BATCH = 64  # items serialised per streamed chunk (~25 KB): bounded memory, few syscalls

MSG_AUTH = "Usuário ou chave de API inválidos"
MSG_METHOD = "Método não permitido"
MSG_ROUTE = "Rota não encontrada"
MSG_BODY = "Corpo da requisição inválido"
MSG_PLATE_MISSING = "Parâmetro placa obrigatório"
MSG_PLATE_UNKNOWN = "Terminal não encontrado"
MSG_NO_DATA = "Nenhum registro encontrado"
MSG_RATE = "Limite de requisições excedido"
MSG_PERIOD_MISSING = "Informe data (DD/MM/YYYY) ou data_inicio e data_fim (DD/MM/YYYY HH:MM:SS)"
MSG_DATE_E3 = "Data inválida: use DD/MM/YYYY"
MSG_DATETIME_E3 = "Data/hora inválida: use DD/MM/YYYY HH:MM:SS"
MSG_ORDER_E3 = "data_fim anterior a data_inicio"
MSG_WINDOW_E3 = "O período máximo de consulta é de 24 horas"
MSG_DATE_E4 = "Data inválida: use DD-MM-YYYY"


def rate_limited_answer(retry_after: float) -> Response:
    """The 429 used by both the rate budget and the core's ``rate_limit`` fault (§4, ASSUMED)."""
    seconds = max(1, math.ceil(retry_after))
    body = {"erro": f"{MSG_RATE}. Tente novamente em {seconds} segundos.", "code_header": "429"}
    return Response.json(body, status=429, headers={"Retry-After": str(seconds)})


class BadRequestError(Exception):
    """An input the endpoint rejects with 400 + ``erro``."""


class EtracServer(SandboxServer):
    """A ``SandboxServer`` plus ``config`` (live switches) and ``world`` (ground truth)."""

    def __init__(self, config: EtracConfig, *, clock: Clock, host: str, port: int) -> None:
        self.config = config
        self.world = World(config, clock)
        self._budget = RateBudget(None)
        self._latency_rng = random.Random(config.seed)
        self._routes: dict[str, Callable[[dict[str, str], datetime], Response]] = {
            "/ultimas-posicoes": self._latest_fleet,
            "/ultimaposicao": self._latest_one,
            "/ultimasposicoesterminal": self._history,
            "/resumoviagens": self._trips,
        }
        super().__init__(
            self._handle,
            name="etrac",
            rate_limited=rate_limited_answer,
            clock=clock,
            faults=FaultPlan(config.seed),
            admin=self._admin,
            host=host,
            port=port,
        )

    def __enter__(self) -> EtracServer:
        self.start()
        return self

    def reset_switches(self) -> None:
        """Every switch back to its default, the world's settings kept (``POST …/config/reset``)."""
        defaults = EtracConfig()
        for name in SWITCH_FIELDS:
            setattr(self.config, name, getattr(defaults, name))

    # ---- pipeline ----------------------------------------------------------------------------

    def _handle(self, req: Request) -> Response:
        path = req.path_lower
        endpoint = self._routes.get(path[len(API_ROOT) :]) if path.startswith(API_ROOT + "/") else None
        if endpoint is None:
            return self._error(404, MSG_ROUTE)
        if req.method != "POST":
            return self._error(405, MSG_METHOD, {"Allow": "POST"})
        user = self._authenticate(req)
        if user is None:
            return self._error(401, MSG_AUTH, {"WWW-Authenticate": 'Basic realm="eTrac"'})
        self._budget.per_minute = self.config.rate_limit_per_minute
        allowed, wait = self._budget.allow(user)
        if not allowed:
            return rate_limited_answer(wait)
        self._delay()
        try:
            params = read_params(req)
            return endpoint(params, self.clock.now())
        except BadRequestError as exc:
            return self._error(400, str(exc))

    def _authenticate(self, req: Request) -> str | None:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        email, sep, key = decoded.partition(":")
        expected = {e.lower(): k for e, k in self.config.credentials.items()}.get(email.lower())
        if not sep or expected is None or not hmac.compare_digest(expected.encode(), key.encode()):
            return None
        return email.lower()

    def _delay(self) -> None:
        delay = self.config.latency_s + self.config.latency_jitter_s * self._latency_rng.random()
        if delay > 0:
            time.sleep(delay)

    # ---- envelopes ---------------------------------------------------------------------------

    def _code_header(self, status: int) -> str | None:
        mode = self.config.code_header
        if mode == "omit":
            return None
        if mode == "always_200":
            return "200"
        if mode == "text":
            return f"{status} {HTTPStatus(status).phrase}"
        return str(status)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        body: dict[str, Any] = {"erro": message}
        code = self._code_header(status)
        if code is not None:
            body["code_header"] = code
        if self.config.errors_as_200:
            return Response.json(body, status=200)
        return Response.json(body, status=status, headers=headers)

    def _envelope(self, head: dict[str, Any], key: str, items: Iterable[dict[str, Any]]) -> Response:
        """``{**head, key: [items...], "code_header": ...}`` streamed a batch at a time.

        The first item is computed before answering, so "no data" can still become an ``erro``
        (``empty_results`` switch) instead of an empty list.
        """
        iterator = iter(items)
        first = next(iterator, None)
        if first is None and self.config.empty_results == "erro":
            return self._error(404, MSG_NO_DATA)
        code = self._code_header(200)
        opening = "{" + "".join(f"{_dumps(k)}:{_dumps(v)}," for k, v in head.items()) + f"{_dumps(key)}:["
        closing = "]" + ("" if code is None else f',"code_header":{_dumps(code)}') + "}"
        return Response.json_stream(_chunks(opening, first, iterator, closing))

    # ---- endpoints (§2) ------------------------------------------------------------------------

    def _latest_fleet(self, params: dict[str, str], now: datetime) -> Response:
        """E1: the latest fix of every vehicle, no body, no paging."""
        config, world = self.config, self.world

        def items() -> Iterator[dict[str, Any]]:
            for v in world.vehicles:
                fix = world.latest_fix(v, until=now)
                if fix is not None:  # a terminal that never transmitted has nothing to show
                    yield position_record(v, fix, config, world.tz, history=False)

        return self._envelope({}, "retorno", items())

    def _latest_one(self, params: dict[str, str], now: datetime) -> Response:
        """E2: ``{"placa": ...}`` -> ``retorno`` with one item."""
        v = self._vehicle(params)
        if v is None:
            return self._envelope({}, "retorno", [])
        fix = self.world.latest_fix(v, until=now)
        items = [] if fix is None else [position_record(v, fix, self.config, self.world.tz, history=False)]
        return self._envelope({}, "retorno", items)

    def _history(self, params: dict[str, str], now: datetime) -> Response:
        """E3: ``placa`` + ``data`` (DD/MM/YYYY) or ``data_inicio``/``data_fim`` (<= 24 h, inclusive)."""
        config, world = self.config, self.world
        plate = _required_plate(params)
        start, end = self._history_window(params)
        v = world.find(plate)
        if v is None:
            if config.unknown_plate == "erro":
                raise BadRequestError(MSG_PLATE_UNKNOWN)
            return self._envelope(
                {"terminal": {"placa": plate, "descricao": None, "frota": None}}, "posicoes", []
            )
        terminal = {"placa": v.placa, "descricao": v.descricao, "frota": v.frota}
        start = max(start, self._oldest_kept(now))
        end = min(end, now)
        if start > end:
            return self._envelope({"terminal": terminal}, "posicoes", [])
        fixes = world.window_fixes(v.placa, start, end, duplicates=True, order=config.order)
        items = (position_record(v, fix, config, world.tz, history=True) for fix in fixes)
        return self._envelope({"terminal": terminal}, "posicoes", items)

    def _history_window(self, params: dict[str, str]) -> tuple[datetime, datetime]:
        tz = self.world.tz
        if params.get("data"):
            day = parse_br_date(params["data"])
            if day is None:
                raise BadRequestError(MSG_DATE_E3)
            start = datetime(day.year, day.month, day.day, tzinfo=tz)
            next_day = day + timedelta(days=1)
            return start, datetime(next_day.year, next_day.month, next_day.day, tzinfo=tz) - timedelta(
                seconds=1
            )
        if not (params.get("data_inicio") and params.get("data_fim")):
            raise BadRequestError(MSG_PERIOD_MISSING)
        start_or_none = parse_br_datetime(params["data_inicio"], tz)
        end_or_none = parse_br_datetime(params["data_fim"], tz)
        if start_or_none is None or end_or_none is None:
            raise BadRequestError(MSG_DATETIME_E3)
        start, end = start_or_none, end_or_none
        if end < start:
            raise BadRequestError(MSG_ORDER_E3)
        if end - start > timedelta(hours=24):
            if self.config.long_window == "error":
                raise BadRequestError(MSG_WINDOW_E3)
            if self.config.long_window == "truncate":
                end = start + timedelta(hours=24)
        return start, end

    def _trips(self, params: dict[str, str], now: datetime) -> Response:
        """E4: ``placa`` + ``data`` as DD-MM-YYYY (dashes; a ``/`` date is rejected)."""
        config = self.config
        plate = _required_plate(params)
        day = parse_dash_date(params.get("data", ""))
        if day is None:
            raise BadRequestError(MSG_DATE_E4)
        v = self._vehicle(params)
        if v is None or day < self._oldest_kept(now).date():
            return self._envelope({}, config.trips_key, [])
        trips = self.world.trips(plate, day, until=now)
        return self._envelope({}, config.trips_key, (trip_record(t, config) for t in trips))

    def _vehicle(self, params: dict[str, str]) -> Any:
        """The vehicle of ``placa``; None for an unknown plate when ``unknown_plate`` is ``empty``."""
        plate = _required_plate(params)
        v = self.world.find(plate)
        if v is None and self.config.unknown_plate == "erro":
            raise BadRequestError(MSG_PLATE_UNKNOWN)
        return v

    def _oldest_kept(self, now: datetime) -> datetime:
        """Local midnight of the oldest day still served (retention, §4 ASSUMED 90 days)."""
        days = self.config.retention_days
        today = now.astimezone(self.world.tz).date()
        oldest: date = today - timedelta(days=days) if days is not None else date(1970, 1, 2)
        return datetime(oldest.year, oldest.month, oldest.day, tzinfo=self.world.tz)

    # ---- admin (/_sandbox/etrac/...) -------------------------------------------------------------

    def _admin(self, req: Request) -> Response:
        sub = req.path_lower[len(ADMIN_ROOT) :] if req.path_lower.startswith(ADMIN_ROOT) else None
        try:
            if sub in ("", "/help") and req.method == "GET":
                return Response.json(admin_help())
            if sub == "/config" and req.method == "GET":
                return Response.json(as_json(self.config))
            if sub == "/config" and req.method == "POST":
                settings = req.json() or {}
                if not isinstance(settings, dict):
                    raise ConfigError("expected a JSON object of settings")
                apply_settings(self.config, settings, allow_world=False)
                return Response.json(as_json(self.config))
            if sub == "/config/reset" and req.method == "POST":
                self.reset_switches()
                return Response.json(as_json(self.config))
            if sub == "/corrections" and req.method == "POST":
                return Response.json(self._next_correction(req.json() or {}))
            if sub == "/plates" and req.method == "GET":
                return Response.json({"plates": self.world.plates()})
            if sub == "/truth" and req.method == "GET":
                return self._truth(req)
        except (ConfigError, ValueError, KeyError) as exc:
            return Response.json({"error": str(exc)}, status=400)
        return Response.json(
            {"error": f"unknown admin route {req.path}", "help": f"GET {ADMIN_ROOT}/help"}, 404
        )

    def _next_correction(self, body: Any) -> dict[str, Any]:
        """The API revises its data: the next correction round, or the one ``{"round": n}`` names."""
        if not isinstance(body, dict):
            raise ConfigError('expected a JSON object such as {"round": 2, "ratio": 0.05}')
        settings: dict[str, Any] = {"correction_round": body.get("round", self.config.correction_round + 1)}
        if "ratio" in body:
            settings["correction_ratio"] = body["ratio"]
        apply_settings(self.config, settings, allow_world=False)
        return {name: getattr(self.config, name) for name in ("correction_round", "correction_ratio")}

    def _truth(self, req: Request) -> Response:
        plate, day_text = req.arg("placa"), req.arg("data")
        if not plate or not day_text:
            raise ValueError("use ?placa=ABC1D23&data=YYYY-MM-DD")
        summary = self.world.day_summary(plate, date.fromisoformat(day_text))
        body = {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in vars(summary).items()}
        return Response.json(body)


def admin_help() -> dict[str, Any]:
    return {
        "routes": {
            f"GET {ADMIN_ROOT}/config": "current settings",
            f"POST {ADMIN_ROOT}/config": 'set switches, e.g. {"errors_as_200": true, "order": "desc"}',
            f"POST {ADMIN_ROOT}/config/reset": "switches back to defaults",
            f"POST {ADMIN_ROOT}/corrections": "the API corrects some fixes and trips: the next round, "
            'or {"round": n, "ratio": 0.05}; {"round": 0} = as first sent',
            f"GET {ADMIN_ROOT}/plates": "the fleet's plates",
            f"GET {ADMIN_ROOT}/truth?placa=P&data=YYYY-MM-DD": "ground-truth counts and checksum of a day",
            "POST /_sandbox/faults": (
                'arm a fault: {"kind": "status|slow|reset|truncate|rate_limit|html_200|empty_200|cut_200'
                '|wrong_shape|bad_values", ...}; wrong_shape takes "shape": "bare_list|null_list|list_body", '
                'bad_values takes "values": {field: value} and "every": n'
            ),
            "POST /_sandbox/clock": '{"now": "2025-03-13T12:00:00-03:00"} or {"advance_seconds": n}',
            "GET /_sandbox/log": "requests seen so far",
        },
        "switches": {name: field_help(name) for name in SWITCH_FIELDS},
    }


def read_params(req: Request) -> dict[str, str]:
    """The request's parameters from a JSON object or a form-encoded body (§6 "Body parsing")."""
    if not req.body:
        return {}
    text = req.body.decode("utf-8", errors="replace")
    if "application/x-www-form-urlencoded" not in req.headers.get("content-type", "").lower():
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            return {str(k).lower(): "" if v is None else str(v) for k, v in payload.items()}
        if payload is not None or "=" not in text:
            raise BadRequestError(MSG_BODY)
    return {k.lower(): values[-1] for k, values in parse_qs(text, keep_blank_values=True).items()}


def _required_plate(params: dict[str, str]) -> str:
    plate = normalize_plate(params.get("placa", ""))
    if not plate:
        raise BadRequestError(MSG_PLATE_MISSING)
    return plate


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _chunks(opening: str, first: Any, rest: Iterator[Any], closing: str) -> Iterator[str]:
    yield opening
    if first is not None:
        yield _dumps(first)
        batch: list[str] = []
        for item in rest:
            batch.append(_dumps(item))
            if len(batch) >= BATCH:
                yield "," + ",".join(batch)
                batch.clear()
        if batch:
            yield "," + ",".join(batch)
    yield closing


def make_server(
    config: EtracConfig | None = None, *, clock: Clock | None = None, port: int = 0, host: str = "127.0.0.1"
) -> EtracServer:
    """Build (not start) the fake e-Track server; use it as a context manager or call ``start()``.

    ``server.world`` is the ground truth, ``server.config`` the live settings; the API root is
    ``server.base_url + "/monitoramento"``.
    """
    config = config if config is not None else EtracConfig()
    validate(config)
    return EtracServer(config, clock=clock or Clock(), host=host, port=port)
