"""The HTTP policy both API clients share.

One place decides what a failure means, so Auvo and e-Track behave the same way:

- connection errors, timeouts, 429 and 5xx are *transient*: wait (jittered exponential backoff,
  or the server's ``Retry-After``) and try again;
- a 2xx that is not the answer asked for (an HTML page from a proxy, an empty or cut-short
  body, JSON of another shape than the caller's ``Expect``) is *unexpected*: retried like a
  transient failure (a proxy hiccup passes), then an ``UnexpectedAnswerError`` naming the
  connection, endpoint, status, content type and what was expected. It is never "no data";
- an expired credential is *re-auth*: the source's hook logs in again, then one more try;
- any other 4xx is *final*: fail at once with the status, the endpoint and the API's message.

Each source adds its own quirks through ``classify`` (Auvo answers its rate limit with a 403,
e-Track can put an ``erro`` inside a 200). Log lines name the endpoint *path* and the exception
class, never a URL with its query string and never a header, so credentials cannot leak.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import msgspec
import requests

Verdict = Literal["ok", "retry", "reauth", "fail"]

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A request that failed for good. Carries no URL query, header or credential."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        endpoint: str = "",
        api_message: str = "",
        connection: str = "",
        content_type: str = "",
    ):
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint
        self.api_message = api_message
        self.connection = connection
        self.content_type = content_type


class UnexpectedAnswerError(ApiError):
    """A 2xx whose body is not what was asked for, on every attempt; ``expected`` says what was."""

    def __init__(self, message: str, *, expected: str, problem: str, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.expected = expected
        self.problem = problem


@dataclass(frozen=True)
class Expect:
    """What a successful answer must look like.

    ``problem(payload)`` returns None for a good payload, else what is wrong with it in a few
    words ("a JSON list", "'posicoes' is null"); ``description`` is what was expected, for the
    error message. The check runs inside the retry loop, so a wrong shape is retried.
    """

    description: str
    problem: Callable[[Any], str | None]


ANY_JSON = Expect("a JSON body", lambda payload: None)


def json_kind(value: Any) -> str:
    """The JSON type of a parsed value, for messages: "null", "object", "list", ..."""
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    return "string" if isinstance(value, str) else "number"


@dataclass(frozen=True)
class HttpPolicy:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    requests_per_minute: float | None = None

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


@dataclass
class RequestStats:
    """Requests spent, the one way to count them: a client's running totals, a hook's (the sum
    of its clients), or what one stream spent (``after - before``, summed with ``+``)."""

    requests: int = 0
    retries: int = 0
    backoff_s: float = 0.0
    paced_s: float = 0.0

    @property
    def waited_s(self) -> float:
        return self.backoff_s + self.paced_s

    def __add__(self, other: RequestStats) -> RequestStats:
        return RequestStats(
            self.requests + other.requests,
            self.retries + other.retries,
            self.backoff_s + other.backoff_s,
            self.paced_s + other.paced_s,
        )

    def __sub__(self, other: RequestStats) -> RequestStats:
        return RequestStats(
            self.requests - other.requests,
            self.retries - other.retries,
            self.backoff_s - other.backoff_s,
            self.paced_s - other.paced_s,
        )

    def copy(self) -> RequestStats:
        """A snapshot: a client's ``stats`` keeps counting after it is read."""
        return self + RequestStats()


@dataclass
class Reply:
    status: int
    payload: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    endpoint: str = ""


class Pacer(Protocol):
    """Something that hands out request slots; ``acquire`` blocks and returns seconds waited.

    The in-process ``TokenBucket`` is the default. A budget shared between processes (Celery
    workers behind one egress IP) only has to implement this one method.
    """

    def acquire(self) -> float: ...


def bucket_shape(requests_per_minute: float, burst: int | None = None) -> tuple[float, float]:
    """(tokens per second, capacity) of a bucket holding ``requests_per_minute``.

    A small default burst: a full minute's worth at once is exactly what trips a per-minute limit.
    """
    if requests_per_minute <= 0:
        raise ValueError(f"requests_per_minute must be positive, got {requests_per_minute}")
    capacity = burst if burst is not None else max(1, int(requests_per_minute // 20))
    return requests_per_minute / 60.0, float(capacity)


class TokenBucket:
    """Thread-safe token bucket: at most ``requests_per_minute`` on average, bursts of ``burst``."""

    def __init__(
        self,
        requests_per_minute: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate, self.capacity = bucket_shape(requests_per_minute, burst)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                wait = (1.0 - self._tokens) / self.rate
            self._sleep(wait)
            waited += wait


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Jittered exponential backoff: uniform in [c/2, c] with c = min(cap, base * 2**(attempt-1)).

    The jitter spreads the retries of parallel tasks, so they don't return in lock-step; the
    lower half is cut so a retry never comes back almost at once.
    ``attempt`` is 1 for the first retry.
    """
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse a ``Retry-After`` header: delta-seconds or an HTTP date. None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def default_classify(response: requests.Response, payload: Any) -> Verdict:
    if response.status_code < 400:
        return "ok"
    if response.status_code == 429 or response.status_code >= 500:
        return "retry"
    return "fail"


_UTF8 = frozenset({"utf-8", "utf8"})


def decode_json(response: requests.Response, body: bytes) -> Any:
    """The JSON of ``body``, as ``response.json()`` would give it, decoded without a text copy.

    An e-Track day is hundreds of MB of JSON: msgspec decodes UTF-8 bytes about three times as
    fast as the standard library (bench/results.md). Anything it does not accept (another
    declared charset, a BOM, NaN, an invalid body) goes through ``response.json()`` as before,
    so what decodes and what error a bad body gives are unchanged.
    """
    if (response.encoding or "utf-8").lower() in _UTF8:
        try:
            return msgspec.json.decode(body)
        except msgspec.MsgspecError:  # not valid for msgspec: the standard library decides
            pass
    return response.json()


def api_message(payload: Any, response: requests.Response | None = None) -> str:
    """The API's own words about an error, whatever shape they come in (trimmed)."""
    if isinstance(payload, dict):
        for key in ("erro", "error", "message", "Message", "mensagem"):
            if payload.get(key):
                return str(payload[key])[:300]
        return str(payload)[:300]
    if payload is not None:
        return str(payload)[:300]
    if response is not None:
        return (response.text or response.reason or "")[:300]
    return ""


def mask_secret(value: str | None) -> None:
    """Register a secret with Airflow's masker (task logs and the supervisor). No-op outside Airflow."""
    if not value:
        return
    try:
        from airflow.sdk.log import mask_secret as _mask
    except ImportError:  # used outside an Airflow install (e.g. the benchmarks)
        return
    _mask(value)


class _TransientError(Exception):
    def __init__(self, reason: str, wait: float | None = None, status: int | None = None, message: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.status = status
        self.message = message


class _UnexpectedBodyError(_TransientError):
    """A 2xx that is not the expected answer: retried, then an UnexpectedAnswerError."""

    def __init__(self, problem: str, status: int, content_type: str, expected: str):
        super().__init__(f"unexpected answer: {problem}", status=status)
        self.problem = problem
        self.content_type = content_type
        self.expected = expected


def body_problem(
    body: bytes, json_error: str | None, payload: Any, content_type: str, expect: Expect
) -> str | None:
    """What is wrong with a 2xx body, or None. Names the body's kind, never its content."""
    if not body.strip():
        return "an empty body"
    if json_error is not None:
        if "html" in content_type.lower() or body.lstrip()[:1] == b"<":
            return "an HTML page, not JSON"
        return f"a body that is not valid JSON ({json_error}; cut short?)"
    return expect.problem(payload)


class HttpClient:
    """Sends requests through one session with the shared retry policy and optional pacing."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        policy: HttpPolicy | None = None,
        *,
        classify: Callable[[requests.Response, Any], Verdict] | None = None,
        reauth: Callable[[], None] | None = None,
        logger: logging.Logger | Any | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        connection: str = "",
    ) -> None:
        self.session = session
        self.connection = connection  # the Airflow connection id, named in errors
        self.base_url = base_url.rstrip("/")
        self.policy = policy or HttpPolicy()
        self.classify = classify or default_classify
        self.reauth = reauth
        self.log = logger or log
        if pacer is None and self.policy.requests_per_minute:
            pacer = TokenBucket(self.policy.requests_per_minute)
        self.pacer = pacer
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.stats = RequestStats()

    def url(self, endpoint: str) -> str:
        return f"{self.base_url}/{endpoint.lstrip('/')}"

    def send(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        expect_json: bool = True,
        expect: Expect = ANY_JSON,
    ) -> Reply:
        """Send one logical request, retrying transient failures; see the module docstring.

        With ``expect_json`` a 2xx answer must be JSON and pass ``expect``; otherwise it is
        retried and finally raises ``UnexpectedAnswerError``.
        """
        path = "/" + urlsplit(endpoint).path.lstrip("/")
        label = (f"connection {self.connection!r}: " if self.connection else "") + f"{method.upper()} {path}"
        reauthed = False
        attempt = 0
        while True:
            attempt += 1
            if self.pacer is not None:
                self.stats.paced_s += self.pacer.acquire()
            try:
                return self._attempt(method, endpoint, path, params, json, data, headers, expect_json, expect)
            except _ReauthNeededError as exc:
                if reauthed or self.reauth is None:
                    raise ApiError(
                        f"{label} answered {exc.status} after a fresh login: the credentials are rejected",
                        status=exc.status,
                        endpoint=path,
                        connection=self.connection,
                    ) from None
                reauthed = True
                self.log.info("%s: token rejected (%s); logging in again", label, exc.status)
                self.reauth()
                attempt -= 1  # a re-login is not a failed attempt
            except _TransientError as exc:
                if attempt >= self.policy.max_attempts and isinstance(exc, _UnexpectedBodyError):
                    raise UnexpectedAnswerError(
                        f"{label} answered HTTP {exc.status} ({exc.content_type or 'no Content-Type'}) "
                        f"with {exc.problem}; expected {exc.expected}; gave up after {attempt} attempts",
                        status=exc.status,
                        endpoint=path,
                        connection=self.connection,
                        content_type=exc.content_type,
                        expected=exc.expected,
                        problem=exc.problem,
                    ) from None
                if attempt >= self.policy.max_attempts:
                    raise ApiError(
                        f"{label} failed after {attempt} attempts; last error: {exc.reason}",
                        status=exc.status,
                        endpoint=path,
                        api_message=exc.message,
                        connection=self.connection,
                    ) from None
                delay = backoff_delay(attempt, self.policy.backoff_base, self.policy.backoff_max, self._rng)
                if exc.wait is not None:
                    delay = min(max(exc.wait, 0.0), self.policy.backoff_max * 5)
                # A retried 403/429 is a rate-limit answer: a shared budget closes for everyone.
                penalize = getattr(self.pacer, "penalize", None)
                if exc.status in (403, 429) and penalize is not None:
                    penalize(delay)
                self.stats.retries += 1
                self.stats.backoff_s += delay
                self.log.warning(
                    "%s: attempt %d/%d failed (%s); retrying in %.1f s",
                    label,
                    attempt,
                    self.policy.max_attempts,
                    exc.reason,
                    delay,
                )
                self._sleep(delay)

    def _attempt(
        self,
        method: str,
        endpoint: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Any,
        headers: Mapping[str, str] | None,
        expect_json: bool,
        expect: Expect,
    ) -> Reply:
        self.stats.requests += 1
        try:
            response = self.session.request(
                method,
                self.url(endpoint),
                params=params,
                json=json,
                data=data,
                headers=dict(headers) if headers else None,
                timeout=self.policy.timeout,
            )
            body = response.content  # reads the whole body: a cut-off stream fails here
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _TransientError(type(exc).__name__) from None
        except requests.exceptions.ChunkedEncodingError as exc:
            raise _TransientError(type(exc).__name__) from None
        except requests.RequestException as exc:
            raise ApiError(
                f"{method} {path}: {type(exc).__name__}", endpoint=path, connection=self.connection
            ) from None

        payload: Any = None
        json_error: str | None = None
        if body and expect_json:
            try:
                payload = decode_json(response, body)
            except ValueError as exc:
                json_error = type(exc).__name__

        verdict = self.classify(response, payload)
        status = response.status_code
        if verdict == "ok":
            if expect_json and 200 <= status < 300 and status != 204:
                content_type = response.headers.get("Content-Type", "")
                problem = body_problem(body, json_error, payload, content_type, expect)
                if problem is not None:
                    raise _UnexpectedBodyError(problem, status, content_type, expect.description)
            return Reply(status, payload, response.headers, path)
        if verdict == "reauth":
            raise _ReauthNeededError(status)
        message = api_message(payload, response)
        if verdict == "retry":
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            raise _TransientError(
                f"HTTP {status}" + (f": {message}" if message else ""), wait, status, message
            )
        raise ApiError(
            f"{method.upper()} {path} answered HTTP {status}" + (f": {message}" if message else ""),
            status=status,
            endpoint=path,
            api_message=message,
            connection=self.connection,
            content_type=response.headers.get("Content-Type", ""),
        )


class _ReauthNeededError(Exception):
    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status
