"""etrac_daily against every alternative behaviour of the e-Track sandbox (etrac-api.md §6).

Each case flips one or more sandbox switches (or arms faults), runs the DAG's tasks for one local
day at the library seam (``tests/support/seams.py``: latest, plan, history per chunk, routes and
the DAG's SQL checks) against the sandbox over loopback and a real PostgreSQL, and compares the
warehouse with the sandbox's ground truth: every typed column of every position per plate-day
(plus the shared count + checksum), every trip, the routes and the terminals. Nothing of the
client is faked; the only help is a shorter rate-limit window (see ``ShortMinuteBudget``) so a
real 429 + ``Retry-After`` costs a second instead of a minute.

One wrong-key case runs the whole DAG with ``dag.test()``: what it tests is how Airflow fails
the run (the task red, the downstream ones upstream_failed); the other deliveries of the same
refusal run at the seam.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from sandbox.core import RateBudget
from sync_apis.http import ApiError
from tests.support.etrac_world import DAY, assert_matches_ground_truth, day_bounds, table_hashes
from tests.support.sandboxes import small_etrac_server
from tests.support.seams import run_etrac_day

pytestmark = pytest.mark.timeout(300)

NO_DATA_WORLD = {"data_start": DAY + timedelta(days=1)}
"""World fields for a day with no data at all: the fleet starts transmitting the day after DAY.

(DAY itself, not a day before 2025-01-01: the DAG's start_date is 2025-01-01 and a manual run
before it gets no task instances at all.)"""

UNKNOWN_PLATE = "zzz-9z99"
"""A plate the sandbox account does not have (requested with hyphen and lower case)."""

FAST = {"requests_per_minute": 0, "chunk_size": 3, "backoff_base_s": 0.05}
"""Unpaced (the rate-limit case must reach the server's limit), two history chunks, retries after
50 ms instead of 1 s (a 429 still waits for its Retry-After: the rate-limit case checks it)."""

API_PATHS = ("/ultimas-posicoes", "/ultimasposicoesterminal", "/resumoviagens")


class ShortMinuteBudget(RateBudget):
    """The sandbox's per-user budget with its one-minute window shortened to ``window_s``.

    The sandbox answers over the budget with its real 429 + ``erro`` + ``Retry-After`` (the
    seconds until a slot frees); only the window is compressed, so the wait is ~1 s, not ~60 s.
    """

    def __init__(self, window_s: float) -> None:
        super().__init__(None)
        self.window_s = window_s

    def allow(self, client: str) -> tuple[bool, float]:
        if not self.per_minute:
            return True, 0.0
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(client, deque())
            while seen and now - seen[0] >= self.window_s:
                seen.popleft()
            if len(seen) >= self.per_minute:
                return False, max(0.0, self.window_s - (now - seen[0]))
            seen.append(now)
            return True, 0.0


@dataclass(frozen=True)
class Case:
    """One alternative behaviour; the run must succeed and match the ground truth."""

    switches: dict[str, Any] = field(default_factory=dict)
    world: dict[str, Any] = field(default_factory=dict)  # world fields over the conftest's small world
    unknown_plate: bool = False  # `plates` Param = every plate + one the account does not have
    faults: tuple[dict[str, Any], ...] = ()  # sandbox.core.Fault specs; each must be hit
    rate_window_s: float | None = None  # install ShortMinuteBudget
    statuses: frozenset[int] = frozenset({200})  # HTTP statuses the data paths must have answered
    raw_check: str | None = None  # SQL that must be true: the switch really reached the wire
    rerun: bool = False  # run the day again: nothing may change (synced_at included)


CASES: dict[str, Case] = {
    "defaults": Case(),
    # ---- error delivery and code_header, each exercised on an error answer (unknown plate)
    "errors_as_200": Case({"errors_as_200": True}, unknown_plate=True),
    "errors_as_200+empty_erro": Case(
        {"errors_as_200": True, "empty_results": "erro", "code_header": "always_200"}, world=NO_DATA_WORLD
    ),
    "code_header=mirror": Case({"code_header": "mirror"}, unknown_plate=True, statuses=frozenset({200, 400})),
    "code_header=always_200": Case(
        {"code_header": "always_200"}, unknown_plate=True, statuses=frozenset({200, 400})
    ),
    "code_header=text": Case({"code_header": "text"}, unknown_plate=True, statuses=frozenset({200, 400})),
    "code_header=omit": Case({"code_header": "omit"}, unknown_plate=True, statuses=frozenset({200, 400})),
    "code_header=omit+errors_as_200": Case(
        {"code_header": "omit", "errors_as_200": True}, unknown_plate=True
    ),
    # ---- record shapes and value formats
    "history_fields=strict_doc": Case({"history_fields": "strict_doc"}),
    "history_fields=no_placa": Case({"history_fields": "no_placa"}),
    "trips_key=conducoes": Case({"trips_key": "conducoes"}),
    "date_format=iso_space": Case(
        {"date_format": "iso_space"},
        raw_check=r"SELECT bool_and(raw->>'data_inicio_conducao' ~ '^\d{4}-\d\d-\d\d \d') FROM e_track.trips",
    ),
    "date_format=iso_t": Case(
        {"date_format": "iso_t"},
        raw_check=r"SELECT bool_and(raw->>'data_inicio_conducao' ~ '^\d{4}-\d\d-\d\dT\d') FROM e_track.trips",
    ),
    "numeric_format=formatted": Case(
        {"numeric_format": "formatted"},
        raw_check="SELECT bool_and(raw->>'bateria' LIKE '%,% V' AND raw->>'odometro' LIKE '% km') "
        "FROM e_track.terminals",
    ),
    "order=desc": Case({"order": "desc"}),
    "order=unordered": Case({"order": "unordered"}, rerun=True),
    # ---- "nothing here" answers
    "empty_results=erro/day_without_data": Case(
        {"empty_results": "erro"}, world=NO_DATA_WORLD, statuses=frozenset({200, 404})
    ),
    "empty_results=erro/plate_without_data": Case(
        {"empty_results": "erro", "unknown_plate": "empty"},
        unknown_plate=True,
        statuses=frozenset({200, 404}),
    ),
    "unknown_plate=erro": Case({"unknown_plate": "erro"}, unknown_plate=True, statuses=frozenset({200, 400})),
    "unknown_plate=empty": Case({"unknown_plate": "empty"}, unknown_plate=True),
    # ---- the history window switch (the client always asks for one whole day with `data`)
    "long_window=truncate": Case({"long_window": "truncate"}),
    "long_window=honour": Case({"long_window": "honour"}),
    # ---- transport
    "rate_limit": Case({"rate_limit_per_minute": 4}, rate_window_s=1.5, statuses=frozenset({200, 429})),
    "latency": Case({"latency_s": 0.05, "latency_jitter_s": 0.1}),
    "5xx_burst": Case(
        faults=(
            {"kind": "status", "status": 502, "times": 1, "path": "ultimas-posicoes"},
            {"kind": "status", "status": 503, "times": 2, "path": "ultimasposicoesterminal", "skip": 1},
            {"kind": "status", "status": 504, "times": 1, "path": "resumoviagens", "skip": 2},
        ),
        statuses=frozenset({200, 502, 503, 504}),
    ),
    "connection_reset": Case(
        statuses=frozenset({0, 200}),  # the sandbox logs a reset as status 0
        faults=(
            {"kind": "reset", "times": 1, "path": "ultimasposicoesterminal", "skip": 1},
            {"kind": "reset", "times": 1, "path": "resumoviagens", "skip": 3},
        ),
    ),
    "truncated_body": Case(
        faults=(
            {"kind": "truncate", "times": 1, "path": "ultimas-posicoes"},
            {"kind": "truncate", "times": 1, "path": "ultimasposicoesterminal", "skip": 2},
            {"kind": "truncate", "times": 1, "path": "resumoviagens", "skip": 4},
        ),
    ),
    # ---- the worst day: every alternative at once, plus a fault
    "everything_at_once": Case(
        {
            "errors_as_200": True,
            "code_header": "text",
            "history_fields": "no_placa",
            "trips_key": "conducoes",
            "date_format": "iso_t",
            "numeric_format": "formatted",
            "order": "unordered",
            "empty_results": "erro",
            "unknown_plate": "empty",
            "latency_s": 0.01,
        },
        unknown_plate=True,
        faults=({"kind": "status", "status": 503, "times": 1, "path": "resumoviagens", "skip": 1},),
        statuses=frozenset({200, 503}),
        rerun=True,
    ),
}


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The conftest's small e-Track world (clock pinned), with the case's world fields."""
    callspec = getattr(request.node, "callspec", None)
    case = callspec.params.get("case", Case()) if callspec else Case()
    with small_etrac_server(**case.world) as server:
        yield server


@pytest.fixture
def env(sandbox: Any, warehouse_url: Any, connect_airflow: Any) -> dict[str, str]:
    return connect_airflow(warehouse=warehouse_url, etrac=sandbox)


def run_day(sandbox: Any, warehouse_url: Any, conf: dict[str, Any]) -> None:
    """etrac_daily's tasks for DAY at the seam; raises if a task or a check fails."""
    run_etrac_day(sandbox.base_url, warehouse_url.url, DAY, conf)


def task_states(dag_run: Any) -> dict[str, str]:
    """State per task instance; mapped ones as ``history[0]``, ``history[1]``..."""
    return {
        ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]": str(ti.state)
        for ti in dag_run.get_task_instances()
    }


def data_statuses(server: Any) -> set[int]:
    return {entry.status for path in API_PATHS for entry in server.requests_to(path)}


def assert_positions_match_every_column(
    conn: psycopg.Connection, world: Any, day: date, *, history_has_serial: bool
) -> None:
    """Beyond count + checksum: every typed column of every fix equals the world's value."""
    start, end = day_bounds(day)
    columns = [
        "data_transmissao", "latitude", "longitude", "logradouro", "velocidade", "ignicao", "odometro",
        "odometro_can", "horimetro", "bateria",
    ]  # fmt: skip
    if history_has_serial:
        columns += ["equipamento_serial", "data_gravacao"]
    for plate in world.plates():
        rows = conn.execute(
            f"SELECT {', '.join(columns)}, extra FROM e_track.positions "
            "WHERE placa = %s AND data_transmissao >= %s AND data_transmissao < %s "
            "ORDER BY data_transmissao, latitude, longitude",
            (plate, start, end),
        ).fetchall()
        assert all(row[-1] == {} for row in rows), f"{plate}: unreadable or unknown fields in extra"
        got = [tuple(row[:-1]) for row in rows]
        expected = [
            tuple(float(p[c]) if c in ("velocidade", "odometro", "odometro_can", "horimetro") else p[c]
                  for c in columns)
            for p in world.positions(plate, day)
        ]  # fmt: skip
        expected.sort(key=lambda r: (r[0], r[1], r[2]))
        assert got == expected, f"positions of {plate} on {day} differ"


def assert_trips_match_every_column(conn: psycopg.Connection, world: Any, day: date) -> None:
    start, end = day_bounds(day)
    columns = [
        "placa", "data_inicio_conducao", "data_fim_conducao", "cliente", "cliente_fantasia", "descricao",
        "frota", "latitude_inicio_conducao", "longitude_inicio_conducao", "latitude_fim_conducao",
        "longitude_fim_conducao", "localizacao_inicio_conducao", "localizacao_fim_conducao",
        "odometro_inicio_conducao", "odometro_fim_conducao", "duracao_conducao", "distancia_conducao",
        "condutor_nome", "condutor_identificacao",
    ]  # fmt: skip
    got = conn.execute(
        f"SELECT {', '.join(columns)} FROM e_track.trips "
        "WHERE data_inicio_conducao >= %s AND data_inicio_conducao < %s ORDER BY placa, data_inicio_conducao",
        (start, end),
    ).fetchall()

    def typed(name: str, value: Any) -> Any:
        if name.startswith("odometro"):
            return float(value)
        if name.startswith("condutor") and value == "":
            return None  # "" is the API's "no driver identified"
        return value

    expected = sorted(
        tuple(typed(c, t[c]) for c in columns) for plate in world.plates() for t in world.trips(plate, day)
    )
    assert got == expected, f"trips of {day} differ"


def assert_terminals_match(conn: psycopg.Connection, world: Any) -> None:
    rows = conn.execute(
        "SELECT placa, descricao, frota, equipamento_serial, data_transmissao FROM e_track.terminals "
        "ORDER BY placa"
    ).fetchall()
    expected = sorted(
        (*world.terminal(p).values(), world.latest(p)["data_transmissao"]) for p in world.plates()
    )
    assert rows == expected


def assert_nothing_outside_the_day(conn: psycopg.Connection, world: Any, day: date) -> None:
    """Outside the day only the latest fix of each vehicle (from /ultimas-posicoes) may exist."""
    start, end = day_bounds(day)
    outside = conn.execute(
        "SELECT placa, data_transmissao FROM e_track.positions "
        "WHERE data_transmissao < %s OR data_transmissao >= %s ORDER BY placa",
        (start, end),
    ).fetchall()
    latest = sorted((p, world.latest(p)["data_transmissao"]) for p in world.plates())
    assert outside == [fix for fix in latest if not start <= fix[1] < end]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_the_dag_survives_every_alternative_behaviour(
    case: Case, sandbox: Any, warehouse_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = sandbox.world
    for name, value in case.switches.items():
        assert hasattr(sandbox.config, name), name
        setattr(sandbox.config, name, value)
    if case.rate_window_s is not None:
        monkeypatch.setattr(sandbox, "_budget", ShortMinuteBudget(case.rate_window_s))
    faults = [sandbox.faults.arm(**dict(spec)) for spec in case.faults]
    conf: dict[str, Any] = dict(FAST)
    if case.unknown_plate:
        conf["plates"] = [UNKNOWN_PLATE, *world.plates()]

    run_day(sandbox, warehouse_url, conf)  # every task and check passed, or it raised

    for spec, fault in zip(case.faults, faults, strict=True):
        assert fault.hits == spec["times"], f"fault {spec} was hit {fault.hits} times"
    assert data_statuses(sandbox) == set(case.statuses)

    with psycopg.connect(warehouse_url.url) as conn:
        assert_matches_ground_truth(conn, world, [DAY])
        assert_positions_match_every_column(
            conn, world, DAY, history_has_serial=case.switches.get("history_fields") != "strict_doc"
        )
        assert_trips_match_every_column(conn, world, DAY)
        assert_terminals_match(conn, world)
        assert_nothing_outside_the_day(conn, world, DAY)
        if case.unknown_plate:
            for table in ("terminals", "positions", "trips", "routes"):
                found = conn.execute(
                    f"SELECT count(*) FROM e_track.{table} WHERE placa = 'ZZZ9Z99'"
                ).fetchone()
                assert found == (0,), table
        assert conn.execute("SELECT count(*) FROM sync_meta.rejected_records").fetchone() == (0,)
        runs = conn.execute(
            "SELECT status, count(*), sum(retries), sum(waited_s) FROM sync_meta.sync_runs "
            "WHERE source = 'e_track' GROUP BY status"
        ).fetchall()
        assert [r[0] for r in runs] == ["success"], runs
        _, _, retries, waited = runs[0]
        # Every fault and every 429 cost exactly one retry, and nothing else did.
        limited = sum(1 for e in sandbox.log if e.status == 429)
        assert retries == sum(spec["times"] for spec in case.faults) + limited, (retries, limited)
        if case.rate_window_s is not None:
            # Each 429 was waited out for its Retry-After (>= 1 s), not a sub-second backoff.
            assert limited >= 1 and waited >= limited * 1.0, (limited, waited)
        if case.raw_check is not None:
            assert conn.execute(case.raw_check).fetchone() == (True,)
        if world.data_start > DAY:  # a day without data: it really had none, and every plate was asked
            assert sum(world.day_summary(p, DAY).positions for p in world.plates()) == 0
            assert conn.execute("SELECT count(*) FROM e_track.history_counts").fetchone() == (
                len(world.plates()),
            )
        first = table_hashes(conn)

    if case.rerun:
        for fault in faults:  # the same faults again: the second run rides them out too
            sandbox.faults.arm(**dict(vars(fault), hits=0, times=fault.hits))
        run_day(sandbox, warehouse_url, conf)
        with psycopg.connect(warehouse_url.url) as conn:
            assert table_hashes(conn) == first


@pytest.mark.parametrize(
    ("errors_as_200", "code_header", "whole_dag"),
    [(True, "mirror", True), (True, "always_200", False), (True, "omit", False), (False, "text", False)],
    ids=["200+code_401", "200+code_200", "200+no_code", "401+code_text"],
)
def test_a_wrong_api_key_fails_the_run_clearly(
    errors_as_200: bool,
    code_header: str,
    whole_dag: bool,
    request: pytest.FixtureRequest,
    sandbox: Any,
    warehouse_url: Any,
) -> None:
    """A rejected credential is final: one request, no retries, no data, the reason recorded,
    however the API delivers it (HTTP 401, or HTTP 200 + erro with any code_header or none).

    How Airflow fails the run (the task red, the downstream ones upstream_failed) is the same
    whatever the delivery, so one case runs the whole DAG with ``dag.test()``; the others run its
    tasks at the seam, where the first task raises and nothing after it runs."""
    email = next(iter(sandbox.config.credentials))
    sandbox.config.credentials = {email: "a-key-that-was-revoked"}
    sandbox.config.errors_as_200 = errors_as_200
    sandbox.config.code_header = code_header

    if whole_dag:
        request.getfixturevalue("env")  # the Airflow connections of this sandbox and warehouse
        dag_run = request.getfixturevalue("run_dag")("etrac_daily", DAY, conf=dict(FAST))
        states = task_states(dag_run)
        assert dag_run.state == "failed"
        assert states["latest"] == "failed", states
        assert all(states[t] == "upstream_failed" for t in ("plan", "routes", "publish")), states
    else:
        with pytest.raises(ApiError):
            run_day(sandbox, warehouse_url, dict(FAST))
    assert [e.status for e in sandbox.log] == [200 if errors_as_200 else 401]  # not retried
    with psycopg.connect(warehouse_url.url) as conn:
        for table in ("terminals", "positions", "trips", "routes"):
            assert conn.execute(f"SELECT count(*) FROM e_track.{table}").fetchone() == (0,)
        failed = conn.execute(
            "SELECT task_id, stream, status, error FROM sync_meta.sync_runs WHERE source = 'e_track'"
        ).fetchall()
    assert len(failed) == 1, failed
    task_id, stream, status, error = failed[0]
    assert (task_id, stream, status) == ("latest", "latest", "failed")
    assert "/ultimas-posicoes" in error and "inválidos" in error, error
    assert "credential" in error.lower(), error
    assert email not in error and "a-key-that-was-revoked" not in error
