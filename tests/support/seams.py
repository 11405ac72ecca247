"""One day of auvo_daily / etrac_daily at the library seam, without Airflow's scheduler machinery.

The DAGs' task bodies are thin adapters (run's day + Params -> hook, connection, ``RunInfo`` ->
the library's load function). These helpers make the same calls in the same order, in this
process, against a sandbox over loopback HTTP and a real PostgreSQL, then run the DAG's SQL
checks the way ``SQLCheckOperator`` judges them. A step that fails raises, as its task would.

What only Airflow does (Param validation, trigger rules, retries, callbacks, asset events) is
tested by the few ``dag.test()`` runs that remain; everything here is the data path.

This is the only module of the suite that calls the library's load entry points: when their
signatures change, this file is the one to adapt.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import psycopg

from sync_apis.etrac.chunking import DEFAULT_CHUNK_SIZE, chunked
from tests.support.checks import day_parameters, render_check
from tests.support.connections import auvo_conn_json, environment, etrac_conn_json

log = logging.getLogger("tests.seams")

AUVO_DAG, ETRAC_DAG = "auvo_daily", "etrac_daily"

# The DAGs' Param defaults (dags/auvo_daily.py): what a run without conf uses.
AUVO_DEFAULTS: dict[str, Any] = {
    "overlap_minutes": 10,
    "api_budget_per_minute": 400,
    "backoff_base_s": 5.0,
    "max_attempts": 6,
    "read_timeout_s": 120,
    "max_orphan_ratio": 1.0,
}
ETRAC_DEFAULTS: dict[str, Any] = {
    "plates": [],
    "chunk_size": DEFAULT_CHUNK_SIZE,
    "backoff_base_s": 1.0,
    "max_attempts": 6,
    "read_timeout_s": 60,
}


class CheckFailedError(AssertionError):
    """A DAG's SQL check did not pass (its first row has a false value, or it has no row)."""


@dataclass
class DayRun:
    """What one seam run did: its run id and each step's summary line, in order."""

    run_id: str
    lines: dict[str, str] = field(default_factory=dict)


def task_connection(dsn: str) -> psycopg.Connection[Any]:
    """A warehouse connection as a task gets one (``warehouse_connection()``: autocommit)."""
    return psycopg.connect(dsn, autocommit=True)


def new_run_id(day: date) -> str:
    return f"seam__{day.isoformat()}__{uuid.uuid4().hex[:8]}"


def run_check(conn: Any, name: str, statement: str, parameters: Mapping[str, Any] | None = None) -> None:
    """``SQLCheckOperator``'s verdict: the first row must exist and hold only true values."""
    row = conn.execute(statement, parameters).fetchone()
    if not row or not all(row):
        raise CheckFailedError(f"{name}: {row!r}")


# --------------------------------------------------------------------------- Auvo


def run_auvo_day(
    auvo_url: str,
    dsn: str,
    day: date,
    params: Mapping[str, Any] | None = None,
    *,
    checks: bool = True,
    run_type: str = "manual",
) -> DayRun:
    """auvo_daily's tasks for ``day``: schemas (+ legacy adoption), each selected stream in its
    own transaction (in the DAG's order), then check_keys / check_orphans / check_day_totals.

    ``params``: the run's conf (``streams``, ``overlap_minutes``, ``task_days_back`` ...);
    ``run_type``: the DagRun's (``"backfill"`` reuses fresh snapshots, ``auvo.fetch_options``).
    """
    from sync_apis.auvo.checks import ORPHANS_FILE, day_totals_sql, keys_sql
    from sync_apis.auvo.dag_tasks import run_window
    from sync_apis.auvo.hook import DEFAULT_POLICY
    from sync_apis.auvo.legacy import adopt_legacy
    from sync_apis.auvo.streams import select
    from sync_apis.auvo.sync import make_hook, sync_stream
    from sync_apis.dag_tasks import http_policy
    from sync_apis.empty_days import configured_thresholds
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import RunInfo, run_schema_files

    p = {**AUVO_DEFAULTS, **(params or {})}
    run = DayRun(new_run_id(day))
    with environment({"AIRFLOW_CONN_AUVO_API": auvo_conn_json(auvo_url)}):
        with psycopg.connect(dsn, autocommit=True) as conn:
            run_schema_files(conn, sql_files("sync_meta"))
            run_schema_files(conn, sql_files("auvo"))
            adopted = adopt_legacy(conn, run.run_id, AUVO_DAG, "schema_auvo", log)
            run.lines["schema_auvo"] = "; ".join(adopted)
        window = run_window(day, p, run_type)
        for index, name in enumerate(select(p.get("streams"))):
            hook = make_hook(
                "auvo_api",
                budget_per_minute=float(p["api_budget_per_minute"]),
                policy=http_policy({"params": p}, DEFAULT_POLICY),
                logger=log,
            )
            info = RunInfo("auvo", name, day, run.run_id, AUVO_DAG, "sync_stream", index)
            with task_connection(dsn) as conn:
                result = sync_stream(conn, hook, name, window, info, log, configured_thresholds())
            run.lines[f"sync_stream[{name}]"] = result.line()
    if checks:
        bounds = day_parameters(day, run.run_id)
        with psycopg.connect(dsn, autocommit=True) as conn:
            run_check(conn, "check_keys", keys_sql(), bounds)
            run_check(
                conn,
                "check_orphans",
                sql_text(ORPHANS_FILE),
                {**bounds, "max_orphan_ratio": p["max_orphan_ratio"]},
            )
            run_check(conn, "check_day_totals", day_totals_sql(), bounds)
    return run


def sql_text(path: str) -> str:
    from sync_apis.sql_files import SQL_DIR

    return (SQL_DIR / path).read_text()


# --------------------------------------------------------------------------- e-Track


def apply_etrac_schema(dsn: str) -> None:
    """schema_sync_meta + schema_e_track."""
    from sync_apis.sql_files import sql_files
    from sync_apis.warehouse import run_schema_files

    with psycopg.connect(dsn, autocommit=True) as conn:
        run_schema_files(conn, sql_files("sync_meta") + sql_files("e_track"))


def etrac_run_info(day: date, run_id: str, task_id: str, stream: str, map_index: int = -1) -> Any:
    from sync_apis.warehouse import RunInfo

    return RunInfo("e_track", stream, day, run_id, ETRAC_DAG, task_id, map_index)


def run_etrac_day(
    etrac_url: str, dsn: str, day: date, params: Mapping[str, Any] | None = None, *, checks: bool = True
) -> DayRun:
    """etrac_daily's tasks for ``day``: schemas, latest, plan, history per chunk, routes, checks.

    ``params``: the run's conf (``plates``, ``chunk_size``, ``requests_per_minute``, the retry Params).
    """
    from sync_apis import retention
    from sync_apis.empty_days import configured_thresholds
    from sync_apis.etrac import dag_tasks
    from sync_apis.etrac import sync as etrac
    from sync_apis.etrac.checks import CHECK_FILES
    from sync_apis.etrac.pacing import configured_requests_per_minute

    p = {**ETRAC_DEFAULTS, "requests_per_minute": configured_requests_per_minute(), **(params or {})}
    run = DayRun(new_run_id(day))
    kept = dag_tasks.etrac_retention()
    apply_etrac_schema(dsn)
    with environment({"AIRFLOW_CONN_ETRAC_API": etrac_conn_json(etrac_url)}):
        info = etrac_run_info(day, run.run_id, "latest", "latest")
        with task_connection(dsn) as conn:
            retention.refuse_beyond(conn, kept, day, datetime.now(UTC), info)
            hook = dag_tasks.hook_for_run({"params": p})
            try:
                run.lines["latest"] = etrac.load_latest(conn, hook, info, configured_thresholds())
            finally:
                hook.close()
        with task_connection(dsn) as conn:
            chunks = chunked(etrac.plan_plates(conn, p["plates"]), p["chunk_size"])
        for index, plates in enumerate(chunks):
            run.lines[f"history[{index}]"] = run_etrac_chunk(dsn, day, plates, run.run_id, index, p)
    with task_connection(dsn) as conn:
        run.lines["routes"] = etrac.load_routes(
            conn, etrac_run_info(day, run.run_id, "routes", "routes"), day
        )
    if checks:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for path in CHECK_FILES.values():
                run_check(conn, path, *render_check(path, day, run.run_id))
    return run


def run_etrac_chunk(
    dsn: str,
    day: date,
    plates: Sequence[str],
    run_id: str,
    map_index: int = 0,
    params: Mapping[str, Any] | None = None,
) -> str:
    """One mapped ``history`` task: the retention check, then positions + trips of ``plates``.

    Needs ``AIRFLOW_CONN_ETRAC_API`` set (``run_etrac_day`` sets it around its calls).
    """
    from sync_apis import retention
    from sync_apis.empty_days import configured_thresholds
    from sync_apis.etrac import dag_tasks
    from sync_apis.etrac import sync as etrac

    positions_run = etrac_run_info(day, run_id, "history", "positions", map_index)
    trips_run = etrac_run_info(day, run_id, "history", "trips", map_index)
    kept = dag_tasks.etrac_retention()
    now = datetime.now(UTC)
    with task_connection(dsn) as conn:
        reach = retention.refuse_beyond(conn, kept, day, now, positions_run, trips_run)
        edge_note = kept.edge_note(day, now) if reach is retention.Reach.EDGE else None
        hook = dag_tasks.hook_for_run({"params": {**ETRAC_DEFAULTS, **(params or {})}})
        try:
            return str(
                etrac.load_history(
                    conn,
                    hook,
                    positions_run,
                    trips_run,
                    day,
                    etrac.normalize_plates(plates),
                    thresholds=configured_thresholds(),
                    edge_note=edge_note,
                )
            )
        finally:
            hook.close()


ETRAC_TODAY = date(2025, 3, 13)  # the pinned sandbox clock's day (tests.support.sandboxes)


@dataclass
class EtracLoader:
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
            with task_connection(self.url) as conn:
                return fn(conn, hook, *args)
        finally:
            hook.close()

    def latest(self, day: date = ETRAC_TODAY) -> str:
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
        with task_connection(self.url) as conn:
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
