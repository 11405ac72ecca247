"""Corrected e-Track data: the API revises a fix's coordinates or a trip's start between two runs.

The load functions are driven directly (no DAG run needed) against the sandbox and a real
PostgreSQL; the sandbox's ``correction_round`` switch revises the data and its world is the
ground truth the warehouse must equal after the re-run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.integration.test_etrac_daily import (
    apply_schema,
    assert_matches_ground_truth,
    day_bounds,
    table_hashes,
)
from tests.support.checks import render_check

REPO = Path(__file__).resolve().parents[2]
DAY = date(2025, 3, 11)
NEIGHBOUR = date(2025, 3, 10)
TODAY = date(2025, 3, 13)  # the sandbox clock's day (12:00)

pytestmark = pytest.mark.timeout(300)


# --------------------------------------------------------------------------- driving the loads


@dataclass
class Loader:
    """Runs etrac_daily's load functions against the sandbox, each with its own run id."""

    url: str
    sandbox: Any
    runs: int = 0

    def _run(self, stream: str, task_id: str, day: date | None) -> Any:
        from sync_apis.warehouse import RunInfo

        return RunInfo(source="e_track", stream=stream, day=day, run_id=f"run-{self.runs}",
                       dag_id="etrac_daily", task_id=task_id)  # fmt: skip

    def _hook(self) -> Any:
        from sync_apis.etrac.hook import EtracHook
        from sync_apis.http import HttpPolicy

        policy = HttpPolicy(max_attempts=2, backoff_base=0.01, backoff_max=0.05)
        return EtracHook(policy=policy, logger=logging.getLogger("tests.etrac"))

    def call(self, fn: Callable[..., str], *args: Any) -> str:
        hook = self._hook()
        try:
            with psycopg.connect(self.url) as conn:
                return fn(conn, hook, *args)
        finally:
            hook.close()

    def latest(self, day: date = TODAY) -> str:
        from sync_apis.etrac.sync import load_latest

        self.runs += 1
        return self.call(load_latest, self._run("latest", "latest", day))

    def history(self, day: date, plates: list[str] | None = None) -> str:
        from sync_apis.etrac.sync import load_history

        self.runs += 1
        positions, trips = self._run("positions", "history", day), self._run("trips", "history", day)
        return self.call(load_history, positions, trips, day, plates or self.sandbox.world.plates())

    def routes(self, day: date) -> str:
        from sync_apis.etrac.sync import load_routes

        self.runs += 1
        with psycopg.connect(self.url) as conn:
            return load_routes(conn, self._run("routes", "routes", day), day)

    def day(self, day: date) -> None:
        self.history(day)
        self.routes(day)

    def sync_runs(self) -> dict[str, tuple[Any, ...]]:
        """The last run's sync_runs rows by stream: (status, inserted, updated, deleted, error)."""
        with psycopg.connect(self.url) as conn:
            rows = conn.execute(
                "SELECT stream, status, rows_inserted, rows_updated, rows_deleted, error "
                "FROM sync_meta.sync_runs WHERE run_id = %s",
                (f"run-{self.runs}",),
            ).fetchall()
        return {r[0]: r[1:] for r in rows}


@pytest.fixture
def loader(etrac_sandbox: Any, warehouse_url: Any, connect_airflow: Any) -> Loader:
    connect_airflow(warehouse=warehouse_url, etrac=etrac_sandbox)
    apply_schema(warehouse_url.url)
    return Loader(warehouse_url.url, etrac_sandbox)


def correct(sandbox: Any, **body: Any) -> None:
    """The API revises its data (the sandbox's admin route, as an operator would call it)."""
    r = requests.post(f"{sandbox.base_url}/_sandbox/etrac/corrections", json=body, timeout=30)
    assert r.status_code == 200, r.text


def reconcile(url: str, day: date) -> tuple[bool, ...]:
    query = render_check("checks/e_track_reconcile_counts.sql", day)
    with psycopg.connect(url) as conn:
        return tuple(conn.execute(*query).fetchone())


def truth_keys(world: Any, day: date) -> set[tuple[Any, ...]]:
    return {
        (p["placa"], p["data_transmissao"], p["latitude"], p["longitude"])
        for plate in world.plates()
        for p in world.positions(plate, day)
    }


def truth_trips(world: Any, day: date) -> set[tuple[Any, ...]]:
    return {
        (t["placa"], t["data_inicio_conducao"]) for plate in world.plates() for t in world.trips(plate, day)
    }


def warehouse_keys(url: str, day: date) -> dict[tuple[Any, ...], str]:
    """(placa, time, lat, lon) -> origin of the positions of a local day."""
    start, end = day_bounds(day)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT placa, data_transmissao, latitude, longitude, origin FROM e_track.positions "
            "WHERE data_transmissao >= %s AND data_transmissao < %s",
            (start, end),
        ).fetchall()
    return {r[:4]: r[4] for r in rows}


# --------------------------------------------------------------------------- tests


def test_corrected_fixes_and_trips_leave_no_stale_twin(loader: Loader, etrac_sandbox: Any) -> None:
    world = etrac_sandbox.world
    loader.day(NEIGHBOUR)
    loader.day(DAY)
    assert_matches_ground_truth(psycopg.connect(loader.url), world, [NEIGHBOUR, DAY])
    first_positions, first_trips = truth_keys(world, DAY), truth_trips(world, DAY)
    neighbour_before = truth_keys(world, NEIGHBOUR)

    correct(etrac_sandbox, ratio=0.05)
    moved = first_positions - truth_keys(world, DAY)
    moved_trips = first_trips - truth_trips(world, DAY)
    assert moved and moved_trips, "the correction round changed nothing: the test would prove nothing"

    summary = loader.history(DAY)
    runs = loader.sync_runs()
    loader.routes(DAY)

    with psycopg.connect(loader.url) as conn:
        # Exactly the corrected day: no stale twin of a moved fix, the trips with their new starts.
        assert_matches_ground_truth(conn, world, [DAY])
        # The neighbouring day was not part of the answer: untouched, still as first sent.
        assert set(warehouse_keys(loader.url, NEIGHBOUR)) == neighbour_before
        assert len(conn.execute("SELECT 1 FROM e_track.trips").fetchall()) == len(
            truth_trips(world, NEIGHBOUR) | truth_trips(world, DAY)
        )
    assert runs["positions"][:4] == ("success", len(moved), 0, len(moved))
    assert runs["trips"][0] == "success" and runs["trips"][1] == runs["trips"][3] == len(moved_trips)
    assert f"positions deleted {len(moved):,}" in summary, summary
    assert reconcile(loader.url, DAY) == (True, True)


def test_a_failing_rerun_removes_nothing(loader: Loader, etrac_sandbox: Any) -> None:
    world = etrac_sandbox.world
    loader.day(DAY)
    with psycopg.connect(loader.url) as conn:
        before = table_hashes(conn)
    correct(etrac_sandbox, ratio=0.2)
    # The third plate's history is always cut short: two plates' corrected answers are complete
    # and staged, but the chunk fails, so nothing of it may be committed or removed.
    etrac_sandbox.faults.arm("truncate", path="ultimasposicoesterminal", skip=2, times=None)
    with pytest.raises(Exception):  # noqa: B017 - the hook's error for a cut-short answer
        loader.history(DAY)
    runs = loader.sync_runs()
    assert {s: r[0] for s, r in runs.items()} == {"positions": "failed", "trips": "failed"}
    with psycopg.connect(loader.url) as conn:
        assert table_hashes(conn) == before

    etrac_sandbox.faults.clear()
    loader.day(DAY)
    with psycopg.connect(loader.url) as conn:
        assert_matches_ground_truth(conn, world, [DAY])
    assert reconcile(loader.url, DAY) == (True, True)


def test_a_failed_chunk_leaves_a_failed_row_for_positions_and_trips(
    loader: Loader, etrac_sandbox: Any
) -> None:
    etrac_sandbox.faults.arm("status", status=503, path="resumoviagens", times=None)
    with pytest.raises(Exception, match="503"):
        loader.history(DAY)
    runs = loader.sync_runs()
    assert sorted(runs) == ["positions", "trips"]
    for stream in ("positions", "trips"):
        status, inserted, updated, deleted, error = runs[stream]
        assert (status, inserted, updated, deleted) == ("failed", 0, 0, 0)
        assert "resumoviagens" in error and "503" in error
    with psycopg.connect(loader.url) as conn:
        assert conn.execute("SELECT count(*) FROM e_track.positions").fetchone()[0] == 0


def test_latest_only_fixes_survive_and_history_confirmed_ones_do_not(
    loader: Loader, etrac_sandbox: Any
) -> None:
    world = etrac_sandbox.world
    # /ultimas-posicoes reports each vehicle's last fix today, as first sent ...
    loader.latest()
    latest_fixes = {
        (p, world.latest(p)["data_transmissao"], world.latest(p)["latitude"], world.latest(p)["longitude"])
        for p in world.plates()
    }
    original = truth_keys(world, TODAY)
    assert latest_fixes <= original
    # ... then every fix is corrected before the history is fetched: the latest-only fixes are
    # in no history answer, and stay.
    correct(etrac_sandbox, ratio=1)
    corrected = truth_keys(world, TODAY)
    assert not latest_fixes & corrected
    loader.day(TODAY)
    assert warehouse_keys(loader.url, TODAY) == {
        **dict.fromkeys(corrected, "history"),
        **dict.fromkeys(latest_fixes, "latest"),
    }
    assert reconcile(loader.url, TODAY) == (True, True)

    # The API reverts: the history now contains the latest-only fixes (they become history
    # fixes) and no longer the corrected ones, which history had vouched for: they go.
    correct(etrac_sandbox, round=0)
    loader.history(TODAY)
    runs = loader.sync_runs()
    assert warehouse_keys(loader.url, TODAY) == dict.fromkeys(original, "history")
    assert runs["positions"][:4] == (
        "success",
        len(original - latest_fixes),
        len(latest_fixes),
        len(corrected),
    )
    # A later /ultimas-posicoes seeing those fixes again does not make them latest-only again.
    loader.latest()
    assert set(warehouse_keys(loader.url, TODAY).values()) == {"history"}
    loader.routes(TODAY)
    with psycopg.connect(loader.url) as conn:
        assert_matches_ground_truth(conn, world, [TODAY])


def test_an_answer_without_fixes_removes_nothing(loader: Loader, etrac_sandbox: Any) -> None:
    """Days past the API's retention answer empty: that is no evidence the fixes were wrong."""
    loader.day(DAY)
    with psycopg.connect(loader.url) as conn:
        before = table_hashes(conn, with_synced_at=False)
    etrac_sandbox.config.retention_days = 1  # DAY (the 11th) is now older than what the API keeps
    loader.history(DAY)
    runs = loader.sync_runs()
    assert runs["positions"][:4] == runs["trips"][:4] == ("success", 0, 0, 0)
    with psycopg.connect(loader.url) as conn:
        after = table_hashes(conn, with_synced_at=False)
    assert {t: after[t] for t in ("positions", "trips")} == {t: before[t] for t in ("positions", "trips")}


def test_an_existing_warehouse_gains_the_new_columns(warehouse_url: Any) -> None:
    """Warehouses created before origin/reported_day existed get them when the schema is applied."""
    apply_schema(warehouse_url.url)
    with psycopg.connect(warehouse_url.url, autocommit=True) as conn:
        conn.execute("ALTER TABLE e_track.positions DROP COLUMN origin")
        conn.execute("ALTER TABLE e_track.trips DROP COLUMN reported_day")
        conn.execute("INSERT INTO e_track.positions (placa, data_transmissao, latitude, longitude) "
                     "VALUES ('ABC1D23', '2025-03-11 10:00-03', -19.9, -43.9)")  # fmt: skip
        conn.execute(
            "INSERT INTO e_track.trips (placa, data_inicio_conducao) "
            "VALUES ('ABC1D23', '2025-03-11 09:00-03')"
        )
    apply_schema(warehouse_url.url)
    apply_schema(warehouse_url.url)  # and again: idempotent
    with psycopg.connect(warehouse_url.url) as conn:
        assert conn.execute("SELECT placa, origin FROM e_track.positions").fetchall() == [
            ("ABC1D23", "history")
        ]
        assert conn.execute("SELECT placa, reported_day FROM e_track.trips").fetchall() == [("ABC1D23", None)]
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE e_track.positions SET origin = 'guess'")


def test_etrac_daily_rerun_after_corrections_passes_its_checks(
    run_dag: Any, etrac_sandbox: Any, warehouse_url: Any, connect_airflow: Any
) -> None:
    """The whole DAG, as an operator re-runs a day the API has since corrected."""
    connect_airflow(warehouse=warehouse_url, etrac=etrac_sandbox)
    conf = {"requests_per_minute": 0, "chunk_size": 2}
    assert run_dag("etrac_daily", DAY, conf=conf).state == "success"
    first = truth_keys(etrac_sandbox.world, DAY)
    correct(etrac_sandbox, ratio=0.05)
    moved = first - truth_keys(etrac_sandbox.world, DAY)
    dag_run = run_dag("etrac_daily", DAY, conf=conf)
    assert dag_run.state == "success"  # the reconcile check task included
    with psycopg.connect(warehouse_url.url) as conn:
        assert_matches_ground_truth(conn, etrac_sandbox.world, [DAY])
        deleted = conn.execute(
            "SELECT sum(rows_deleted) FROM sync_meta.sync_runs WHERE run_id = %s AND stream = 'positions'",
            (dag_run.run_id,),
        ).fetchone()[0]
    assert deleted == len(moved) > 0
