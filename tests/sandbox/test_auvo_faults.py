"""Fake Auvo rate limit (auvo-api.md §6.1) and fault injection: the core's generic kinds plus
the Auvo-specific ``expire_token`` and ``duplicate_page``."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.start_auvo import StartAuvo

WEEK = {"startDate": "2025-03-03T00:00:00", "endDate": "2025-03-12T23:59:59"}
RATE_BODY = {"error": "Rate limit temporarily exceeded"}


def test_rate_limit_kicks_in_at_the_budget(auvo: StartAuvo) -> None:
    _server, client = auvo(rate_limit_per_minute=5)
    client.login()  # request 1: login counts too
    statuses = [client.get("/users", param_filter={}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 403]
    limited = client.get("/users", param_filter={})
    assert limited.status_code == 403
    assert limited.json() == RATE_BODY
    assert "Retry-After" not in limited.headers  # §6.1: none documented


def test_rate_limit_429_mode_and_retry_after(auvo: StartAuvo) -> None:
    server, client = auvo(rate_limit_per_minute=2, rate_limit_status=429, rate_limit_retry_after=True)
    client.login()
    assert client.get("/users", param_filter={}).status_code == 200
    limited = client.get("/users", param_filter={})
    assert limited.status_code == 429 and limited.json() == RATE_BODY
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    server.config.rate_limit_per_minute = None  # the live config is read on every request
    assert client.get("/users", param_filter={}).status_code == 200


def test_a_shortened_window_refills_after_it_and_says_so(auvo: StartAuvo) -> None:
    server, client = auvo(rate_limit_per_minute=2, rate_limit_status=429, rate_limit_retry_after=True)
    server.config.rate_limit_window_s = 1.5
    client.login()
    assert client.get("/users", param_filter={}).status_code == 200
    limited = client.get("/users", param_filter={})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) <= 2  # not 60
    time.sleep(1.6)
    assert client.get("/users", param_filter={}).status_code == 200


def test_rate_limit_fault_uses_the_auvo_answer(auvo: StartAuvo) -> None:
    server, client = auvo()
    client.login()
    server.faults.arm("rate_limit", times=2, path="/customers")
    assert client.get("/users", param_filter={}).status_code == 200  # other paths unaffected
    first = client.get("/customers", param_filter={})
    assert first.status_code == 403 and first.json() == RATE_BODY
    assert client.get("/customers", param_filter={}).status_code == 403
    assert client.get("/customers", param_filter={}).status_code == 200


def test_5xx_burst_slow_reset_and_truncate(auvo: StartAuvo) -> None:
    server, client = auvo()
    client.login()
    server.faults.arm("status", status=502, times=2)
    assert [client.get("/teams", param_filter={}).status_code for _ in range(3)] == [502, 502, 200]
    server.faults.arm("slow", delay=0.4)
    started = time.monotonic()
    assert client.get("/teams", param_filter={}).status_code == 200
    assert time.monotonic() - started >= 0.4
    server.faults.arm("reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        client.get("/teams", param_filter={})
    server.faults.arm("truncate", path="/tasks")
    with pytest.raises(requests.exceptions.RequestException):
        client.get("/tasks", param_filter=WEEK).json()
    assert client.get("/tasks", param_filter=WEEK).status_code == 200
    assert [e.fault for e in server.log if e.fault] == ["status", "status", "slow", "reset", "truncate"]


def test_duplicate_page_serves_page_k_again(auvo: StartAuvo) -> None:
    server, client = auvo()
    clean = list(client.pages("/tasks", param_filter=WEEK, page_size=10))
    assert len(clean) >= 3
    server.faults.arm("duplicate_page", path="/tasks")
    faulty = list(client.pages("/tasks", param_filter=WEEK, page_size=10))
    assert faulty[0] == clean[0]
    assert faulty[1] == clean[0]  # the same records on two pages
    assert faulty[2:] == clean[2:]  # one-shot fault: later pages are right again
    second = client.get("/tasks", param_filter=WEEK, page=2, pageSize=10)
    assert second.json()["result"]["entityList"] == clean[1]
    server.faults.arm("duplicate_page", path="/customers", skip=1)
    customers = list(client.pages("/customers", param_filter={}, page_size=5))
    assert customers[2] == customers[1] and customers[1] != customers[0]


def test_expire_token_mid_sync(auvo: StartAuvo) -> None:
    server, client = auvo()
    server.faults.arm("expire_token", path="/tasks", skip=2)
    statuses = [client.get("/tasks", param_filter=WEEK, page=p, pageSize=10).status_code for p in (1, 2, 3)]
    assert statuses == [200, 200, 401]
    assert client.get("/users", param_filter={}).status_code == 401  # the token itself is expired now
    client.login()
    assert client.get("/tasks", param_filter=WEEK, page=3, pageSize=10).status_code == 200


def test_body_faults_on_auvo_lists(auvo: StartAuvo) -> None:
    server, client = auvo()
    client.login()
    clean = client.get("/users", param_filter={}).json()
    server.faults.arm("html_200", times=1, path="/users")
    page = client.get("/users", param_filter={})
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    server.faults.arm("wrong_shape", shape="null_list", times=1, path="/users")
    nulled = client.get("/users", param_filter={}).json()
    assert nulled["result"]["entityList"] is None
    assert nulled["result"]["pagedSearchReturnData"] == clean["result"]["pagedSearchReturnData"]
    server.faults.arm("wrong_shape", shape="bare_list", times=1, path="/users")
    assert client.get("/users", param_filter={}).json() == clean["result"]["entityList"]
    server.faults.arm("bad_values", values={"userID": {"x": 1}}, every=2, times=1, path="/users")
    spoiled = client.get("/users", param_filter={}).json()["result"]["entityList"]
    assert [u["userID"] for u in spoiled[::2]] == [{"x": 1}] * len(spoiled[::2])
    assert spoiled[1::2] == clean["result"]["entityList"][1::2]
    assert client.get("/users", param_filter={}).json() == clean
