"""A 1,000-vehicle fleet is served without building it: answers stream in bounded memory."""

from __future__ import annotations

import base64
import inspect
import json
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime

import pytest
import requests

from sandbox.core import SAO_PAULO, Clock, Request
from sandbox.etrac import DEFAULT_EMAIL, DEFAULT_KEY, EtracConfig, make_server
from sandbox.etrac.server import EtracServer

NOW = datetime(2025, 3, 13, 12, 0, tzinfo=SAO_PAULO)
DAY = date(2025, 3, 12)
AUTH = (DEFAULT_EMAIL, DEFAULT_KEY)


@pytest.fixture(scope="module")
def fleet() -> Iterator[EtracServer]:
    with make_server(EtracConfig(vehicles=1000, seed=21), clock=Clock(NOW)) as srv:
        yield srv


def post(server: EtracServer, path: str, body: object = None) -> requests.Response:
    return requests.post(f"{server.base_url}/monitoramento{path}", json=body, auth=AUTH, timeout=60)


def in_process(server: EtracServer, path: str, body: object) -> Request:
    token = base64.b64encode(f"{DEFAULT_EMAIL}:{DEFAULT_KEY}".encode()).decode()
    headers = {"authorization": f"Basic {token}", "content-type": "application/json"}
    return Request("POST", path, path, {}, headers, json.dumps(body).encode(), "127.0.0.1")


def streamed_peak(server: EtracServer, path: str, body: object) -> tuple[int, int]:
    """(bytes produced, tracemalloc peak) while the app's answer is consumed chunk by chunk."""
    warm = server.app(in_process(server, path, body))  # imports and first-use caches are not the answer
    for _ in warm.body:
        pass
    tracemalloc.start()
    try:
        answer = server.app(in_process(server, path, body))
        assert not isinstance(answer.body, bytes | bytearray), "big answers must be streamed"
        size = sum(len(chunk) for chunk in answer.body)
        return size, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_ultimas_posicoes_serves_the_whole_fleet_in_one_streamed_answer(fleet: EtracServer) -> None:
    r = post(fleet, "/ultimas-posicoes")
    assert r.status_code == 200 and r.headers["Transfer-Encoding"] == "chunked"
    items = r.json()["retorno"]
    assert len(items) == 1000 and len({i["placa"] for i in items}) == 1000
    for item in items[::97]:
        truth = fleet.world.latest(item["placa"])
        assert truth is not None
        assert item["data_transmissao"] == truth["data_transmissao"].strftime("%d/%m/%Y %H:%M:%S")


def test_history_of_a_sample_of_the_fleet_matches_the_ground_truth(fleet: EtracServer) -> None:
    plates = fleet.world.plates()[::40]
    assert len(plates) == 25
    for plate in plates:
        r = post(fleet, "/ultimasposicoesterminal", {"placa": plate, "data": DAY.strftime("%d/%m/%Y")})
        served = {(i["data_transmissao"], i["latitude"], i["longitude"]) for i in r.json()["posicoes"]}
        assert len(served) == fleet.world.day_summary(plate, DAY).positions > 0


def test_fleet_answer_memory_is_bounded(fleet: EtracServer) -> None:
    size, peak = streamed_peak(fleet, "/monitoramento/ultimas-posicoes", {})
    assert size > 350_000
    assert peak < size / 2, (size, peak)


def test_a_large_history_streams_in_memory_far_below_its_size() -> None:
    # Dense fixes (every 5-10 s) and a whole week in one call ("honour" long windows):
    # about 4 MB of JSON. Memory must stay at the level of one segment plus one chunk.
    config = EtracConfig(vehicles=1, seed=2, drive_fix_interval_s=(5, 10), long_window="honour")
    with make_server(config, clock=Clock(NOW)) as server:
        plate = server.world.plates()[0]
        path = "/monitoramento/ultimasposicoesterminal"
        day_size, day_peak = streamed_peak(server, path, {"placa": plate, "data": DAY.strftime("%d/%m/%Y")})
        week = {"placa": plate, "data_inicio": "03/03/2025 00:00:00", "data_fim": "09/03/2025 23:59:59"}
        week_size, week_peak = streamed_peak(server, path, week)
    assert day_size > 300_000 and week_size > 3 * day_size  # the week has a weekend
    assert day_peak < day_size / 2, (day_size, day_peak)
    assert week_peak < week_size / 10, (week_size, week_peak)
    assert week_peak < 2 * day_peak, "memory does not grow with the size of the answer"


def test_world_streams_are_generators(fleet: EtracServer) -> None:
    plate = fleet.world.plates()[500]
    assert inspect.isgenerator(fleet.world.positions(plate, DAY))
    assert inspect.isgenerator(fleet.world.window_fixes(plate, NOW, NOW))


@pytest.mark.slow
def test_a_dense_1000_vehicle_day_streams_in_bounded_memory() -> None:
    """About 1.5 million positions (1,000 vehicles x ~1,500 fixes) over real HTTP, one day.

    Each answer is read as a stream and only counted; the server's memory must not grow with
    what it served (it generates and encodes each vehicle-day lazily).
    """
    import psutil

    config = EtracConfig(
        vehicles=1000, seed=21, drive_fix_interval_s=(10, 15), park_fix_interval_s=(120, 240)
    )
    marker = b'"data_transmissao"'
    process = psutil.Process()
    with make_server(config, clock=Clock(NOW)) as server, requests.Session() as session:
        session.auth = AUTH
        url = f"{server.base_url}/monitoramento/ultimasposicoesterminal"
        rss_before = process.memory_info().rss
        positions = served_bytes = 0
        for plate in server.world.plates():
            tail = b""
            with session.post(url, json={"placa": plate, "data": DAY.strftime("%d/%m/%Y")}, stream=True) as r:
                assert r.status_code == 200
                for chunk in r.iter_content(64 * 1024):
                    window = tail + chunk
                    positions += window.count(marker) - tail.count(marker)
                    tail = window[-len(marker) :]
                    served_bytes += len(chunk)
        growth = process.memory_info().rss - rss_before
    assert 1_300_000 < positions < 1_700_000, positions
    assert served_bytes > 500_000_000
    assert growth < served_bytes / 10, (growth, served_bytes)
