"""Generic faults (sandbox.core) really happen on the e-Track fake, armed in code or over HTTP."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests

from sandbox.core import SAO_PAULO, Clock
from sandbox.etrac import DEFAULT_EMAIL, DEFAULT_KEY, EtracConfig, make_server
from sandbox.etrac.server import EtracServer

NOW = datetime(2025, 3, 13, 12, 0, tzinfo=SAO_PAULO)
AUTH = (DEFAULT_EMAIL, DEFAULT_KEY)


@pytest.fixture
def server() -> Iterator[EtracServer]:
    with make_server(EtracConfig(vehicles=4), clock=Clock(NOW)) as srv:
        yield srv


def latest(server: EtracServer, timeout: float | tuple[float, float] = 10) -> requests.Response:
    return requests.post(f"{server.base_url}/monitoramento/ultimas-posicoes", auth=AUTH, timeout=timeout)


def test_reset_raises_connection_error_then_recovers(server: EtracServer) -> None:
    server.faults.arm("reset", times=1)
    with pytest.raises(requests.ConnectionError):
        latest(server)
    assert latest(server).status_code == 200
    assert [e.fault for e in server.requests_to("ultimas-posicoes")] == ["reset", None]


def test_truncate_yields_invalid_json(server: EtracServer) -> None:
    server.faults.arm("truncate", times=1)
    body = json.dumps({}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    token = requests.auth._basic_auth_str(*AUTH)
    conn.request("POST", "/monitoramento/ultimas-posicoes", body=body, headers={"Authorization": token})
    resp = conn.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead) as caught:
        resp.read()
    partial = caught.value.partial
    assert partial.startswith(b'{"retorno":[')
    with pytest.raises(json.JSONDecodeError):
        json.loads(partial)
    conn.close()
    server.faults.arm("truncate", times=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # what a requests-based client sees
        latest(server)
    assert latest(server).json()["retorno"]


def test_slow_exceeds_a_short_read_timeout(server: EtracServer) -> None:
    server.faults.arm("slow", delay=1.5, times=1)
    with pytest.raises(requests.ReadTimeout):
        latest(server, timeout=(2, 0.3))
    assert latest(server).status_code == 200


def test_5xx_burst_then_recovery(server: EtracServer) -> None:
    server.faults.arm("status", status=503, times=3)
    codes = [latest(server).status_code for _ in range(4)]
    assert codes == [503, 503, 503, 200]


def test_rate_limit_fault_is_429_with_erro_and_retry_after(server: EtracServer) -> None:
    server.faults.arm("rate_limit", times=1)
    r = latest(server)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "30"
    assert r.json()["code_header"] == "429" and r.json()["erro"].startswith("Limite de requisições excedido")
    assert latest(server).status_code == 200


def test_faults_armed_over_http_respect_the_path_filter(server: EtracServer) -> None:
    spec = {"kind": "status", "status": 502, "times": 2, "path": "ultimasposicoesterminal"}
    armed = requests.post(f"{server.base_url}/_sandbox/faults", json=spec, timeout=10)
    assert armed.status_code == 200 and armed.json()["armed"][0]["status"] == 502
    plate = server.world.plates()[0]
    history = f"{server.base_url}/monitoramento/ultimasposicoesterminal"
    assert latest(server).status_code == 200, "other paths are not hit"
    codes = [
        requests.post(history, json={"placa": plate, "data": "12/03/2025"}, auth=AUTH, timeout=10).status_code
        for _ in range(3)
    ]
    assert codes == [502, 502, 200]
    requests.post(f"{server.base_url}/_sandbox/faults", json={"kind": "reset", "times": None}, timeout=10)
    with pytest.raises(requests.ConnectionError):
        latest(server)
    requests.delete(f"{server.base_url}/_sandbox/faults", timeout=10)
    assert latest(server).status_code == 200


def test_clock_can_be_moved_over_http(server: EtracServer) -> None:
    before = latest(server).json()["retorno"]
    r = requests.post(f"{server.base_url}/_sandbox/clock", json={"advance_seconds": 6 * 3600}, timeout=10)
    assert r.json()["now"].startswith("2025-03-13T18:00:00")
    after = latest(server).json()["retorno"]
    assert [i["data_transmissao"] for i in after] != [i["data_transmissao"] for i in before]


def history(server: EtracServer) -> requests.Response:
    plate = server.world.plates()[0]
    return requests.post(
        f"{server.base_url}/monitoramento/ultimasposicoesterminal",
        json={"placa": plate, "data": "12/03/2025"},
        auth=AUTH,
        timeout=10,
    )


def test_body_faults_answer_200_with_what_a_bad_proxy_sends(server: EtracServer) -> None:
    clean = history(server).json()
    assert clean["posicoes"]
    server.faults.arm("html_200", times=1, path="ultimasposicoesterminal")
    page = history(server)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.text.lstrip().startswith("<!DOCTYPE html>")
    server.faults.arm("empty_200", times=1)
    empty = history(server)
    assert (empty.status_code, empty.content) == (200, b"")
    server.faults.arm("cut_200", times=1)
    cut = history(server)  # a complete HTTP message: only the JSON is broken
    assert cut.status_code == 200 and len(cut.content) == int(cut.headers["Content-Length"])
    with pytest.raises(ValueError):
        cut.json()
    assert history(server).json() == clean  # each fault was one-shot


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ("bare_list", lambda clean: clean["posicoes"]),
        ("null_list", lambda clean: {**clean, "posicoes": None}),
        ("list_body", lambda clean: [clean]),
    ],
)
def test_wrong_shape_reshapes_the_envelope(server: EtracServer, shape: str, expected: Any) -> None:
    clean = history(server).json()
    server.faults.arm("wrong_shape", shape=shape, times=1)
    assert history(server).json() == expected(clean)
    assert [e.fault for e in server.requests_to("ultimasposicoesterminal")] == [None, "wrong_shape"]


def test_bad_values_corrupts_every_nth_record_and_keeps_what_it_sent(server: EtracServer) -> None:
    clean = history(server).json()["posicoes"]
    fault = server.faults.arm("bad_values", values={"latitude": "91.5", "velocidade": "abc"}, every=3)
    sent = history(server).json()["posicoes"]
    assert len(sent) == len(clean)
    for index, (got, original) in enumerate(zip(sent, clean, strict=True)):
        if index % 3 == 0:
            assert got == {**original, "latitude": "91.5", "velocidade": "abc"}
        else:
            assert got == original
    assert fault.corrupted == sent[::3]


def test_body_faults_armed_over_http_are_validated(server: EtracServer) -> None:
    url = f"{server.base_url}/_sandbox/faults"
    armed = requests.post(url, json={"kind": "wrong_shape", "shape": "bare_list"}, timeout=10)
    assert armed.status_code == 200
    assert isinstance(latest(server).json(), list)
    with pytest.raises(ValueError, match="shape"):
        server.faults.arm("wrong_shape", shape="sideways")
