"""A 30-day Auvo backfill against the sandbox at its 400 requests/minute (issue 11, point 5).

``auvo_daily`` backfilled for the 30 days before the sandbox's (pinned) now, 4 runs at a time, at
most 4 stream tasks at once, through the tasks' own code (bench/auvo_workers.py), against the Auvo
sandbox in its own process enforcing 400 requests/minute (403 above it, auvo-api.md §6.1), its
request log the referee. Three backfills of the same world, each into an empty warehouse:

- **after, shared budget**: ``[sync_apis] auvo_updated_until_bound`` on (the sandbox honours
  ``endDateLastUpdate``), snapshots once per backfill (the default), the shared Redis budget
  (``rate_limit_redis_url`` on a private ``redis-server``, as docker-compose runs), the default
  budget (400/min, 90 % handed out);
- **after, per-process pacer**: the same without Redis: each task process paces itself at
  400 × 0.9 / 4 per minute (a LocalExecutor deployment);
- **before** (the baseline, counting only, unpaced and unlimited): no upper bound, every snapshot
  listed by every day — what the code did before; its requests per day and per stream are what
  the after runs are compared with (pacing changes when requests are sent, not how many).

Printed: requests, records synced, requests per record against the lower bound (records / 100:
every record in a full page), the share of the budget used (requests ÷ (wall × 400/min)),
rate-limit answers received (403/429 in the sandbox log), wall time against its lower bound
(requests ÷ budget), requests per backfilled day by the day's age with and without the upper
bound (a least-squares line, and a one-year backfill projected from it), and the snapshot
requests with and without once-per-backfill. ``quick``: 3 days, a small world, a high budget.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg

from bench.auvo_sandbox import RATE_LIMITED, AuvoSandbox, auvo_sandbox, private_redis
from bench.auvo_workers import MAX_ACTIVE_RUNS, Backfill, run_backfill, workers
from bench.report import machine_load, ratio, scale
from bench.server import bench_server
from sync_apis.auvo.streams import STREAM_PARALLELISM, STREAMS, Mode
from sync_apis.auvo.sync import API_BUDGET_PER_MINUTE, BUDGET_SAFETY
from sync_apis.sql_files import sql_files
from sync_apis.warehouse import run_schema_files
from tests.support.pg import PgUrl, create_database, drop_database

NOW = "2025-03-13T12:00:00"  # São Paulo local time: the sandbox clock, pinned
TODAY = date(2025, 3, 13)
TARGET_SHARE, TARGET_WALL_RATIO = 0.85, 1.15
ONE_YEAR = 365
SNAPSHOTS = [s.name for s in STREAMS if s.mode is Mode.SNAPSHOT]
UNLIMITED = 1_000_000.0  # requests/minute: the counting run is not paced


@dataclass(frozen=True)
class Sizes:
    days: int
    budget_per_minute: int  # the sandbox's limit and the runs' budget
    world: tuple[str, ...]  # AuvoConfig fields, KEY=VALUE
    task_range: dict[str, int]  # Params: the taskDate range of updated/deleted tasks


FULL = Sizes(
    days=30,
    budget_per_minute=400,
    # A mid-sized account: 100 tasks a day (the sandbox's default is 20), 60 days of history
    # before now, the reference data at the sandbox's defaults.
    world=("seed=11", "history_days=60", "tasks_per_day=100", "expenses_per_day=10"),
    task_range={"task_days_back": 400, "task_days_ahead": 400, "task_window_days": 14},  # the defaults
)
QUICK = Sizes(
    days=3,
    budget_per_minute=6000,
    world=("seed=11", "history_days=10"),
    task_range={"task_days_back": 30, "task_days_ahead": 30, "task_window_days": 14},
)


@dataclass
class Outcome:
    """One backfill: what the sandbox saw and what the warehouse holds."""

    label: str
    wall_s: float
    requests: int  # answered by the sandbox, logins included
    rate_limited: int  # 403/429 answers among them
    records: int  # rows in the auvo tables
    per_stream_day: dict[tuple[str, date], int]  # sync_runs.requests
    listings: dict[str, int]  # per snapshot stream: its task runs that sent requests

    def listed(self) -> str:
        counts = sorted(self.listings.values())
        return f"{sum(counts)} listings of the {len(SNAPSHOTS)} streams, {counts[0]}-{counts[-1]} each"

    def per_day(self, streams: list[str] | None = None) -> dict[date, int]:
        out: dict[date, int] = defaultdict(int)
        for (stream, day), n in self.per_stream_day.items():
            if streams is None or stream in streams:
                out[day] += n
        return dict(out)

    def snapshot_requests(self) -> int:
        return sum(n for (stream, _), n in self.per_stream_day.items() if stream in SNAPSHOTS)


def backfill_days(sizes: Sizes) -> list[date]:
    """The days before TODAY, oldest first; ``BENCH_AUVO_DAYS`` overrides how many (a shorter try)."""
    count = int(os.environ.get("BENCH_AUVO_DAYS") or sizes.days)
    return [TODAY - timedelta(days=age) for age in range(count, 0, -1)]


@contextmanager
def warehouse(server: PgUrl) -> Iterator[PgUrl]:
    db = create_database(server, "sync_apis_bench_auvo")
    try:
        with psycopg.connect(db.url, autocommit=True) as conn:
            run_schema_files(conn, sql_files("sync_meta") + sql_files("auvo"))  # the schema tasks
        yield db
    finally:
        drop_database(server, db)


def backfill(
    label: str,
    pool: ProcessPoolExecutor,
    sandbox: AuvoSandbox,
    server: PgUrl,
    sizes: Sizes,
    *,
    bound: bool,
    reuse: bool,
    redis_url: str | None,
    paced: bool,
) -> Outcome:
    """One backfill of ``sizes.days`` days into an empty warehouse; the sandbox's log as referee."""
    budget = sizes.budget_per_minute if paced else None
    sandbox.configure(rate_limit_per_minute=budget, date_last_update_until="honour" if bound else "ignore")
    seen_before = len(sandbox.log())
    with warehouse(server) as db, tempfile.TemporaryDirectory(prefix="bench-auvo-tokens-") as tokens:
        env = {
            "AIRFLOW_CONN_AUVO_API": sandbox.conn_json(),
            "AIRFLOW__SYNC_APIS__AUVO_UPDATED_UNTIL_BOUND": str(bound),
            # 0 = off: every day lists every snapshot, as before.
            "AIRFLOW__SYNC_APIS__AUVO_BACKFILL_SNAPSHOT_REUSE_MINUTES": "60" if reuse else "0",
            "AIRFLOW__SYNC_APIS__RATE_LIMIT_REDIS_URL": redis_url or "",
            "AIRFLOW__SYNC_APIS__AUVO_BUDGET_PER_MINUTE": str(budget or UNLIMITED),
            # The worker token cache as deployed (on), in a directory of this backfill's own.
            "AIRFLOW__SYNC_APIS__AUVO_TOKEN_CACHE": "True",
            "AIRFLOW__SYNC_APIS__AUVO_TOKEN_CACHE_DIR": tokens,
        }
        params = {**sizes.task_range, "api_budget_per_minute": budget or UNLIMITED}
        wall_s = run_backfill(
            pool,
            Backfill(db.url, params, env),
            backfill_days(sizes),
            [s.name for s in STREAMS],
            parallelism=STREAM_PARALLELISM,
        )
        log = sandbox.log()[seen_before:]
        with psycopg.connect(db.url) as conn:
            records = sum(
                int(conn.execute(f"SELECT count(*) FROM auvo.{s.table}").fetchone()[0])  # type: ignore[index]
                for s in STREAMS
            )
            rows = conn.execute("SELECT stream, day, requests, status FROM sync_meta.sync_runs").fetchall()
    failed = [r for r in rows if r[3] == "failed"]
    if failed:
        raise RuntimeError(f"{label}: failed runs {failed[:3]}")
    return Outcome(
        label=label,
        wall_s=wall_s,
        requests=len(log),
        rate_limited=sum(1 for e in log if e["status"] in RATE_LIMITED),
        records=records,
        per_stream_day={(stream, day): int(n) for stream, day, n, _ in rows},
        listings={name: sum(1 for s, _, n, _ in rows if s == name and n > 0) for name in SNAPSHOTS},
    )


def line_fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares ``y = a + b x``: (a, b)."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    return my - b * mx, b


def value(label: str, number: float, unit: str, note: str = "", digits: int = 0) -> None:
    print(f"  {label:<58} {number:>12,.{digits}f} {unit}{'  ' + note if note else ''}", flush=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def paced_figures(run: Outcome, budget: float) -> None:
    """The budget figures of one paced backfill."""
    per_record = run.requests / max(1, run.records)
    floor = run.records / 100
    floor_s = run.requests / budget * 60
    share = run.requests / (run.wall_s / 60 * budget)
    value(f"requests total ({run.label})", run.requests, "requests", "(sandbox log, logins included)")
    value(f"records synced ({run.label})", run.records, "records", "(rows in the 16 auvo tables)")
    value(
        f"requests per record ({run.label})",
        per_record,
        "requests/record",
        f"(lower bound records / 100 = {floor:,.0f} requests, 0.01 per record)",
        digits=3,
    )
    scale(f"requests / lower bound ({run.label})", run.requests / max(1.0, floor))
    print(
        f"  {'budget share used (' + run.label + ')':<58} {share * 100:>11.1f} %  "
        f"target >= {TARGET_SHARE * 100:g} %  {verdict(share >= TARGET_SHARE)}",
        flush=True,
    )
    print(
        f"  {'rate-limit errors, 403/429 (' + run.label + ')':<58} {run.rate_limited:>12,} answers  "
        f"target = 0  {verdict(run.rate_limited == 0)}",
        flush=True,
    )
    ratio(f"wall time / lower bound ({run.label})", run.wall_s / floor_s, TARGET_WALL_RATIO, below=True)
    at = f"{run.requests:,} requests at {budget:g}/min"
    print(f"    wall {run.wall_s:,.0f} s; lower bound {floor_s:,.0f} s = {at}", flush=True)


def age_table(days: list[date], after: Outcome, before: Outcome) -> tuple[float, tuple[float, float]]:
    """Requests per backfilled day by its age, with and without the upper bound: the tasks
    stream's mean day with the bound (flat: nothing later than the day is fetched) and the
    least-squares line without it (growing)."""
    with_bound, without = after.per_day(["tasks"]), before.per_day(["tasks"])
    run_after, run_before = after.per_day(), before.per_day()
    print("  requests per backfilled day by the day's age (tasks stream: with / without the upper bound;")
    print("  whole run: after / before):")
    print(f"    {'age':>4}  {'day':<10}  {'with bound':>10}  {'without':>8}  |  {'after':>6}  {'before':>6}")
    for day in sorted(days, key=lambda d: (TODAY - d).days):
        print(
            f"    {(TODAY - day).days:>4}  {day.isoformat():<10}  {with_bound.get(day, 0):>10,}  "
            f"{without.get(day, 0):>8,}  |  {run_after.get(day, 0):>6,}  {run_before.get(day, 0):>6,}"
        )
    fit_with = line_fit([((TODAY - d).days, with_bound.get(d, 0)) for d in days])
    fit_without = line_fit([((TODAY - d).days, without.get(d, 0)) for d in days])
    value("tasks stream, growth per day of age, with the upper bound", fit_with[1], "requests/day", digits=2)
    value("tasks stream, growth per day of age, without it", fit_without[1], "requests/day", digits=2)
    return sum(with_bound.get(d, 0) for d in days) / len(days), fit_without


def one_year(with_bound: float, fit_without: tuple[float, float], after: Outcome, before: Outcome) -> None:
    """A one-year backfill projected from the measured days: the tasks stream at its mean day
    with the upper bound, on the fitted line without it (linear in the age while the age stays
    within the taskDate range's 400 days back, for an account as busy as this world); the other
    streams at their measured cost per day."""
    days = len(after.per_day(["tasks"]))
    other_per_day = sum(after.per_day(["customers", "expenses"]).values()) / days
    snapshots_per_listing = before.snapshot_requests() / days  # every day listed them all
    budget_per_minute = API_BUDGET_PER_MINUTE * BUDGET_SAFETY  # what the pacers hand out
    a, b = fit_without
    tasks_without = sum(a + b * age for age in range(1, ONE_YEAR + 1))

    def once_per_hour(requests: float) -> float:
        # Reuse lasts 60 min: a backfill lists the snapshots again once an hour of its wall time.
        return snapshots_per_listing * max(1, math.ceil(requests / budget_per_minute / 60))

    rows = []
    for label, tasks, reuse in (
        ("before: no upper bound, snapshots every day", tasks_without, False),
        ("default now: no upper bound, snapshots reused", tasks_without, True),
        ("with the upper bound honoured, snapshots reused", with_bound * ONE_YEAR, True),
    ):
        base = tasks + other_per_day * ONE_YEAR
        total = base + (once_per_hour(base) if reuse else snapshots_per_listing * ONE_YEAR)
        rows.append((label, total))
    print(f"  one-year backfill ({ONE_YEAR} days), projected:")
    for label, total in rows:
        hours = total / budget_per_minute / 60
        value(f"  {label}", total, "requests", f"({hours:.1f} h at {budget_per_minute:g}/min)")
    scale("  before / with the upper bound and reuse", rows[0][1] / rows[2][1])


def main(quick: bool = False) -> None:
    sizes = QUICK if quick else FULL
    server = bench_server()
    days = backfill_days(sizes)
    budget = float(sizes.budget_per_minute)
    r = sizes.task_range
    print(
        f"auvo_backfill{' (quick)' if quick else ''}: {len(days)} days ({days[0]}..{days[-1]}) of "
        f"auvo_daily, {len(STREAMS)} streams, {MAX_ACTIVE_RUNS} runs at a time, {STREAM_PARALLELISM} "
        f"stream tasks at once, sandbox at {sizes.budget_per_minute}/min (403 above); world "
        f"{' '.join(sizes.world)}; taskDate range {r['task_days_back']}/{r['task_days_ahead']} days in "
        f"{r['task_window_days']}-day windows; {machine_load()}",
        flush=True,
    )
    with (
        auvo_sandbox(NOW, *sizes.world) as sandbox,
        private_redis() as redis_url,
        tempfile.TemporaryDirectory(prefix="bench-airflow-") as home,
        workers(STREAM_PARALLELISM, home) as pool,
    ):
        runs = []
        if redis_url is None:
            print("  (no redis-server on this machine: the shared budget is not measured)", flush=True)
        for label, url in (("after, shared budget", redis_url), ("after, per-process pacer", None)):
            if label.endswith("budget") and url is None:
                continue
            runs.append(
                backfill(
                    label, pool, sandbox, server, sizes, bound=True, reuse=True, redis_url=url, paced=True
                )
            )
        before = backfill(
            "before", pool, sandbox, server, sizes, bound=False, reuse=False, redis_url=None, paced=False
        )
        print(f"  -- paced backfills at the default budget ({budget:g}/min); {machine_load()}", flush=True)
        for run in runs:
            paced_figures(run, budget)
        after = runs[0]
        print(f"  -- requests against the baseline (before: unpaced, counted); {machine_load()}", flush=True)
        value("requests total (before)", before.requests, "requests", f"(after: {after.requests:,})")
        scale("requests, before / after", before.requests / after.requests)
        for run in runs:  # the same world, the same days: the same rows, whatever the settings
            if run.records != before.records:
                print(f"  WARNING: records differ: {run.label} {run.records:,}, before {before.records:,}")
        with_bound, fit_without = age_table(days, after, before)
        value(
            "snapshot requests, before (every day lists all 13)",
            before.snapshot_requests(),
            "requests",
            f"({before.listed()})",
        )
        value(
            "snapshot requests, once per backfill",
            after.snapshot_requests(),
            "requests",
            f"({after.listed()})",
        )
        scale(
            "snapshot requests, before / after",
            before.snapshot_requests() / max(1, after.snapshot_requests()),
        )
        one_year(with_bound, fit_without, after, before)
