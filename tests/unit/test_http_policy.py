"""The shared HTTP policy against a real loopback server with injected faults."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterator

import pytest
import requests

from sandbox.core import Request, Response, SandboxServer
from sync_apis.http import (
    ApiError,
    Expect,
    HttpClient,
    HttpPolicy,
    TokenBucket,
    UnexpectedAnswerError,
    backoff_delay,
    retry_after_seconds,
)

SECRET = "s3cr3t-token-value"


def app(req: Request) -> Response:
    if req.path == "/needs-auth":
        if req.headers.get("authorization") != "Bearer fresh":
            return Response.empty(401)
        return Response.json({"ok": True})
    if req.path == "/bad":
        return Response.json({"message": "The paramFilter is required"}, status=400)
    if req.path == "/limited":
        return Response.json({"erro": "slow down"}, status=429, headers={"Retry-After": "0"})
    return Response.json({"path": req.path, "items": list(range(50))})


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(app, name="policy", rate_limited=lambda wait: Response.empty(429)) as srv:
        yield srv


@pytest.fixture
def sleeps() -> list[float]:
    return []


def client(server: SandboxServer, sleeps: list[float], **policy: float) -> HttpClient:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {SECRET}"
    return HttpClient(
        session,
        server.base_url,
        HttpPolicy(**{"read_timeout": 0.5, "max_attempts": 4, **policy}),
        sleep=sleeps.append,  # record the waits instead of spending them; the requests are real
        rng=random.Random(1),
        connection="policy_api",
    )


@pytest.mark.parametrize(
    "kind,extra",
    [
        ("status", {"status": 503, "times": 2}),
        ("reset", {"times": 2}),
        ("truncate", {"times": 2}),
        ("slow", {"delay": 1.0, "times": 2}),
        ("rate_limit", {"times": 2}),
    ],
)
def test_transient_faults_are_retried_then_succeed(server, sleeps, kind, extra) -> None:
    server.faults.arm(kind, **extra)
    http = client(server, sleeps)
    reply = http.send("GET", "/items")
    assert reply.status == 200 and reply.payload["items"] == list(range(50))
    assert http.stats.requests == 3 and http.stats.retries == 2
    assert len(sleeps) == 2
    # A "slow" handler records itself only when it finally answers, after the client left.
    deadline = time.monotonic() + 5
    while sum(e.fault == kind for e in server.log) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sum(e.fault == kind for e in server.log) == 2


def test_gives_up_after_max_attempts_with_a_clear_error(server, sleeps) -> None:
    server.faults.arm("status", status=502, times=None)
    http = client(server, sleeps)
    with pytest.raises(ApiError) as err:
        http.send("GET", "/items", params={"apiToken": SECRET})
    assert err.value.status == 502 and err.value.endpoint == "/items"
    assert "after 4 attempts" in str(err.value) and "HTTP 502" in str(err.value)
    assert SECRET not in str(err.value)
    assert len(server.requests_to("/items")) == 4


def test_other_4xx_fails_fast_with_the_api_message(server, sleeps) -> None:
    http = client(server, sleeps)
    with pytest.raises(ApiError) as err:
        http.send("GET", "/bad")
    assert err.value.status == 400
    assert "paramFilter is required" in str(err.value)
    assert len(server.requests_to("/bad")) == 1 and sleeps == []


def test_retry_after_is_honoured(server, sleeps) -> None:
    http = client(server, sleeps, max_attempts=2)
    with pytest.raises(ApiError):
        http.send("GET", "/limited")
    assert sleeps == [0.0]  # the server said Retry-After: 0, not our backoff


def test_reauth_once_then_retry(server, sleeps) -> None:
    http = client(server, sleeps)
    logins = []

    def reauth() -> None:
        logins.append(1)
        http.session.headers["Authorization"] = "Bearer fresh"

    http.classify = lambda resp, payload: "reauth" if resp.status_code == 401 else "ok"
    http.reauth = reauth
    assert http.send("GET", "/needs-auth").payload == {"ok": True}
    assert logins == [1]


def test_reauth_that_does_not_help_fails(server, sleeps) -> None:
    http = client(server, sleeps)
    http.classify = lambda resp, payload: "reauth" if resp.status_code == 401 else "ok"
    http.reauth = lambda: None
    with pytest.raises(ApiError, match="credentials are rejected"):
        http.send("GET", "/needs-auth")


def test_log_lines_name_endpoint_and_exception_class_never_secrets(server, sleeps, caplog) -> None:
    server.faults.arm("reset", times=1)
    http = client(server, sleeps)
    with caplog.at_level(logging.WARNING):
        http.send("GET", "/items", params={"apiKey": SECRET})
    text = caplog.text
    assert "GET /items" in text and "ConnectionError" in text
    assert SECRET not in text and "apiKey" not in text


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(3)
    delays = [backoff_delay(n, base=1.0, cap=8.0, rng=rng) for n in range(1, 8)]
    assert 0.5 <= delays[0] <= 1.0
    assert all(d <= 8.0 for d in delays)
    assert delays[3] >= 4.0  # attempt 4: between 4 and 8


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_token_bucket_paces_to_the_budget() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    bucket = TokenBucket(120, burst=2, clock=lambda: now[0], sleep=sleep)
    waited = [bucket.acquire() for _ in range(10)]
    assert waited[:2] == [0.0, 0.0]  # the burst
    # 8 more at 2 per second take 4 seconds of (virtual) waiting
    assert sum(waited) == pytest.approx(4.0, abs=0.01)


ITEMS = Expect(
    "an object with an 'items' list",
    lambda p: None if isinstance(p, dict) and isinstance(p.get("items"), list) else "no 'items' list",
)


@pytest.mark.parametrize(
    ("kind", "extra", "content_type", "problem"),
    [
        ("html_200", {}, "text/html; charset=utf-8", "an HTML page, not JSON"),
        ("empty_200", {}, "application/json; charset=utf-8", "an empty body"),
        (
            "cut_200",
            {},
            "application/json; charset=utf-8",
            "a body that is not valid JSON (JSONDecodeError; cut short?)",
        ),
        ("wrong_shape", {"shape": "null_list"}, "application/json; charset=utf-8", "no 'items' list"),
        ("wrong_shape", {"shape": "bare_list"}, "application/json; charset=utf-8", "no 'items' list"),
    ],
)
def test_unexpected_2xx_answers_are_retried_then_named(
    server, sleeps, kind, extra, content_type, problem
) -> None:
    server.faults.arm(kind, times=2, **extra)
    http = client(server, sleeps)
    assert http.send("GET", "/items", expect=ITEMS).payload["items"] == list(range(50))  # a hiccup passes
    assert http.stats.retries == 2

    server.faults.arm(kind, times=None, **extra)
    with pytest.raises(UnexpectedAnswerError) as err:
        http.send("GET", "/items", params={"apiToken": SECRET}, expect=ITEMS)
    e = err.value
    assert isinstance(e, ApiError)
    assert (e.status, e.endpoint, e.connection, e.content_type) == (200, "/items", "policy_api", content_type)
    assert (e.problem, e.expected) == (problem, ITEMS.description)
    assert str(e) == (
        f"connection 'policy_api': GET /items answered HTTP 200 ({content_type}) with {problem}; "
        f"expected {ITEMS.description}; gave up after 4 attempts"
    )
    assert SECRET not in str(e)


def test_without_an_expectation_any_json_passes_but_an_empty_200_does_not(server, sleeps) -> None:
    server.faults.arm("wrong_shape", shape="bare_list", times=1)
    assert client(server, sleeps).send("GET", "/items").payload == list(range(50))
    server.faults.arm("empty_200", times=None)
    with pytest.raises(UnexpectedAnswerError, match="an empty body; expected a JSON body"):
        client(server, sleeps).send("GET", "/items")


UGLY_JSON_BODIES = {
    "plain": (b'{"placa": "ABC1D23", "latitude": "-23,5", "n": 1.10}', "utf-8"),
    "accents": ('{"cidade": "São Paulo – Zona Leste"}'.encode(), "utf-8"),
    "latin1_declared": ('{"cidade": "São Paulo"}'.encode("latin-1"), "iso-8859-1"),
    "bom": (b'\xef\xbb\xbf{"a": 1}', "utf-8"),
    "huge_int": (b'{"id": 123456789012345678901234567890}', "utf-8"),
    "out_of_range_float": (b'{"v": 1e400}', "utf-8"),
    "nan": (b'{"v": NaN, "w": -Infinity}', "utf-8"),
    "lone_surrogate": (b'{"s": "\\ud800"}', "utf-8"),
    "duplicate_keys": (b'{"a": 1, "a": 2}', "utf-8"),
    "control_char_in_string": (b'{"logradouro": "Rua A\tB"}', "utf-8"),
    "trailing_comma": (b'{"a": 1,}', "utf-8"),
    "invalid_utf8": (b'{"a": "\xff"}', "utf-8"),
}


@pytest.mark.parametrize("name", sorted(UGLY_JSON_BODIES))
def test_json_answers_decode_exactly_as_the_standard_library_would(name) -> None:
    """The fast decoder (msgspec) never changes a value: whatever it refuses, json decides."""
    body, charset = UGLY_JSON_BODIES[name]

    def raw(req: Request) -> Response:
        return Response(200, body, {"Content-Type": f"application/json; charset={charset}"})

    try:  # what requests' own response.json() makes of it: the text under the declared charset
        expected: object = json.loads(body.decode(charset, errors="replace"))
    except ValueError:  # a BOM in a UTF-8 answer is not JSON to it either
        expected = UnexpectedAnswerError
    with SandboxServer(raw, name="ugly-json", rate_limited=lambda wait: Response.empty(429)) as srv:
        http = client(srv, [])
        if expected is UnexpectedAnswerError:
            with pytest.raises(UnexpectedAnswerError, match="not valid JSON"):
                http.send("GET", "/ugly")
            return
        reply = http.send("GET", "/ugly")
    assert repr(reply.payload) == repr(expected)
