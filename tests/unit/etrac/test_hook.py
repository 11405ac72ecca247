"""EtracHook against the e-Track sandbox over real loopback HTTP (only sleeping is faked)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pytest
import requests

from sync_apis.etrac.hook import EtracHook, classify
from sync_apis.etrac.streams import POSITIONS
from sync_apis.http import ApiError, HttpPolicy

DAY = date(2025, 3, 11)
EMAIL, KEY = "sandbox@example.com", "1234567890123"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def hook(etrac_sandbox: Any, connect_airflow: Any, sleeps: Sleeps) -> EtracHook:
    connect_airflow(etrac=etrac_sandbox)
    h = EtracHook(
        policy=HttpPolicy(max_attempts=4, backoff_base=0.5),
        sleep=sleeps,
        logger=logging.getLogger("tests.etrac.hook"),
    )
    yield h
    h.close()


def history_paths(server: Any) -> list[Any]:
    return server.requests_to("/ultimasposicoesterminal")


def test_latest_lists_every_vehicle_with_basic_auth(hook: EtracHook, etrac_sandbox: Any) -> None:
    records = hook.latest()
    world = etrac_sandbox.world
    assert sorted(r["placa"] for r in records) == sorted(world.plates())
    for record in records:
        row = POSITIONS.build(record)
        truth = world.latest(record["placa"])
        assert row["data_transmissao"] == truth["data_transmissao"]
        assert row["latitude"] == truth["latitude"]
    assert hook.base_url.endswith("/monitoramento")


def test_one_session_is_reused(hook: EtracHook, etrac_sandbox: Any) -> None:
    plate = etrac_sandbox.world.plates()[0]
    hook.history(plate, DAY)
    session = hook.client.session
    hook.trips(plate, DAY)
    hook.latest()
    assert hook.client.session is session
    assert hook.client.stats.requests == 3


@pytest.mark.parametrize("errors_as_200", [False, True])
def test_wrong_key_fails_at_once_without_leaking_credentials(
    etrac_sandbox: Any,
    connect_airflow: Any,
    sleeps: Sleeps,
    errors_as_200: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connect_airflow(etrac=etrac_sandbox)
    etrac_sandbox.config.credentials = {EMAIL: "another-key-entirely"}
    etrac_sandbox.config.errors_as_200 = errors_as_200
    hook = EtracHook(policy=HttpPolicy(max_attempts=4), sleep=sleeps)
    with pytest.raises(ApiError) as info:
        hook.latest()
    assert "inválidos" in info.value.api_message
    assert info.value.endpoint == "/ultimas-posicoes"
    assert EMAIL not in str(info.value) and KEY not in str(info.value)
    assert len(etrac_sandbox.requests_to("/ultimas-posicoes")) == 1  # not retried
    assert sleeps == []


def test_5xx_is_retried_with_backoff(hook: EtracHook, etrac_sandbox: Any, sleeps: Sleeps) -> None:
    etrac_sandbox.faults.arm("status", status=503, times=2, path="ultimasposicoesterminal")
    plate = etrac_sandbox.world.plates()[0]
    records = hook.history(plate, DAY)
    assert len(records) > 0
    assert hook.client.stats.retries == 2
    assert len(sleeps) == 2 and all(0 < s <= 60 for s in sleeps)


def test_429_honours_retry_after(hook: EtracHook, etrac_sandbox: Any, sleeps: Sleeps) -> None:
    etrac_sandbox.faults.arm("rate_limit", times=1)
    assert hook.latest()
    assert sleeps == [30.0]  # the sandbox's Retry-After, not our own backoff


def test_rate_budget_429_is_waited_out(hook: EtracHook, etrac_sandbox: Any, sleeps: Sleeps) -> None:
    etrac_sandbox.config.rate_limit_per_minute = 2
    plate = etrac_sandbox.world.plates()[0]
    hook.history(plate, DAY)
    hook.trips(plate, DAY)
    # The third request is refused with 429 + Retry-After; lift the limit as if a minute passed.
    original_sleep = hook.client._sleep

    def wait_a_minute(seconds: float) -> None:
        original_sleep(seconds)
        etrac_sandbox.config.rate_limit_per_minute = None

    hook.client._sleep = wait_a_minute
    assert hook.latest()
    assert len(sleeps) == 1 and sleeps[0] >= 1


@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_broken_connections_are_retried_and_logged_safely(
    hook: EtracHook, etrac_sandbox: Any, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    etrac_sandbox.faults.arm(fault, times=1, path="ultimasposicoesterminal")
    plate = etrac_sandbox.world.plates()[0]
    with caplog.at_level(logging.WARNING):
        records = hook.history(plate, DAY)
    assert [POSITIONS.row({**POSITIONS.build(r), "origin": "history"})[:4] for r in records]
    assert hook.client.stats.retries == 1
    retry_lines = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retry_lines) == 1
    line = retry_lines[0]
    assert "/ultimasposicoesterminal" in line
    assert "ConnectionError" in line or "ChunkedEncodingError" in line or "invalid JSON" in line, line
    assert EMAIL not in caplog.text and KEY not in caplog.text


def test_gives_up_after_max_attempts(hook: EtracHook, etrac_sandbox: Any) -> None:
    etrac_sandbox.faults.arm("status", status=502, times=None)
    with pytest.raises(ApiError) as info:
        hook.latest()
    assert info.value.status == 502
    assert len(etrac_sandbox.requests_to("/ultimas-posicoes")) == 4


@pytest.mark.parametrize("mode", ["erro", "empty"])
def test_unknown_plate_is_no_data_not_a_failure(hook: EtracHook, etrac_sandbox: Any, mode: str) -> None:
    etrac_sandbox.config.unknown_plate = mode
    assert hook.history("ZZZ-9Z99", DAY) == []
    assert hook.trips("ZZZ9Z99", DAY) == []


@pytest.mark.parametrize("errors_as_200", [False, True])
def test_no_data_as_erro_is_an_empty_list(hook: EtracHook, etrac_sandbox: Any, errors_as_200: bool) -> None:
    etrac_sandbox.config.empty_results = "erro"
    etrac_sandbox.config.errors_as_200 = errors_as_200
    plate = etrac_sandbox.world.plates()[0]
    assert hook.history(plate, date(2024, 1, 1)) == []  # beyond retention
    assert hook.no_data_answers == 1


def test_a_wrong_path_is_not_mistaken_for_no_data(hook: EtracHook, etrac_sandbox: Any) -> None:
    with pytest.raises(ApiError) as info:
        hook._post("ultimas-posicoes-frota", None, no_data_ok=True)
    assert info.value.status == 404


def test_trips_under_either_envelope_key(hook: EtracHook, etrac_sandbox: Any) -> None:
    world = etrac_sandbox.world
    plate = next(p for p in world.plates() if world.trips(p, DAY))
    expected = len(world.trips(plate, DAY))
    assert len(hook.trips(plate, DAY)) == expected
    etrac_sandbox.config.trips_key = "conducoes"
    assert len(hook.trips(plate, DAY)) == expected


@pytest.mark.parametrize(
    "switches",
    [
        {},
        {"date_format": "iso_space", "numeric_format": "formatted"},
        {"date_format": "iso_t", "history_fields": "no_placa", "order": "desc"},
        {"history_fields": "strict_doc", "order": "unordered", "numeric_format": "formatted"},
    ],
)
def test_history_in_every_format_parses_to_the_ground_truth(
    hook: EtracHook, etrac_sandbox: Any, switches: dict[str, Any]
) -> None:
    from sandbox.etrac import checksum_positions

    for name, value in switches.items():
        setattr(etrac_sandbox.config, name, value)
    world = etrac_sandbox.world
    for plate in world.plates()[:2]:
        rows = {}
        for record in hook.history(plate.lower()[:3] + "-" + plate[3:], DAY):  # hyphenated request
            row = POSITIONS.build(record, plate=plate)
            rows[(row["placa"], row["data_transmissao"], row["latitude"], row["longitude"])] = row
            assert row["extra"] == {}
        assert len(rows) == len(list(world.positions(plate, DAY)))
        assert checksum_positions(rows.values()) == world.day_checksum(plate, DAY)


def _response(status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    return response


@pytest.mark.parametrize(
    ("status", "payload", "verdict"),
    [
        (200, {"retorno": []}, "ok"),
        (200, {"erro": "Usuário ou chave de API inválidos", "code_header": "401"}, "fail"),
        (200, {"erro": "Serviço indisponível", "code_header": "503"}, "retry"),
        (200, {"erro": "Limite de requisições excedido", "code_header": "429 Too Many Requests"}, "retry"),
        (200, {"erro": "algo"}, "fail"),
        (400, {"erro": "Terminal não encontrado", "code_header": "400"}, "fail"),
        (429, {"erro": "Limite"}, "retry"),
        (502, None, "retry"),
        (404, {"erro": "Rota não encontrada"}, "fail"),
    ],
)
def test_classify(status: int, payload: Any, verdict: str) -> None:
    assert classify(_response(status), payload) == verdict
