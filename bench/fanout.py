"""The e-Track day fanned out under a real scheduler (issue 11, point 2; point 3 under the scheduler).

``etrac_daily`` runs for the dense sandbox day through a real Airflow 3 stack (bench/airflow_stack.py:
api-server, scheduler and dag-processor as processes, LocalExecutor, private AIRFLOW_HOME and
metadata database), the sandbox answering every data request after a fixed delay (200 ms: an API
across the internet). The run is created with ``airflow backfill create`` for the one day, so the
scheduler alone decides which mapped history tasks run when. Per configuration (chunk size, history
parallelism), a fresh stack and an empty warehouse:

- wall time of the DAG run and of its history phase (first history task start → last end), from the
  metadata database's dag_run / task_instance dates;
- speed-up against parallelism 1 with the same chunk size (the baseline, measured in the same run);
- where each mapped task's time goes: inside ``load_history`` (sync_meta.sync_runs started_at →
  finished_at: requests, parsing, loading), the rest of the task process (start-up, imports,
  connections, commit), and the slots left idle between tasks (scheduling gaps);
- peak RSS of each history task process (VmHWM of ``airflow worker -- <ti id>``, sampled);
- a check that the run loaded the day asked for: positions of the day in the warehouse equal the
  sandbox's ground truth.

History parallelism is the DAG's own knob, ``[sync_apis] etrac_api_parallelism`` (the history
task's ``max_active_tis_per_dag``), with the pool ``[sync_apis] etrac_pool`` at the same size; the
executor's parallelism and ``max_active_tasks_per_dag`` are set above it so they never are the limit.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import requests

from bench.airflow_stack import BenchStack, migrated_template
from bench.etrac_sandbox import DAY, Sandbox, etrac_sandbox
from bench.report import figure, limit, machine_load, ratio, scale
from bench.server import bench_server
from sync_apis.localday import day_bounds
from tests.support.pg import PgUrl, create_database, drop_database

DAG_ID = "etrac_daily"
POOL = "etrac_api"
TARGET_SPEEDUP_AT_4, RSS_LIMIT_MB = 3.5, 300.0


@dataclass(frozen=True)
class Sizes:
    vehicles: int
    latency_s: float
    runs: tuple[tuple[int, int], ...]  # (chunk size, history parallelism), baselines (parallelism 1) first
    run_timeout_s: float


FULL = Sizes(
    vehicles=1000,
    latency_s=0.2,
    runs=((10, 1), (10, 4), (10, 8), (50, 1), (50, 4), (50, 8)),
    run_timeout_s=3600,
)
QUICK = Sizes(vehicles=20, latency_s=0.05, runs=((5, 1), (5, 2)), run_timeout_s=300)


def sizes_from_env(sizes: Sizes) -> Sizes:
    """``BENCH_FANOUT_VEHICLES`` / ``BENCH_FANOUT_RUNS`` ("10x1,10x4,10x8": chunk x parallelism) override.

    The full day (1,000 vehicles, six runs) takes longer than a shared machine often has; a smaller
    fleet keeps the same shape (200 ms per request, dense day) and says what was run in its header.
    """
    vehicles = int(os.environ.get("BENCH_FANOUT_VEHICLES") or sizes.vehicles)
    spec = os.environ.get("BENCH_FANOUT_RUNS")
    runs = sizes.runs
    if spec:
        pairs = [item.strip().split("x") for item in spec.split(",") if item.strip()]
        runs = tuple((int(chunk), int(par)) for chunk, par in pairs)
    for chunk, par in runs:
        if par != 1 and (chunk, 1) not in runs[: runs.index((chunk, par))]:
            raise ValueError(f"run {chunk}x{par} needs its baseline {chunk}x1 before it")
    return Sizes(vehicles=vehicles, latency_s=sizes.latency_s, runs=runs, run_timeout_s=sizes.run_timeout_s)


@dataclass
class RunResult:
    chunk_size: int
    parallelism: int
    state: str
    run_s: float
    history_s: float
    chunks: int
    task_s: list[float]  # per history task instance: start → end
    work_s: list[float]  # per history task: inside load_history (sync_runs)
    queued_s: list[float]  # per history task: queued → start
    max_running: int
    positions_in_day: int
    retried_or_failed: list[tuple[Any, ...]]
    rss_mb: list[float] = field(default_factory=list)

    @property
    def busy_share(self) -> float:
        """Share of the history phase's task slots spent inside load_history."""
        slots = min(self.parallelism, self.chunks) * self.history_s
        return sum(self.work_s) / slots if slots else 0.0


def ground_truth_positions(sandbox: Sandbox) -> int:
    """The day's positions over the whole fleet, as the sandbox's world says (admin routes, no latency)."""
    admin = sandbox.base_url.rsplit("/monitoramento", 1)[0] + "/_sandbox/etrac"
    with requests.Session() as session:
        plates = session.get(f"{admin}/plates", timeout=60).json()["plates"]
        return sum(
            int(
                session.get(
                    f"{admin}/truth", params={"placa": p, "data": DAY.isoformat()}, timeout=60
                ).json()["positions"]
            )
            for p in plates
        )


class TaskRssSampler:
    """Peak RSS (VmHWM) of every task process, by task instance id, sampled from /proc.

    An Airflow 3 task process names itself ``airflow worker -- <ti id>``; VmHWM only grows, so the
    last sample before the process exits is its peak up to the sampling interval.
    """

    TITLE = re.compile(rb"^airflow worker -- ([0-9a-f-]{36})")

    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s = interval_s
        self.peak_kb: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    found = self.TITLE.match((proc / "cmdline").read_bytes())
                    if not found:
                        continue
                    status = (proc / "status").read_text()
                except OSError:
                    continue
                hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
                if hwm:
                    ti_id = found.group(1).decode()
                    self.peak_kb[ti_id] = max(self.peak_kb.get(ti_id, 0), int(hwm.group(1)))
            self._stop.wait(self.interval_s)

    @contextmanager
    def running(self) -> Iterator[TaskRssSampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def seconds(start: datetime | None, end: datetime | None) -> float:
    return (end - start).total_seconds() if start and end else 0.0


def max_overlap(spans: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    best = current = 0
    for _, delta in events:
        current += delta
        best = max(best, current)
    return best


def run_once(
    server: PgUrl, template: PgUrl, sandbox: Sandbox, sizes: Sizes, chunk: int, par: int
) -> RunResult:
    """One DAG run of the day through a fresh stack and an empty warehouse."""
    warehouse = create_database(server, "sync_apis_bench_fanout_wh")
    env = {
        "AIRFLOW_CONN_ETRAC_API": sandbox.conn_json(),
        "AIRFLOW_CONN_SYNC_APIS_DB": warehouse.airflow_conn_json(),
        "AIRFLOW__SYNC_APIS__ETRAC_API_PARALLELISM": str(par),
        "AIRFLOW__SYNC_APIS__ETRAC_POOL": POOL,
        # The sandbox's clock is pinned to the day after DAY; the real clock is later than any
        # retention. The sandbox keeps its own 90 days, relative to its clock.
        "AIRFLOW__SYNC_APIS__ETRAC_RETENTION_DAYS": "0",
    }
    try:
        # +2: latest/routes/checks never wait for a worker, and the DAG's knob is the only limit.
        with BenchStack(server, template, parallelism=par + 2, extra_env=env) as stack:
            pool = {"name": POOL, "slots": par, "description": "e-Track API calls (bench)"}
            stack.api("POST", "/pools", pool, expect=201)
            stack.unpause(DAG_ID)
            with TaskRssSampler().running() as rss:
                # A backfill of the one day (as `airflow backfill create --from-date D --to-date D`).
                midnight = f"{DAY.isoformat()}T00:00:00Z"
                stack.api(
                    "POST",
                    "/backfills",
                    {
                        "dag_id": DAG_ID,
                        "from_date": midnight,
                        "to_date": midnight,
                        "dag_run_conf": {"chunk_size": chunk},
                    },
                )
                run_id, state = stack.wait_for_run(DAG_ID, sizes.run_timeout_s)
            run_dates = stack.query("SELECT start_date, end_date FROM dag_run WHERE run_id = %s", (run_id,))
            tis = stack.query(
                "SELECT id::text, map_index, queued_dttm, start_date, end_date FROM task_instance "
                "WHERE dag_id = %s AND run_id = %s AND task_id = 'history' ORDER BY map_index",
                (DAG_ID, run_id),
            )
            retried_or_failed = stack.query(
                "SELECT task_id, map_index, state, try_number FROM task_instance "
                "WHERE dag_id = %s AND (state IS DISTINCT FROM 'success' OR try_number > 1)",
                (DAG_ID,),
            )
        start, end = day_bounds(DAY)
        with psycopg.connect(warehouse.url) as conn:
            in_day = conn.execute(
                "SELECT count(*) FROM e_track.positions "
                "WHERE data_transmissao >= %s AND data_transmissao < %s",
                (start, end),
            ).fetchone()
            work: dict[int, float] = dict(
                conn.execute(
                    "SELECT map_index, extract(epoch FROM max(finished_at) - min(started_at))::float8 "
                    "FROM sync_meta.sync_runs WHERE task_id = 'history' AND status = 'success' GROUP BY 1"
                ).fetchall()
            )
    finally:
        drop_database(server, warehouse)
    spans = [(ti[3], ti[4]) for ti in tis if ti[3] and ti[4]]
    return RunResult(
        chunk_size=chunk,
        parallelism=par,
        state=state,
        run_s=seconds(*run_dates[0]),
        history_s=seconds(min(s for s, _ in spans), max(e for _, e in spans)) if spans else 0.0,
        chunks=len(tis),
        task_s=[seconds(s, e) for s, e in spans],
        work_s=[float(work.get(ti[1], 0.0)) for ti in tis],
        queued_s=[seconds(ti[2], ti[3]) for ti in tis if ti[2] and ti[3]],
        max_running=max_overlap(spans),
        positions_in_day=int(in_day[0]) if in_day else 0,
        retried_or_failed=retried_or_failed,
        rss_mb=[rss.peak_kb[ti[0]] / 1024 for ti in tis if ti[0] in rss.peak_kb],
    )


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def report(result: RunResult, baseline: RunResult | None) -> None:
    r = result
    label = f"chunk {r.chunk_size}, parallelism {r.parallelism}"
    print(f"  -- {label}: {r.chunks} history tasks, at most {r.max_running} running at once", flush=True)
    figure(f"  DAG run wall time ({label})", r.run_s, "s")
    figure(f"  history phase wall time ({label})", r.history_s, "s")
    if baseline is not None and baseline is not r:
        name = f"  speed-up vs parallelism 1, history phase ({label})"
        if r.parallelism == 4:
            ratio(name, baseline.history_s / r.history_s, TARGET_SPEEDUP_AT_4)
        else:
            scale(name, baseline.history_s / r.history_s)
        scale(f"  speed-up vs parallelism 1, DAG run ({label})", baseline.run_s / r.run_s)
    in_task = [t - w for t, w in zip(r.task_s, r.work_s, strict=True)]
    idle_per_task = (min(r.parallelism, r.chunks) * r.history_s - sum(r.task_s)) / max(1, r.chunks)
    print(
        f"    per history task (mean): {mean(r.task_s):.2f} s in the task process, of which "
        f"{mean(r.work_s):.2f} s in load_history and {mean(in_task):.2f} s around it; "
        f"{idle_per_task:.2f} s of idle slot between tasks; queued -> running {mean(r.queued_s):.2f} s",
        flush=True,
    )
    scale(f"  share of history slots inside load_history ({label})", r.busy_share)
    if r.rss_mb:
        limit(f"  peak RSS, largest history task ({label})", max(r.rss_mb), "MB", RSS_LIMIT_MB)
        print(
            f"    peak RSS over the {len(r.rss_mb)} history tasks: {min(r.rss_mb):.0f}-{max(r.rss_mb):.0f} MB"
        )


def main(quick: bool = False) -> None:
    sizes = sizes_from_env(QUICK if quick else FULL)
    server = bench_server()
    runs = ", ".join(f"{chunk}x{par}" for chunk, par in sizes.runs)
    print(
        f"fanout{' (quick)' if quick else ''}: etrac_daily under a real scheduler (LocalExecutor), "
        f"dense sandbox day {DAY}, {sizes.vehicles:,} vehicles, {sizes.latency_s * 1000:.0f} ms per data "
        f"answer; runs (chunk x parallelism) {runs}; {machine_load()}",
        flush=True,
    )
    latency = ("--etrac-latency-s", str(sizes.latency_s))
    with etrac_sandbox(sizes.vehicles, dense=True, extra=latency) as sandbox:
        truth = ground_truth_positions(sandbox)
        print(f"  the day: {truth:,} positions (sandbox ground truth)", flush=True)
        started = time.monotonic()
        template = migrated_template(server)
        print(f"  metadata database migrated once in {time.monotonic() - started:.0f} s", flush=True)
        try:
            baselines: dict[int, RunResult] = {}
            for chunk, par in sizes.runs:
                result = run_once(server, template, sandbox, sizes, chunk, par)
                if result.state != "success" or result.retried_or_failed:
                    raise RuntimeError(
                        f"the run (chunk {chunk}, parallelism {par}) was not clean: "
                        f"{result.state}, {result.retried_or_failed}"
                    )
                if result.positions_in_day != truth:
                    raise RuntimeError(
                        f"the run loaded {result.positions_in_day:,} positions of {DAY}, "
                        f"the sandbox has {truth:,}"
                    )
                if par == 1:
                    baselines[chunk] = result
                report(result, baselines.get(chunk))
                print(
                    f"    loaded the day asked for: {result.positions_in_day:,} positions = ground truth; "
                    f"{machine_load()}",
                    flush=True,
                )
        finally:
            drop_database(server, template)
