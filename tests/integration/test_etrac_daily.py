"""etrac_daily end to end against the e-Track sandbox and a real PostgreSQL: the DAG's tasks at the
library seam (tests/support/seams.py); real Airflow for the whole DAG on a day (dag.test) and
for the operator's command (``airflow dags test``).

The sandbox clock is pinned at 2025-03-13 12:00 local (SANDBOX_NOW, tests/support/sandboxes.py),
so 2025-03-10..12 are complete days; its world is the ground truth the warehouse is compared with.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support.checks import render_check
from tests.support.etrac_world import (
    DAY,
    apply_schema,
    assert_matches_ground_truth,
    day_bounds,
    table_hashes,
)
from tests.support.seams import run_etrac_day

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(300)


# --------------------------------------------------------------------------- helpers (shared)


# --------------------------------------------------------------------------- tests


def test_dag_test_loads_exactly_the_local_day(
    run_dag: Any, etrac_env: Any, etrac_sandbox: Any, warehouse_url: Any
) -> None:
    dag_run = run_dag("etrac_daily", DAY, conf={"chunk_size": 2, "requests_per_minute": 0})
    assert dag_run.state == "success"
    world = etrac_sandbox.world
    with psycopg.connect(warehouse_url.url) as conn:
        assert_matches_ground_truth(conn, world, [DAY])

        # Nothing of the neighbouring days came from the history: outside DAY there are only the
        # latest fixes /ultimas-posicoes showed (one per vehicle).
        start, end = day_bounds(DAY)
        outside = conn.execute(
            "SELECT placa, data_transmissao FROM e_track.positions "
            "WHERE data_transmissao < %s OR data_transmissao >= %s ORDER BY placa",
            (start, end),
        ).fetchall()
        assert outside == sorted((p, world.latest(p)["data_transmissao"]) for p in world.plates())
        assert conn.execute("SELECT count(*) FROM e_track.terminals").fetchone()[0] == len(world.plates())
        terminal = conn.execute(
            "SELECT placa, descricao, frota, equipamento_serial FROM e_track.terminals ORDER BY placa LIMIT 1"
        ).fetchone()
        assert dict(zip(("placa", "descricao", "frota", "equipamento_serial"), terminal, strict=True)) == (
            world.terminal(terminal[0])
        )

        # sync_runs: one success row per task/stream/chunk for the day, with what it did.
        runs = conn.execute(
            "SELECT task_id, map_index, stream, status, requests, pages, rows_received, rows_inserted, "
            "rows_rejected FROM sync_meta.sync_runs WHERE source = 'e_track' AND day = %s ORDER BY 1, 2, 3",
            (DAY,),
        ).fetchall()
        n_chunks = (len(world.plates()) + 1) // 2
        assert [(r[0], r[2]) for r in runs] == (
            [("history", "positions"), ("history", "trips")] * n_chunks
            + [("latest", "latest"), ("routes", "routes")]
        )
        assert all(r[3] == "success" for r in runs)
        history_requests = sum(r[4] for r in runs if r[2] == "positions")
        assert history_requests == len(world.plates())
        received = sum(r[6] for r in runs if r[2] == "positions")
        truth_total = sum(world.day_summary(p, DAY).positions for p in world.plates())
        assert received >= truth_total  # the API also sends some fixes twice
        assert sum(r[7] for r in runs if r[2] == "positions") == truth_total

        counts = conn.execute(
            "SELECT placa, positions_distinct FROM e_track.history_counts WHERE dia = %s ORDER BY placa",
            (DAY,),
        ).fetchall()
        assert counts == sorted((p, world.day_summary(p, DAY).positions) for p in world.plates())
        watermark = conn.execute(
            "SELECT value FROM sync_meta.watermarks WHERE source = 'e_track' AND stream = 'history'"
        ).fetchone()[0]
        assert watermark == day_bounds(DAY)[1]


def test_running_a_day_twice_changes_nothing(etrac_env: Any, etrac_sandbox: Any, warehouse_url: Any) -> None:
    conf = {"chunk_size": 3, "requests_per_minute": 0}
    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, DAY, conf)
    with psycopg.connect(warehouse_url.url) as conn:
        first = table_hashes(conn)
    # A different run id, the same day: every row, synced_at included, must be untouched.

    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, DAY, {**conf, "chunk_size": 2})
    with psycopg.connect(warehouse_url.url) as conn:
        assert table_hashes(conn) == first
        second_runs = conn.execute(
            "SELECT sum(rows_inserted), sum(rows_updated) FROM sync_meta.sync_runs "
            "WHERE source = 'e_track' AND run_id = (SELECT run_id FROM sync_meta.sync_runs "
            "ORDER BY finished_at DESC LIMIT 1)"
        ).fetchone()
        assert second_runs == (0, 0)
        assert conn.execute("SELECT count(*) FROM sync_meta.rejected_records").fetchone()[0] == 0


def test_trips_do_not_duplicate_and_formats_do_not_matter(
    etrac_env: Any, etrac_sandbox: Any, warehouse_url: Any
) -> None:
    """The old collector duplicated trips on every re-run; here a re-run in another output
    format (ISO dates, units in numbers, history without placa, descending) is a no-op."""
    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, DAY, {"requests_per_minute": 0})
    with psycopg.connect(warehouse_url.url) as conn:
        before = table_hashes(conn, with_synced_at=False)
    cfg = etrac_sandbox.config
    cfg.date_format, cfg.numeric_format, cfg.history_fields, cfg.order = (
        "iso_t",
        "formatted",
        "no_placa",
        "desc",
    )
    cfg.trips_key = "conducoes"
    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, DAY, {"requests_per_minute": 0})
    with psycopg.connect(warehouse_url.url) as conn:
        after = table_hashes(conn, with_synced_at=False)
        # raw/extra keep what the API sent, so only those columns may differ; the typed data may not.
        assert after["positions"][0] == before["positions"][0]
        assert after["trips"][0] == before["trips"][0]
        assert after["routes"] == before["routes"]
        assert_matches_ground_truth(conn, etrac_sandbox.world, [DAY])


def test_plates_param_limits_the_load(etrac_env: Any, etrac_sandbox: Any, warehouse_url: Any) -> None:
    plate = etrac_sandbox.world.plates()[1]
    hyphenated = f"{plate[:3].lower()}-{plate[3:]}"
    run_etrac_day(
        etrac_sandbox.base_url, warehouse_url.url, DAY, {"plates": [hyphenated], "requests_per_minute": 0}
    )
    with psycopg.connect(warehouse_url.url) as conn:
        plates = conn.execute("SELECT DISTINCT placa FROM e_track.history_counts").fetchall()
        assert plates == [(plate,)]
        trips = conn.execute("SELECT DISTINCT placa FROM e_track.trips").fetchall()
        assert set(trips) <= {(plate,)}
    history = etrac_sandbox.requests_to("/ultimasposicoesterminal")
    assert len(history) == 1


def test_checks_catch_a_warehouse_that_disagrees_with_the_api(
    etrac_env: Any, etrac_sandbox: Any, warehouse_url: Any
) -> None:
    from sync_apis.etrac.checks import CHECK_FILES

    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, DAY, {"requests_per_minute": 0})
    rendered = {Path(p).stem: render_check(p, DAY) for p in CHECK_FILES.values()}

    def results(conn: psycopg.Connection) -> dict[str, tuple[Any, ...]]:
        return {name: conn.execute(*q).fetchone() for name, q in rendered.items()}

    with psycopg.connect(warehouse_url.url, autocommit=True) as conn:
        assert all(all(row) for row in results(conn).values())
        start, end = day_bounds(DAY)
        plate = etrac_sandbox.world.plates()[0]
        deleted = conn.execute(
            "DELETE FROM e_track.positions WHERE ctid = (SELECT ctid FROM e_track.positions "
            "WHERE placa = %s AND data_transmissao >= %s AND data_transmissao < %s LIMIT 1)",
            (plate, start, end),
        ).rowcount
        assert deleted == 1
        conn.execute(
            "INSERT INTO e_track.positions (placa, data_transmissao, latitude, longitude) "
            "VALUES ('ZZZ0Z00', %s, 0, 0), ('ZZZ0Z00', now() + interval '2 hours', -23.5, -46.6)",
            (start + timedelta(hours=1),),
        )
        after = results(conn)
    assert after["e_track_reconcile_counts"][0] is False
    assert after["e_track_coordinates"] == (False,)
    assert after["e_track_no_future_fixes"][0] is False


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import date
    sys.path[:0] = [{repo!r}, {plugins!r}]
    import psycopg
    from sync_apis.etrac.hook import EtracHook
    from sync_apis.etrac.sync import load_history
    from sync_apis.warehouse import RunInfo
    day = date.fromisoformat({day!r})
    run = dict(source="e_track", day=day, run_id="killed-run", dag_id="etrac_daily", task_id="history")
    with psycopg.connect({url!r}) as conn:
        hook = EtracHook()
        print("loading", flush=True)
        load_history(conn, hook, RunInfo(stream="positions", **run), RunInfo(stream="trips", **run), day,
                     {plates!r})
    print("finished", flush=True)
    """
)


def test_killed_mid_load_leaves_nothing_and_a_rerun_converges(
    etrac_env: dict[str, str], etrac_sandbox: Any, warehouse_url: Any
) -> None:
    world = etrac_sandbox.world
    apply_schema(warehouse_url.url)
    # The third plate's history hangs: by then two plates are parsed and COPYed into staging.
    hang = etrac_sandbox.faults.arm("slow", delay=60, path="ultimasposicoesterminal", skip=2, times=1)
    script = KILL_SCRIPT.format(
        repo=str(REPO),
        plugins=str(REPO / "plugins"),
        day=DAY.isoformat(),
        url=warehouse_url.url,
        plates=world.plates(),
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, **etrac_env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while hang.hits < 1:  # the third history request is in the server, hanging
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "the load never reached the third plate"
            time.sleep(0.05)
        time.sleep(0.3)
        assert len(etrac_sandbox.requests_to("/resumoviagens")) >= 2  # two plates fully fetched
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    with psycopg.connect(warehouse_url.url) as conn:
        # The killed transaction never committed: none of the two plates' COPYed rows are visible.
        assert conn.execute("SELECT count(*) FROM e_track.positions").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM e_track.trips").fetchone()[0] == 0
        assert (
            conn.execute("SELECT count(*) FROM sync_meta.sync_runs WHERE status = 'success'").fetchone()[0]
            == 0
        )

    etrac_sandbox.faults.clear()
    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, DAY, {"requests_per_minute": 0})
    with psycopg.connect(warehouse_url.url) as conn:
        assert_matches_ground_truth(conn, world, [DAY])
        converged = table_hashes(conn, with_synced_at=False)
    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, DAY, {"requests_per_minute": 0})
    with psycopg.connect(warehouse_url.url) as conn:
        assert table_hashes(conn, with_synced_at=False) == converged


def test_rejected_records_are_kept_with_a_reason(
    etrac_env: Any, etrac_sandbox: Any, warehouse_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """received = loaded + rejected: a record without coordinates goes to rejected_records."""
    import sandbox.etrac.server as server_module

    original = server_module.position_record
    victim = etrac_sandbox.world.plates()[0]
    first_fix = next(etrac_sandbox.world.positions(victim, DAY))["data_transmissao"]

    def broken(v: Any, fix: Any, config: Any, tz: Any, *, history: bool) -> dict[str, Any]:
        record = original(v, fix, config, tz, history=history)
        if history and v.placa == victim and fix.t == int(first_fix.timestamp()):
            record["latitude"] = ""
            record["sensor_temperatura"] = "4,5 °C"
        elif history:
            record["sensor_temperatura"] = "4,5 °C"
        return record

    monkeypatch.setattr(server_module, "position_record", broken)
    # The bad record is rejected, not loaded: the reconcile check (loaded == distinct valid) passes.
    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, DAY, {"requests_per_minute": 0})
    with psycopg.connect(warehouse_url.url) as conn:
        reason, raw = conn.execute(
            "SELECT reason, raw FROM sync_meta.rejected_records WHERE source = 'e_track'"
        ).fetchone()
        assert reason.startswith("missing latitude") and victim in reason
        assert raw["longitude"] and raw["latitude"] == ""
        received, rejected, distinct = conn.execute(
            "SELECT positions_received, positions_rejected, positions_distinct FROM e_track.history_counts "
            "WHERE placa = %s AND dia = %s",
            (victim, DAY),
        ).fetchone()
        assert rejected == 1
        assert distinct == etrac_sandbox.world.day_summary(victim, DAY).positions - 1
        assert received >= distinct + rejected
        extras = conn.execute("SELECT DISTINCT extra FROM e_track.positions WHERE extra <> '{}'").fetchall()
        assert extras == [({"sensor_temperatura": "4,5 °C"},)]
        sync_rejected = conn.execute(
            "SELECT sum(rows_rejected) FROM sync_meta.sync_runs WHERE stream = 'positions'"
        ).fetchone()[0]
        assert sync_rejected == 1


def test_progress_lines_and_summary_a_person_can_follow(
    etrac_env: Any, etrac_sandbox: Any, warehouse_url: Any
) -> None:
    import logging

    from sync_apis.etrac.hook import EtracHook
    from sync_apis.etrac.sync import load_history
    from sync_apis.http import HttpPolicy
    from sync_apis.warehouse import RunInfo

    apply_schema(warehouse_url.url)
    etrac_sandbox.faults.arm("status", status=503, times=1, path="resumoviagens")
    plates = etrac_sandbox.world.plates()
    run = {
        "source": "e_track",
        "day": DAY,
        "run_id": "progress",
        "dag_id": "etrac_daily",
        "task_id": "history",
    }
    hook = EtracHook(policy=HttpPolicy(backoff_base=0.01), logger=logging.getLogger("tests.etrac"))
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    task_log = logging.getLogger("sync_apis.etrac.sync")  # what the task log shows
    task_log.addHandler(handler)
    previous_level = task_log.level
    task_log.setLevel(logging.INFO)
    try:
        with psycopg.connect(warehouse_url.url) as conn:
            positions_run, trips_run = RunInfo(stream="positions", **run), RunInfo(stream="trips", **run)
            summary = load_history(conn, hook, positions_run, trips_run, DAY, plates)
    finally:
        task_log.removeHandler(handler)
        task_log.setLevel(previous_level)
    lines = [r.getMessage() for r in records]
    progress = [line for line in lines if line.startswith(f"e_track history {DAY}: ")]
    assert progress, lines
    last = progress[-1]
    assert f"{len(plates)}/{len(plates)} plates" in last and "rows/s" in last and "retries 1" in last
    assert summary == lines[-1]
    assert summary.startswith(f"e_track history {DAY} done: {len(plates)} plates")
    assert "positions inserted" in summary and "trips inserted" in summary and "retries 1" in summary


def test_airflow_dags_test_cli_loads_exactly_the_local_day(
    airflow_db: Any, etrac_env: dict[str, str], etrac_sandbox: Any, warehouse_url: Any
) -> None:
    """The operator's command, as typed: ``airflow dags test etrac_daily 2025-03-10``."""
    airflow = REPO / ".venv" / "bin" / "airflow"
    result = subprocess.run(
        [str(airflow) if airflow.exists() else "airflow", "dags", "test", "etrac_daily", DAY.isoformat()],
        env={**os.environ, **etrac_env, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")])},
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    with psycopg.connect(warehouse_url.url) as conn:
        days = conn.execute(
            "SELECT DISTINCT day FROM sync_meta.sync_runs WHERE source = 'e_track'"
        ).fetchall()
        assert days == [(DAY,)]
        assert_matches_ground_truth(conn, etrac_sandbox.world, [DAY])


def test_a_day_holding_the_latest_fixes_is_idempotent_in_strict_doc_mode(
    etrac_env: Any, etrac_sandbox: Any, warehouse_url: Any
) -> None:
    """Today (clock 2025-03-13 12:00) holds each vehicle's latest fix, seen by /ultimas-posicoes
    with data_gravacao/equipamento_serial and by the strict-doc history without them: the two
    must not overwrite each other back and forth."""
    today = date(2025, 3, 13)
    etrac_sandbox.config.history_fields = "strict_doc"
    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, today, {"requests_per_minute": 0})
    with psycopg.connect(warehouse_url.url) as conn:
        first = table_hashes(conn)
        assert_matches_ground_truth(conn, etrac_sandbox.world, [today])
    run_etrac_day(etrac_sandbox.base_url, warehouse_url.url, today, {"requests_per_minute": 0})
    with psycopg.connect(warehouse_url.url) as conn:
        assert table_hashes(conn) == first
