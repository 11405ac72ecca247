"""Fake Auvo login and bearer tokens (auvo-api.md §1, §8.5), over real HTTP on loopback."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from sandbox.auvo import AuvoConfig, AuvoServer, make_server
from sandbox.core import SAO_PAULO, Clock

NOW = datetime(2025, 3, 13, 12, 0, tzinfo=SAO_PAULO)
SMALL: dict[str, Any] = {"seed": 7, "tasks_per_day": 6, "customers": 10, "rate_limit_per_minute": None}
CREDS = {"apiKey": "sandbox-api-key", "apiToken": "sandbox-api-token"}


@pytest.fixture
def auvo() -> Iterator[Callable[..., AuvoServer]]:
    servers: list[AuvoServer] = []

    def start(**overrides: Any) -> AuvoServer:
        server = make_server(AuvoConfig(**{**SMALL, **overrides}), clock=Clock(NOW))
        servers.append(server.start())  # type: ignore[arg-type]
        return server

    yield start
    for server in servers:
        # shutdown() waits for serve_forever's 0.5 s poll; do not make every test pay for it.
        server.stop()


def login(server: AuvoServer) -> str:
    reply = requests.post(server.base_url + "/v2/login/", json=CREDS, timeout=10)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["result"]["accessToken"])


def users(server: AuvoServer, token: str) -> requests.Response:
    return requests.get(
        server.base_url + "/v2/users/",
        params={"paramFilter": "{}"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


@pytest.mark.parametrize("path", ["/v2/login", "/v2/login/", "/V2/Login/"])
def test_login_by_get_query_and_post_body_with_or_without_slash(
    auvo: Callable[..., AuvoServer], path: str
) -> None:
    server = auvo()
    by_get = requests.get(server.base_url + path, params=CREDS, timeout=10)
    by_post = requests.post(server.base_url + path, json=CREDS, timeout=10)
    for reply in (by_get, by_post):
        assert reply.status_code == 200, reply.text
        result = reply.json()["result"]
        assert result["authenticated"] is True
        assert result["message"] == "OK"
        # §1.2: space-separated, offset-less local time; expiration = created + 30 min.
        assert result["created"] == "2025-03-13 12:00:00"
        assert result["expiration"] == "2025-03-13 12:30:00"
        _header, payload, _sig = result["accessToken"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["iss"] == "Auvo_Api_Publica" and claims["exp"] - claims["iat"] == 1800
        assert "sandbox-api-token" not in json.dumps(claims)
    assert by_get.json()["result"]["accessToken"] != by_post.json()["result"]["accessToken"]


def test_login_query_names_are_case_insensitive(auvo: Callable[..., AuvoServer]) -> None:
    server = auvo()
    reply = requests.get(
        server.base_url + "/v2/login",
        params={"APIKEY": CREDS["apiKey"], "apitoken": CREDS["apiToken"]},
        timeout=10,
    )
    assert reply.status_code == 200
    body = requests.post(
        server.base_url + "/v2/login",
        json={"ApiKey": CREDS["apiKey"], "APITOKEN": "sandbox-api-token"},
        timeout=10,
    )
    assert body.status_code == 200


def test_login_errors(auvo: Callable[..., AuvoServer]) -> None:
    server = auvo()
    url = server.base_url + "/v2/login/"
    missing = requests.get(url, params={"apiToken": "x"}, timeout=10)
    assert missing.status_code == 400
    assert missing.json() == {"apiKey": ["The value '\"\"' is not valid."]}
    missing_token = requests.post(url, json={"apiKey": CREDS["apiKey"]}, timeout=10)
    assert missing_token.status_code == 400 and "apiToken" in missing_token.json()
    unknown = requests.get(url, params={"apiKey": "nope", "apiToken": "x"}, timeout=10)
    assert unknown.status_code == 404
    wrong_token = requests.get(url, params={"apiKey": CREDS["apiKey"], "apiToken": "wrong"}, timeout=10)
    assert wrong_token.status_code == 401
    no_content_type = requests.post(url, data=json.dumps(CREDS).encode(), timeout=10)
    assert no_content_type.status_code == 415


def test_wrong_token_can_answer_authenticated_false(auvo: Callable[..., AuvoServer]) -> None:
    server = auvo(bad_token_login_status=200)
    reply = requests.get(server.base_url + "/v2/login", params={**CREDS, "apiToken": "wrong"}, timeout=10)
    assert reply.status_code == 200
    assert reply.json()["result"]["authenticated"] is False
    assert reply.json()["result"]["accessToken"] == ""


def test_bearer_is_required_on_every_call(auvo: Callable[..., AuvoServer]) -> None:
    server = auvo()
    url = server.base_url + "/v2/users/"
    assert requests.get(url, params={"paramFilter": "{}"}, timeout=10).status_code == 401
    assert users(server, "not-a-token").status_code == 401
    token = login(server)
    assert requests.get(url, headers={"Authorization": token}, timeout=10).status_code == 401  # no scheme
    assert users(server, token).status_code == 200
    lower_scheme = requests.get(url, headers={"Authorization": f"bearer {token}"}, timeout=10)
    assert lower_scheme.status_code == 200


def test_token_expires_on_the_sandbox_clock(auvo: Callable[..., AuvoServer]) -> None:
    server = auvo()
    token = login(server)
    server.clock.advance(timedelta(minutes=29, seconds=59))
    assert users(server, token).status_code == 200
    server.clock.advance(timedelta(seconds=1))
    expired = users(server, token)
    assert expired.status_code == 401
    assert expired.content == b""  # §8.5 default: empty body
    assert users(server, login(server)).status_code == 200  # re-login works


def test_token_ttl_is_configurable_and_401_body_switch(auvo: Callable[..., AuvoServer]) -> None:
    server = auvo(token_ttl_seconds=60, unauthorized_body="json")
    reply = requests.get(server.base_url + "/v2/login", params=CREDS, timeout=10)
    assert reply.json()["result"]["expiration"] == "2025-03-13 12:01:00"
    token = reply.json()["result"]["accessToken"]
    server.clock.advance(timedelta(seconds=61))
    expired = users(server, token)
    assert expired.status_code == 401
    assert "message" in expired.json()
    assert re.search("invalid_token", expired.headers["WWW-Authenticate"])


def test_expire_token_fault_hits_the_next_authenticated_call(auvo: Callable[..., AuvoServer]) -> None:
    server = auvo()
    token = login(server)
    assert users(server, token).status_code == 200
    server.faults.arm("expire_token")
    assert users(server, token).status_code == 401
    assert users(server, token).status_code == 401  # the token stays dead, as an expired one does
    fresh = login(server)  # login itself is not affected by the fault
    assert users(server, fresh).status_code == 200
    assert [e.status for e in server.requests_to("/users")] == [200, 401, 401, 200]


def test_admin_route_expires_all_tokens(auvo: Callable[..., AuvoServer]) -> None:
    server = auvo()
    token = login(server)
    reply = requests.post(server.base_url + "/_sandbox/auvo/tokens/expire", timeout=10)
    assert reply.json() == {"revoked": 1}
    assert users(server, token).status_code == 401
