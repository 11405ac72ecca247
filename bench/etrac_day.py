"""The e-Track day end to end (issue 11, points 1 and 3), against its baselines in the same run.

A dense sandbox day (1,000 vehicles, a fix every 10-15 s driving: ~1.47 M positions) is synced
by the real task code of ``etrac_daily`` into PostgreSQL, in a fresh process (bench/etrac_workers.py),
and compared with, on the same day, the same sandbox and the same server:

(a) the source ceiling: the same requests with plain ``requests`` + ``json.loads``, nothing stored;
(b) the COPY ceiling: the rows we stored, exported, then a plain ``COPY`` into a table with the
    same indexes (and, for scale, COPY into a temp table + one merge, as the loader does);
(c) the old collector's way: one ``INSERT`` and one commit per row, on a sample, extrapolated;
(d) a generic peer: dlt 1.x, default settings, merge on the same key, same endpoints
    (its own venv, see bench/peer_venv.py).

Then the DAG's default pacing on a sample of chunks, and the peak RSS of one history task for
100 vs 1,000 vehicles, dense vs normal day. ``quick`` shrinks every size to run in seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests
from psycopg.types.json import Jsonb

from bench import peer_venv
from bench.etrac_sandbox import API_KEY, DAY, LOGIN, Sandbox, etrac_sandbox
from bench.report import figure, limit, machine_load, ratio, scale
from bench.server import bench_server
from sync_apis.etrac.chunking import DEFAULT_CHUNK_SIZE
from sync_apis.sql_files import sql_files
from sync_apis.warehouse import run_schema_files
from tests.support.pg import PgUrl, create_database, drop_database

REPO = Path(__file__).resolve().parents[1]
# The DAG's default before it became unpaced; what [sync_apis] etrac_requests_per_minute = 120 costs.
PACED_REQUESTS_PER_MINUTE = 120.0
TARGET_OF_SOURCE, TARGET_OVER_OLD, TARGET_OVER_DLT, RSS_LIMIT_MB = 0.5, 30.0, 5.0, 300.0


@dataclass(frozen=True)
class Sizes:
    vehicles: int  # the dense day's fleet
    old_way_sample: int  # rows inserted one by one
    paced_chunks: int  # chunks run paced
    rss_fleets: tuple[int, int]  # "100 vs 1,000 vehicles"
    chunk_size: int


FULL = Sizes(
    vehicles=1000, old_way_sample=3000, paced_chunks=2, rss_fleets=(100, 1000), chunk_size=DEFAULT_CHUNK_SIZE
)
QUICK = Sizes(vehicles=4, old_way_sample=100, paced_chunks=1, rss_fleets=(2, 6), chunk_size=2)


def worker(kind: str, sandbox: Sandbox, **args: Any) -> dict[str, Any]:
    """One workload in a fresh interpreter (bench/etrac_workers.py); its JSON result."""
    with tempfile.TemporaryDirectory(prefix="bench-airflow-") as airflow_home:
        env = {**os.environ, "AIRFLOW_CONN_ETRAC_API": sandbox.conn_json(), "AIRFLOW_HOME": airflow_home}
        command = [sys.executable, "-m", "bench.etrac_workers", kind, json.dumps(args)]
        return json_result(command, cwd=REPO, env=env, what=f"worker {kind}")


def json_result(
    command: list[str], *, cwd: Path | str, env: dict[str, str] | None, what: str
) -> dict[str, Any]:
    """Run one measuring process; its last line on stdout is its JSON result."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def fresh_warehouse(server: PgUrl) -> PgUrl:
    db = create_database(server, "sync_apis_bench_etrac")
    with psycopg.connect(db.url, autocommit=True) as conn:
        run_schema_files(conn, sql_files("sync_meta") + sql_files("e_track"))
    return db


def copy_ceiling(db: PgUrl, export: Path) -> tuple[float, float, int]:
    """Seconds of a plain COPY of the stored positions into a same-indexed table, and of COPY into
    a temp table + one INSERT .. ON CONFLICT into another same-indexed table; row count."""
    with psycopg.connect(db.url, autocommit=True) as conn:
        with export.open("wb") as out, conn.cursor().copy("COPY e_track.positions TO STDOUT") as copy:
            for block in copy:
                out.write(block)
        conn.execute("CREATE TABLE public.copy_ceiling (LIKE e_track.positions INCLUDING ALL)")
        conn.execute("CREATE TABLE public.copy_merge (LIKE e_track.positions INCLUDING ALL)")
        conn.execute("CHECKPOINT")

        def load(target: str) -> None:
            with conn.cursor().copy(f"COPY {target} FROM STDIN") as copy, export.open("rb") as data:
                while block := data.read(1 << 20):
                    copy.write(block)

        started = time.perf_counter()
        with conn.transaction():
            load("public.copy_ceiling")
        plain = time.perf_counter() - started
        started = time.perf_counter()
        with conn.transaction():
            conn.execute("CREATE TEMP TABLE stage (LIKE e_track.positions) ON COMMIT DROP")
            load("stage")
            conn.execute("INSERT INTO public.copy_merge SELECT * FROM stage ON CONFLICT DO NOTHING")
        merged = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM public.copy_ceiling").fetchone()
    return plain, merged, int(rows[0]) if rows else 0


def old_way(db: PgUrl, sample: int) -> float:
    """Seconds per row of the old collector: INSERT one row, commit, next (same indexes)."""
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.old_way (LIKE e_track.positions INCLUDING ALL)")
        rows = conn.execute(
            "SELECT * FROM e_track.positions ORDER BY random() LIMIT %s", (sample,)
        ).fetchall()
        columns = len(rows[0]) if rows else 1
        insert = f"INSERT INTO public.old_way VALUES ({', '.join(['%s'] * columns)}) ON CONFLICT DO NOTHING"
    with psycopg.connect(db.url) as conn:
        started = time.perf_counter()
        for row in rows:
            conn.execute(insert, [Jsonb(v) if isinstance(v, dict | list) else v for v in row])
            conn.commit()
        return (time.perf_counter() - started) / max(1, len(rows))


def dlt_peer(sandbox: Sandbox, server: PgUrl) -> dict[str, Any] | None:
    python = peer_venv.python()
    if python is None:
        return None
    db = create_database(server, "sync_apis_bench_dlt")
    try:
        args = {
            "base_url": sandbox.base_url,
            "login": LOGIN,
            "password": API_KEY,
            "day": DAY.isoformat(),
            "db_url": db.url,
        }
        command = [str(python), str(REPO / "bench" / "peer_dlt.py"), json.dumps(args)]
        return json_result(command, cwd=tempfile.gettempdir(), env=None, what="the dlt peer")
    finally:
        drop_database(server, db)


def fleet_plates(sandbox: Sandbox, count: int) -> list[str]:
    answer = requests.post(f"{sandbox.base_url}/ultimas-posicoes", auth=(LOGIN, API_KEY), timeout=60).json()
    return sorted(item["placa"] for item in answer["retorno"])[:count]


def history_task_rss(server: PgUrl, sizes: Sizes, dense_sandbox: Sandbox) -> list[tuple[str, dict[str, Any]]]:
    """Peak RSS of one history task (one chunk, fresh process) per fleet size and day density."""
    results = []
    for vehicles in sizes.rss_fleets:
        for dense in (False, True):
            label = f"{vehicles:,} vehicles, {'dense' if dense else 'normal'} day"
            db = fresh_warehouse(server)
            try:
                if dense and vehicles == dense_sandbox.vehicles:
                    sandbox_result = _one_chunk(dense_sandbox, db, sizes)
                else:
                    with etrac_sandbox(vehicles, dense=dense) as sandbox:
                        sandbox_result = _one_chunk(sandbox, db, sizes)
            finally:
                drop_database(server, db)
            results.append((label, sandbox_result))
    return results


def _one_chunk(sandbox: Sandbox, db: PgUrl, sizes: Sizes) -> dict[str, Any]:
    return run_ours(sandbox, db, sizes, plates=fleet_plates(sandbox, sizes.chunk_size))


def run_ours(
    sandbox: Sandbox,
    db: PgUrl,
    sizes: Sizes,
    *,
    requests_per_minute: float | None = None,
    max_chunks: int | None = None,
    plates: list[str] | None = None,
) -> dict[str, Any]:
    """The real task code in a fresh process (bench/etrac_workers.py ``ours``)."""
    return worker(
        "ours",
        sandbox,
        db_url=db.url,
        day=DAY.isoformat(),
        chunk_size=sizes.chunk_size,
        requests_per_minute=requests_per_minute,
        max_chunks=max_chunks,
        plates=plates,
    )


def main(quick: bool = False) -> None:
    sizes = QUICK if quick else FULL
    server = bench_server()
    print(
        f"etrac_day{' (quick)' if quick else ''}: dense sandbox day {DAY}, {sizes.vehicles:,} vehicles; "
        f"{machine_load()}",
        flush=True,
    )
    with etrac_sandbox(sizes.vehicles) as sandbox, tempfile.TemporaryDirectory(prefix="bench-etrac-") as tmp:
        source = worker(
            "source", sandbox, base_url=sandbox.base_url, login=LOGIN, password=API_KEY, day=DAY.isoformat()
        )
        n = source["positions"]
        print(
            f"  the day: {n:,} positions, {source['trips']:,} trips, {source['requests']:,} requests",
            flush=True,
        )
        db = fresh_warehouse(server)
        try:
            ours = run_ours(sandbox, db, sizes)
            if ours["positions"] != n:
                raise RuntimeError(f"ours received {ours['positions']} positions, the source sent {n}")
            copy_s, merge_s, stored = copy_ceiling(db, Path(tmp) / "positions.copy")
            old_s_per_row = old_way(db, sizes.old_way_sample)
        finally:
            drop_database(server, db)
        db = fresh_warehouse(server)
        try:
            paced = run_ours(
                sandbox,
                db,
                sizes,
                requests_per_minute=PACED_REQUESTS_PER_MINUTE,
                max_chunks=sizes.paced_chunks,
            )
        finally:
            drop_database(server, db)
        peer = dlt_peer(sandbox, server)

        ours_rate = n / ours["seconds"]
        source_rate = n / source["seconds"]
        old_rate = 1 / old_s_per_row
        print(f"  {'figure':<58} {'per second':>12}")
        figure(
            "ours: real task code, unpaced, one history task at a time",
            ours_rate,
            "positions/s",
            f"({ours['seconds']:.1f} s; history tasks {ours['history_s']:.1f} s)",
        )
        figure(
            f"ours, paced ({PACED_REQUESTS_PER_MINUTE:g}/min/task, {sizes.paced_chunks} chunk(s))",
            paced["positions"] / paced["seconds"],
            "positions/s",
            f"({paced['positions']:,} positions in {paced['seconds']:.1f} s)",
        )
        requests_per_day = source["requests"]
        paced_floor_s = requests_per_day / PACED_REQUESTS_PER_MINUTE * 60
        print(
            f"    pacing alone holds the whole day to >= {paced_floor_s:,.0f} s "
            f"({requests_per_day:,} requests at {PACED_REQUESTS_PER_MINUTE:g}/min)"
        )
        figure(
            "(a) source ceiling: requests + json.loads, no database",
            source_rate,
            "positions/s",
            f"({source['seconds']:.1f} s)",
        )
        figure(
            "(b) COPY ceiling: plain COPY, same indexes",
            stored / copy_s,
            "rows/s",
            f"({stored:,} rows in {copy_s:.1f} s)",
        )
        figure(
            "    COPY into a temp table + one merge, as we load",
            stored / merge_s,
            "rows/s",
            f"({merge_s:.1f} s)",
        )
        figure(
            f"(c) old way: INSERT + commit per row ({sizes.old_way_sample:,} sampled)",
            old_rate,
            "positions/s",
            f"(the day extrapolated: {n * old_s_per_row:,.0f} s)",
        )
        if peer is None:
            print(f"  (d) dlt: SKIPPED, {peer_venv.absent_reason()}", flush=True)
        else:
            dlt_rate = n / peer["seconds"]
            figure(
                f"(d) dlt {peer['version']}, default settings, merge on the key",
                dlt_rate,
                "positions/s",
                f"({peer['seconds']:.1f} s; {peer['positions_stored']:,} rows stored)",
            )
        print(f"  {'ratio':<58} {'value':>12}")
        ratio("ours / source ceiling", ours_rate / source_rate, TARGET_OF_SOURCE)
        ratio("ours / old way", ours_rate / old_rate, TARGET_OVER_OLD)
        if peer is not None:
            ratio("ours / dlt", ours_rate / dlt_rate, TARGET_OVER_DLT)
        scale("ours / COPY ceiling (for scale, no target)", ours_rate / (stored / copy_s))

        print(f"  peak RSS of one history task ({sizes.chunk_size} plates, fresh process):", flush=True)
        rss = history_task_rss(server, sizes, sandbox)
        for label, result in rss:
            limit(f"  {label} ({result['positions']:,} positions)", result["peak_rss_mb"], "MB", RSS_LIMIT_MB)
        peaks = [result["peak_rss_mb"] for _, result in rss]
        print(
            f"    after imports alone: {rss[0][1]['rss_after_imports_mb']:.0f} MB; "
            f"largest / smallest peak: {max(peaks) / min(peaks):.2f}",
            flush=True,
        )
        limit("  whole day in one process (all chunks, for scale)", ours["peak_rss_mb"], "MB", RSS_LIMIT_MB)
