"""An Auvo backfill's stream tasks in worker processes, dispatched as Airflow's scheduler would.

``airflow backfill create --dag-id auvo_daily ... --max-active-runs 4`` creates one run per day;
each maps one ``sync_stream`` task per stream (in the DAG's order), and at most
``STREAM_PARALLELISM`` (4) of them run at once across all runs (``max_active_tis_per_dag``). Here
the same: at most ``max_active_runs`` days in flight, at most ``parallelism`` tasks at once, the
earliest day's next task first. A scheduler's own overhead is left out (``bench fanout`` measures
it for e-Track); what is measured is what the API budget allows.

Each task runs in a worker process (one task at a time per process, as an executor slot) through
the task's own code: the run's Window (``auvo.dag_tasks.run_window``, run type ``backfill``), the
hook as ``sync_stream_task`` builds it (``sync.make_hook``: the shared Redis budget when
``[sync_apis] rate_limit_redis_url`` is set, else the per-process pacer at the budget / 4), and
``sync.sync_stream`` in its own transaction. The Airflow-specific reads (the connection id's
Variable, the run's day from the context) are replaced by their values.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from tests.support.connections import environment

MAX_ACTIVE_RUNS = 4
WARM_UP_S = 1.0


@dataclass(frozen=True)
class Backfill:
    """What every task of one benchmarked backfill shares."""

    dsn: str
    params: Mapping[str, Any]  # the runs' conf (budget, taskDate range, ...)
    env: Mapping[str, str]  # AIRFLOW_CONN_AUVO_API and the [sync_apis] options of this backfill
    run_type: str = "backfill"


def run_task(backfill: Backfill, day: date, stream: str, map_index: int) -> None:
    """One mapped ``sync_stream`` task, in a worker process."""
    # Read when the task reads them (connection, [sync_apis] options), so one pool of workers
    # serves backfills of different settings; a worker runs one task at a time.
    os.environ.update(backfill.env)
    import psycopg

    from sync_apis.auvo.dag_tasks import run_window
    from sync_apis.auvo.hook import DEFAULT_POLICY
    from sync_apis.auvo.sync import API_BUDGET_PER_MINUTE, SOURCE, make_hook, sync_stream
    from sync_apis.dag_tasks import http_policy
    from sync_apis.empty_days import configured_thresholds
    from sync_apis.warehouse import RunInfo

    p = backfill.params
    logger = logging.getLogger("bench.auvo_backfill")
    logger.setLevel(logging.WARNING)  # retries and rate-limit waits, not every page
    hook = make_hook(
        "auvo_api",
        budget_per_minute=float(p.get("api_budget_per_minute", API_BUDGET_PER_MINUTE)),
        policy=http_policy({"params": p}, DEFAULT_POLICY),
        logger=logger,
    )
    run_id = f"{backfill.run_type}__{day.isoformat()}"
    run = RunInfo(SOURCE, stream, day, run_id, "auvo_daily", "sync_stream", map_index)
    window = run_window(day, p, backfill.run_type)
    try:
        with psycopg.connect(backfill.dsn) as conn:
            sync_stream(conn, hook, stream, window, run, logger, configured_thresholds())
    finally:
        hook.close()


def warm_up() -> None:
    """Import what a task needs and hold the slot, so every worker process exists before a clock starts."""
    import sync_apis.auvo.sync
    import sync_apis.empty_days

    del sync_apis  # imported for what importing costs, not to be used here
    time.sleep(WARM_UP_S)


@contextmanager
def workers(count: int, airflow_home: str) -> Iterator[ProcessPoolExecutor]:
    """``count`` worker processes (the executor's slots), started and warmed up.

    Spawned, not forked: each is a fresh interpreter, as an executor's task process is, with its
    own pacer when the budget is per process; nothing of this process's state leaks into it.
    """
    with environment({"AIRFLOW_HOME": airflow_home}):
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
            for warmed in [pool.submit(warm_up) for _ in range(count)]:
                warmed.result()
            yield pool


def run_backfill(
    pool: ProcessPoolExecutor,
    backfill: Backfill,
    days: Sequence[date],
    streams: Sequence[str],
    *,
    parallelism: int,
    max_active_runs: int = MAX_ACTIVE_RUNS,
) -> float:
    """Every (day, stream) task of the backfill on ``pool``; the wall seconds from the first
    task's start to the last one's end. A failed task raises."""
    started = time.monotonic()
    _dispatch(pool, backfill, days, streams, parallelism, max_active_runs)
    return time.monotonic() - started


def _dispatch(
    pool: ProcessPoolExecutor,
    backfill: Backfill,
    days: Sequence[date],
    streams: Sequence[str],
    parallelism: int,
    max_active_runs: int,
) -> None:
    waiting_days = deque(days)
    unsent: dict[date, deque[tuple[int, str]]] = {}  # the active runs' tasks not yet started
    unfinished: dict[date, int] = {}
    running: dict[Future[None], date] = {}
    while waiting_days or unfinished:
        while len(unfinished) < max_active_runs and waiting_days:
            day = waiting_days.popleft()
            unsent[day] = deque(enumerate(streams))
            unfinished[day] = len(streams)
        for day in sorted(unsent):
            while unsent[day] and len(running) < parallelism:
                map_index, stream = unsent[day].popleft()
                running[pool.submit(run_task, backfill, day, stream, map_index)] = day
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            day = running.pop(future)
            future.result()
            unfinished[day] -= 1
            if not unfinished[day]:
                del unfinished[day], unsent[day]
