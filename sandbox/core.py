"""The machinery both fake APIs share: a threaded loopback HTTP server, a settable clock,
fault injection and a per-client rate budget.

Each fake API is a plain function ``app(request) -> Response``; everything that is not about
one API's contract (sockets, faults, the admin routes under ``/_sandbox/``) lives here so the
two servers stay small and behave alike.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
ADMIN_PREFIX = "/_sandbox"


# --------------------------------------------------------------------------- requests


@dataclass
class Request:
    """One HTTP request, with the path and query names already folded for lookups."""

    method: str
    raw_path: str
    path: str  # decoded, no query string, no trailing slash (except "/")
    query: dict[str, list[str]]  # keys lower-cased: both APIs are lenient about case
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    client: str

    @property
    def path_lower(self) -> str:
        return self.path.lower()

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name.lower())
        return values[-1] if values else default

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    """A response; ``body`` may be an iterator of chunks so big payloads are streamed."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(status, data, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    @classmethod
    def json_stream(cls, chunks: Iterable[str], status: int = 200) -> Response:
        """A JSON body produced piece by piece (sent chunked, never built whole)."""
        return cls(
            status, (c.encode("utf-8") for c in chunks), {"Content-Type": "application/json; charset=utf-8"}
        )

    @classmethod
    def empty(cls, status: int) -> Response:
        return cls(status, b"", {})


App = Callable[[Request], Response]


# --------------------------------------------------------------------------- clock


class Clock:
    """The sandbox's notion of "now". Real time by default; tests pin or move it."""

    def __init__(self, now: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._fixed = now
        self._offset = timedelta(0)

    def now(self) -> datetime:
        with self._lock:
            if self._fixed is not None:
                return self._fixed
            return datetime.now(SAO_PAULO) + self._offset

    def set(self, now: datetime) -> None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=SAO_PAULO)
        with self._lock:
            self._fixed = now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._fixed is not None:
                self._fixed += delta
            else:
                self._offset += delta


# --------------------------------------------------------------------------- faults

# Generic fault kinds the core applies around the app. Servers may define their own kinds
# (e.g. Auvo "expire_token", "duplicate_page") and consume them with take().
# The body faults replace or reshape the app's answer as a misbehaving proxy or API would:
#   html_200     a 200 with a proxy's HTML error page
#   empty_200    a 200 with an empty body (Content-Type still JSON)
#   cut_200      a 200 whose body is cut in half but complete on the wire (Content-Length fits)
#   wrong_shape  the JSON reshaped (``shape``): "bare_list" = the record list alone where the
#                envelope belongs, "null_list" = the record list replaced by null,
#                "list_body" = the whole envelope wrapped in a list
#   bad_values   ``values`` (field -> value) written into every ``every``-th record of the list;
#                the records as sent are appended to ``corrupted`` (the test's ground truth)
# The record list is the first JSON array found walking the envelope's objects (Auvo
# ``result.entityList``, e-Track ``retorno``/``posicoes``).
BODY_FAULTS = ("html_200", "empty_200", "cut_200", "wrong_shape", "bad_values")
GENERIC_FAULTS = ("status", "slow", "reset", "truncate", "rate_limit", *BODY_FAULTS)
WRONG_SHAPES = ("bare_list", "null_list", "list_body")
PROXY_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
)


@dataclass
class Fault:
    """One armed fault.

    kind:      a generic kind above, or a server-specific one.
    times:     how many matching requests it hits before disarming (None = forever).
    path:      substring of the lower-cased path it applies to (None = every path).
    skip:      how many matching requests to let through first.
    status:    for "status" (e.g. 502, 503) and "rate_limit" (server default when 0).
    delay:     seconds, for "slow".
    probability: chance per matching request (deterministic RNG of the plan).
    shape:     for "wrong_shape", one of WRONG_SHAPES.
    values:    for "bad_values", field -> the value written into the chosen records.
    every:     for "bad_values", every n-th record of each answer (the first is always hit).
    corrupted: for "bad_values", the records as sent after corruption.
    """

    kind: str
    times: int | None = 1
    path: str | None = None
    skip: int = 0
    status: int = 0
    delay: float = 0.0
    probability: float = 1.0
    hits: int = 0
    shape: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    every: int = 1
    corrupted: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kind == "wrong_shape" and self.shape not in WRONG_SHAPES:
            raise ValueError(f"wrong_shape needs shape in {WRONG_SHAPES}, got {self.shape!r}")
        if self.kind == "bad_values" and (not self.values or self.every < 1):
            raise ValueError("bad_values needs a non-empty 'values' and every >= 1")

    def matches(self, path_lower: str) -> bool:
        return self.path is None or self.path.lower() in path_lower


class FaultPlan:
    """Thread-safe list of armed faults; the order of arming is the order of matching."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)

    def arm(self, kind: str, **kwargs: Any) -> Fault:
        fault = Fault(kind=kind, **kwargs)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, kinds: Iterable[str], path_lower: str) -> Fault | None:
        """Return (and count) the first armed fault of one of ``kinds`` matching the path."""
        kinds = set(kinds)
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or not fault.matches(path_lower):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                fault.hits += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(vars(f)) for f in self._faults]


# --------------------------------------------------------------------------- rate budget


class RateBudget:
    """Sliding window of requests per client (None or 0 = unlimited).

    The window is the APIs' minute; ``window_s`` shortens it only so that a test can watch a
    budget refill in seconds instead of waiting a whole minute (``per_minute`` is then "per window").
    """

    def __init__(self, per_minute: int | None, window_s: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def allow(self, client: str) -> tuple[bool, float]:
        """(allowed, seconds until a slot frees up)."""
        if not self.per_minute:
            return True, 0.0
        now = time.monotonic()
        with self._lock:
            window = self._seen.setdefault(client, deque())
            while window and now - window[0] >= self.window_s:
                window.popleft()
            if len(window) >= self.per_minute:
                return False, max(0.0, self.window_s - (now - window[0]))
            window.append(now)
            return True, 0.0


# --------------------------------------------------------------------------- server


@dataclass
class LoggedRequest:
    method: str
    path: str
    status: int
    fault: str | None
    at: float = field(default_factory=time.time)  # wall clock: tests measure rates across processes


class SandboxServer:
    """Serve ``app`` on loopback in a background thread.

    Before the app, the core applies generic faults. ``rate_limited`` builds the API's own
    rate-limit answer (Auvo: 403 + text, e-Track: 429 + erro). Admin routes:

    - ``GET  /_sandbox/log``     the requests seen so far (method, path, status, fault)
    - ``POST /_sandbox/faults``  ``{"kind": ..., ...Fault fields}`` arms a fault
    - ``DELETE /_sandbox/faults`` disarms all
    - ``POST /_sandbox/clock``   ``{"now": "2025-03-13T12:00:00-03:00"}`` or ``{"advance_seconds": n}``
    - anything else under ``/_sandbox/`` is passed to ``admin`` (server-specific mutations)
    """

    def __init__(
        self,
        app: App,
        *,
        name: str,
        rate_limited: Callable[[float], Response],
        clock: Clock | None = None,
        faults: FaultPlan | None = None,
        admin: App | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app = app
        self.name = name
        self.rate_limited = rate_limited
        self.clock = clock or Clock()
        self.faults = faults or FaultPlan()
        self.admin = admin
        self.log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxServer:
        # A short poll interval: stop() returns in ~50 ms instead of 0.5 s (tests start many servers).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for a serve loop; never started = none
            self._httpd.shutdown()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, entry: LoggedRequest) -> None:
        with self._log_lock:
            self.log.append(entry)

    def requests_to(self, fragment: str) -> list[LoggedRequest]:
        with self._log_lock:
            return [e for e in self.log if fragment.lower() in e.path.lower()]

    # -- admin -------------------------------------------------------------------------

    def handle_admin(self, req: Request) -> Response:
        sub = req.path_lower[len(ADMIN_PREFIX) :]
        if sub == "/log" and req.method == "GET":
            with self._log_lock:
                return Response.json([vars(e) for e in self.log])
        if sub == "/faults" and req.method == "POST":
            spec = dict(req.json() or {})
            kind = spec.pop("kind")
            self.faults.arm(kind, **spec)
            return Response.json({"armed": self.faults.describe()})
        if sub == "/faults" and req.method == "DELETE":
            self.faults.clear()
            return Response.json({"armed": []})
        if sub == "/faults" and req.method == "GET":
            return Response.json({"armed": self.faults.describe()})
        if sub == "/clock" and req.method == "POST":
            spec = req.json() or {}
            if "now" in spec:
                self.clock.set(datetime.fromisoformat(spec["now"]))
            if "advance_seconds" in spec:
                self.clock.advance(timedelta(seconds=float(spec["advance_seconds"])))
            return Response.json({"now": self.clock.now().isoformat()})
        if sub == "/clock" and req.method == "GET":
            return Response.json({"now": self.clock.now().isoformat()})
        if self.admin is not None:
            return self.admin(req)
        return Response.json({"error": f"unknown admin route {req.path}"}, status=404)


def _parse_request(handler: BaseHTTPRequestHandler) -> Request:
    parts = urlsplit(handler.path)
    path = unquote(parts.path) or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query: dict[str, list[str]] = {}
    for key, values in parse_qs(parts.query, keep_blank_values=True).items():
        query.setdefault(key.lower(), []).extend(values)
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length > 0 else b""
    headers = {k.lower(): v for k, v in handler.headers.items()}
    return Request(handler.command, handler.path, path, query, headers, body, handler.client_address[0])


def _make_handler(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle on, every keep-alive response
        # would wait ~40 ms for the client's delayed ACK.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return  # the request log is kept in memory; stderr noise helps nobody in tests

        def _handle(self) -> None:
            try:
                self._serve()
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up first (its read timeout beat a "slow" fault): nothing to say.
                self.close_connection = True

        def _serve(self) -> None:
            req = _parse_request(self)
            if req.path_lower.startswith(ADMIN_PREFIX):
                self._send(server.handle_admin(req), req, None)
                return
            fault = server.faults.take(GENERIC_FAULTS, req.path_lower)
            if fault is not None and fault.kind == "reset":
                server.record(LoggedRequest(req.method, req.path, 0, "reset"))
                self._reset()
                return
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            if fault is not None and fault.kind == "status":
                code = fault.status or 503
                resp = Response.json({"error": "Service Unavailable"} if code >= 500 else {}, status=code)
                self._send(resp, req, "status")
                return
            if fault is not None and fault.kind == "rate_limit":
                self._send(server.rate_limited(30.0), req, "rate_limit")
                return
            try:
                resp = server.app(req)
            except Exception as exc:  # a bug in the fake must still answer, as a 500
                resp = Response.json({"error": f"sandbox error: {type(exc).__name__}: {exc}"}, status=500)
            if fault is not None and fault.kind == "truncate":
                self._send_truncated(resp, req)
                return
            if fault is not None and fault.kind in BODY_FAULTS:
                resp = spoil_body(resp, fault)
            self._send(resp, req, fault.kind if fault else None)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle  # noqa: N815

        def _reset(self) -> None:
            # SO_LINGER 0 makes close() send a TCP RST: the client sees "connection reset".
            import socket
            import struct

            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        def _send(self, resp: Response, req: Request, fault: str | None) -> None:
            server.record(LoggedRequest(req.method, req.path, resp.status, fault))
            self.send_response(resp.status)
            for key, value in resp.headers.items():
                self.send_header(key, value)
            if isinstance(resp.body, bytes | bytearray):
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                if req.method != "HEAD":
                    self.wfile.write(resp.body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in _batched(resp.body, 64 * 1024):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")

        def _send_truncated(self, resp: Response, req: Request) -> None:
            body = resp.body if isinstance(resp.body, bytes | bytearray) else b"".join(resp.body)
            server.record(LoggedRequest(req.method, req.path, resp.status, "truncate"))
            self.send_response(resp.status)
            for key, value in resp.headers.items():
                self.send_header(key, value)
            # Announce the whole length, send half, then hang up: what a dropped proxy does.
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: max(1, len(body) // 2)])
            self.wfile.flush()
            self.close_connection = True

    return Handler


def spoil_body(resp: Response, fault: Fault) -> Response:
    """The app's answer as a body fault turns it (see BODY_FAULTS); unchanged when not applicable."""
    json_type = {"Content-Type": "application/json; charset=utf-8"}
    if fault.kind == "html_200":
        return Response(200, PROXY_ERROR_PAGE, {"Content-Type": "text/html; charset=utf-8"})
    if fault.kind == "empty_200":
        return Response(200, b"", json_type)
    body = resp.body if isinstance(resp.body, bytes | bytearray) else b"".join(resp.body)
    if fault.kind == "cut_200":
        return Response(200, bytes(body[: max(1, len(body) // 2)]), json_type)
    try:
        payload = json.loads(body)
    except ValueError:
        return Response(resp.status, bytes(body), resp.headers)
    holder, key = _record_list(payload)
    if holder is None:
        return Response(resp.status, bytes(body), resp.headers)
    records = holder[key]
    if fault.kind == "bad_values":
        for index, record in enumerate(records):
            if index % fault.every == 0 and isinstance(record, dict):
                record.update(fault.values)
                fault.corrupted.append(json.loads(json.dumps(record)))
    elif fault.shape == "bare_list":
        payload = records
    elif fault.shape == "null_list":
        holder[key] = None
    else:  # list_body
        payload = [payload]
    return Response.json(payload, status=resp.status)


def _record_list(payload: Any) -> tuple[dict[str, Any] | None, str]:
    """(the object holding the first JSON array found walking objects depth-first, its key)."""
    if not isinstance(payload, dict):
        return None, ""
    for key, value in payload.items():
        if isinstance(value, list):
            return payload, key
        if isinstance(value, dict):
            holder, inner = _record_list(value)
            if holder is not None:
                return holder, inner
    return None, ""


def _batched(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    buf = bytearray()
    for chunk in chunks:
        buf += chunk
        if len(buf) >= size:
            yield bytes(buf)
            buf.clear()
    if buf:
        yield bytes(buf)
