"""The bodies of etrac_daily's tasks. The DAG file only wires these.

Each ``load_*`` function does one task's work given explicit collaborators (a psycopg
connection, an EtracHook, RunInfo), so tests can drive it directly or in a subprocess; the
``*_task`` functions adapt them to an Airflow context.

Every load is one transaction (``sync_apis.warehouse.open_load``/``open_loads``): the API's
records are parsed and COPYed into staging tables plate by plate, merged once at the end, and
the sync_runs rows commit with the data. A task killed mid-way leaves nothing behind; its retry
starts clean.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from psycopg import sql

from sync_apis import retention
from sync_apis.dag_defaults import run_day
from sync_apis.empty_days import (
    NEAREST_LIMIT,
    DayWarning,
    Thresholds,
    announce,
    combined,
    judge,
    plates_expectation,
    recent_runs,
    runs_expectation,
)
from sync_apis.etrac import parse
from sync_apis.etrac.hook import EtracHook
from sync_apis.etrac.pacing import configured_requests_per_minute
from sync_apis.etrac.routes import compute_routes
from sync_apis.http import HttpPolicy, TokenBucket
from sync_apis.localday import day_bounds
from sync_apis.progress import Progress
from sync_apis.ratelimit import pacer_for
from sync_apis.warehouse import Load, RunInfo, Stage, Table, open_load, open_loads

log = logging.getLogger(__name__)

SOURCE = "e_track"

# A run that fetched earlier but merges later (concurrent backfill runs) must not put a
# vehicle's last fix back in time: the stored fix is replaced only by one at least as new.
TERMINALS = Table(
    "e_track",
    "terminals",
    key=("placa",),
    columns=parse.TERMINAL_COLUMNS,
    version_column="data_transmissao",
)
# positions.origin says which endpoint vouches for a fix ('history' or 'latest'), and
# trips.reported_day which day's /resumoviagens answer reported a trip: they scope what a
# complete answer for a plate-day may remove (see load_history).
POSITIONS = Table(
    "e_track",
    "positions",
    key=("placa", "data_transmissao", "latitude", "longitude"),
    columns=(*parse.POSITION_COLUMNS, "origin"),
)
TRIPS = Table(
    "e_track", "trips", key=("placa", "data_inicio_conducao"), columns=(*parse.TRIP_COLUMNS, "reported_day")
)

DEFAULT_CHUNK_SIZE = 10
# e-Track's retention is unknown; 90 days is the ASSUMED figure (etrac-api.md "Data retention").
RETENTION_OPTION = "etrac_retention_days"
DEFAULT_RETENTION_DAYS = 90


# --------------------------------------------------------------------------- helpers


def warehouse_connection() -> Any:
    """A psycopg 3 connection to the warehouse (connection id overridable by Variable)."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from sync_apis.config import conn_id

    return PostgresHook(postgres_conn_id=conn_id("sync_apis_db")).get_conn()


def etrac_hook(requests_per_minute: float | None) -> EtracHook:
    from sync_apis.config import conn_id

    rpm = requests_per_minute if requests_per_minute and requests_per_minute > 0 else None
    etrac_conn = conn_id("etrac_api")
    pacer = pacer_for("etrac", conn_id=etrac_conn, fallback=TokenBucket(rpm) if rpm else None)
    return EtracHook(etrac_conn, policy=HttpPolicy(), pacer=pacer, logger=log)


def normalize_plates(values: Iterable[Any]) -> list[str]:
    """Sorted, unique, normalised plates (``abc-1d23`` -> ``ABC1D23``); unreadable ones dropped."""
    plates = {parse.normalize_plate(v) for v in values}
    return sorted(p for p in plates if p)


def chunked(items: Sequence[str], size: int) -> list[list[str]]:
    size = max(1, int(size))
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _reject_raw(record: Any, plate: str | None) -> Any:
    if isinstance(record, dict):
        return record if plate is None or "placa" in record else {"_placa_requested": plate, **record}
    return {"_placa_requested": plate, "record": record}


@dataclass
class _Calls:
    """Requests/retries spent on one stream, measured as deltas of the shared client's stats."""

    requests: int = 0
    retries: int = 0
    pages: int = 0
    waited_s: float = 0.0
    received: int = 0

    def finish(self, load: Load, warnings: Sequence[DayWarning | None] = ()) -> Any:
        """Write the stream's sync_runs row (same transaction as its rows); ``received`` is also
        what the empty-day check compared (``day_rows``)."""
        return load.finish(
            requests=self.requests,
            pages=self.pages,
            retries=self.retries,
            rows_received=self.received,
            waited_s=self.waited_s,
            day_rows=self.received,
            warning=combined(warnings),
        )

    def add(self, before: tuple[int, int, float], after: tuple[int, int, float]) -> None:
        self.requests += after[0] - before[0]
        self.retries += after[1] - before[1]
        self.waited_s += after[2] - before[2]
        self.pages += 1


def _stats(hook: EtracHook) -> tuple[int, int, float]:
    s = hook.client.stats
    return s.requests, s.retries, s.waited_s


# --------------------------------------------------------------------------- latest positions


def load_latest(conn: Any, hook: EtracHook, run: RunInfo, thresholds: Thresholds | None = None) -> str:
    """E1 -> terminals (vehicle + last fix) and positions (that fix). Returns the summary line.

    The answer is a snapshot of the fleet: when it is empty (or far smaller) where the last
    runs saw many vehicles, the run warns (``empty_days``).
    """
    calls = _Calls()
    progress = Progress(log, f"e_track latest {run.day}", unit="responses",
                        stats=lambda: (hook.client.stats.retries, hook.client.stats.waited_s))  # fmt: skip
    with open_load(conn, run) as load:
        # The API call is inside the load, so a failure (a rejected key, an outage that outlasted
        # the retries) leaves a 'failed' sync_runs row with the reason, as the history tasks do.
        before = _stats(hook)
        records = hook.latest()
        calls.add(before, _stats(hook))
        calls.received = len(records)
        terminals = load.stage(TERMINALS)
        positions = load.stage(POSITIONS)
        terminal_rows: list[tuple[Any, ...]] = []
        position_rows: list[tuple[Any, ...]] = []
        for record in records:
            try:
                terminal_rows.append(parse.terminal_row(record))
            except parse.Rejected as exc:
                load.reject(exc.reason, _reject_raw(record, None))
                continue
            if isinstance(record, dict) and not parse.is_empty(record.get("data_transmissao")):
                try:
                    position_rows.append((*parse.position_row(record), "latest"))
                except parse.Rejected as exc:
                    load.reject(f"position: {exc.reason}", record)
        # One lock order for every writer (concurrent backfill runs upsert the same vehicles).
        terminals.copy(sorted(terminal_rows, key=lambda r: r[0]))
        positions.copy(sorted(position_rows, key=lambda r: (r[0], r[1], r[2], r[3])))
        t = terminals.merge()
        # The day's history is the authority for a fix (it may omit fields the snapshot has, in
        # the API's strict-doc mode): if the snapshot overwrote it, every run would flip those
        # columns back and forth and re-running a day would not be a no-op. So: only new fixes.
        p = positions.merge(only_new=True)
        progress.step(1, rows=len(terminal_rows) + len(position_rows))
        expected = runs_expectation(recent_runs(conn, SOURCE, run.stream, run.run_id))
        warning = judge(
            SOURCE, run.stream, run.day, calls.received, expected, thresholds or Thresholds(), what="vehicles"
        )
        summary = calls.finish(load, [warning])
    announce([warning], log)
    return progress.summary(
        vehicles=len(terminal_rows),
        terminals_inserted=t.inserted,
        terminals_updated=t.updated,
        terminals_skipped_older=t.kept_newer,
        positions_inserted=p.inserted,
        positions_updated=p.updated,
        rejected=summary.rows_rejected,
        requests=calls.requests,
        retries=calls.retries,
    )


# --------------------------------------------------------------------------- plan


def plan_plates(conn: Any, requested: Iterable[Any] | None) -> list[str]:
    """The plates to fetch history for: the ``plates`` Param, or every vehicle the warehouse
    knows (``terminals`` is refreshed from the API by the latest task just before)."""
    requested = list(requested or [])
    if requested:
        return normalize_plates(requested)
    with conn.cursor() as cur:
        cur.execute("SELECT placa FROM e_track.terminals ORDER BY placa")
        return normalize_plates(row[0] for row in cur.fetchall())


# --------------------------------------------------------------------------- history + trips


@dataclass
class _PlateCounts:
    placa: str
    positions_received: int = 0
    positions_distinct: int = 0
    positions_rejected: int = 0
    trips_received: int = 0
    trips_rejected: int = 0
    keys: set[tuple[Any, ...]] = field(default_factory=set)


def _save_counts(conn: Any, day: date, counts: list[_PlateCounts]) -> None:
    rows = [
        (c.placa, day, c.positions_received, c.positions_distinct, c.positions_rejected, c.trips_received,
         c.trips_rejected)
        for c in sorted(counts, key=lambda c: c.placa)
    ]  # fmt: skip
    with conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO e_track.history_counts AS h
                   (placa, dia, positions_received, positions_distinct, positions_rejected,
                    trips_received, trips_rejected)
            VALUES (%s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (placa, dia) DO UPDATE
               SET positions_received = EXCLUDED.positions_received,
                   positions_distinct = EXCLUDED.positions_distinct,
                   positions_rejected = EXCLUDED.positions_rejected,
                   trips_received = EXCLUDED.trips_received, trips_rejected = EXCLUDED.trips_rejected,
                   synced_at = now()
             WHERE ROW(h.positions_received, h.positions_distinct, h.positions_rejected,
                       h.trips_received, h.trips_rejected)
                   IS DISTINCT FROM
                   ROW(EXCLUDED.positions_received, EXCLUDED.positions_distinct,
                       EXCLUDED.positions_rejected, EXCLUDED.trips_received, EXCLUDED.trips_rejected)
            """,
            rows,
        )


def plate_histories(conn: Any, plates: Sequence[str], day: date) -> tuple[dict[str, dict[date, int]], ...]:
    """(positions, trips) received per plate and day, from ``history_counts``: the nearest days
    to ``day`` (itself excluded) each plate was synced on."""
    positions: dict[str, dict[date, int]] = {}
    trips: dict[str, dict[date, int]] = {}
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT placa, dia, positions_received, trips_received FROM (
                SELECT *, row_number() OVER (PARTITION BY placa ORDER BY abs(dia - %(day)s), dia) AS nearest
                  FROM e_track.history_counts WHERE placa = ANY(%(plates)s) AND dia <> %(day)s
            ) h WHERE nearest <= %(limit)s
            """,
            {"plates": list(plates), "day": day, "limit": NEAREST_LIMIT},
        )
        for plate, dia, n_positions, n_trips in cur.fetchall():
            positions.setdefault(plate, {})[dia] = int(n_positions)
            trips.setdefault(plate, {})[dia] = int(n_trips)
    return positions, trips


def load_history(
    conn: Any,
    hook: EtracHook,
    positions_run: RunInfo,
    trips_run: RunInfo,
    day: date,
    plates: Sequence[str],
    *,
    thresholds: Thresholds | None = None,
    edge_note: str | None = None,
) -> str:
    """E3 + E4 for each plate of one chunk and one local day, all in one transaction.

    Rows are COPYed plate by plate (only one plate's response is in memory at a time) and
    merged once at the end; sync_runs gets one row per stream (positions, trips), a ``failed``
    one for both when the chunk fails. Every answer of the chunk arrived whole before anything
    is written, so each plate-day's answer is complete: its positions and trips that the answer
    no longer contains (the API corrected them) are removed in the same transaction.

    Empty days are loud: when the chunk's plates returned no positions (or trips), or far
    fewer, where the same plates had many on comparable days, or when ``edge_note`` says the
    day starts before the API's retention, the rows carry a warning (``empty_days``).
    """
    start, end = day_bounds(day)
    pos_calls, trip_calls = _Calls(), _Calls()
    counts: list[_PlateCounts] = []
    answered: list[str] = []  # plates whose answer holds fixes of the day
    progress = Progress(
        log,
        f"e_track history {day.isoformat()}",
        total=len(plates),
        unit="plates",
        stats=lambda: (hook.client.stats.retries, hook.client.stats.waited_s),
    )
    with open_loads(conn, positions_run, trips_run) as (pos_load, trips_load):
        positions = pos_load.stage(POSITIONS)
        trips = trips_load.stage(TRIPS)
        for plate in plates:
            tally = _PlateCounts(plate)

            before = _stats(hook)
            records = hook.history(plate, day)
            pos_calls.add(before, _stats(hook))
            rows = _position_rows(records, plate, pos_load, tally, start, end)
            positions.copy(rows)

            before = _stats(hook)
            trip_records = hook.trips(plate, day)
            trip_calls.add(before, _stats(hook))
            trip_rows = _trip_rows(trip_records, plate, trips_load, tally, day)
            trips.copy(trip_rows)

            pos_calls.received += tally.positions_received
            trip_calls.received += tally.trips_received
            tally.positions_distinct = len(tally.keys)
            if tally.keys:
                answered.append(plate)
            tally.keys = set()
            counts.append(tally)
            progress.step(1, rows=len(rows) + len(trip_rows))

        p = positions.merge()
        t = trips.merge()
        removed_positions, removed_trips = _remove_corrected(positions, trips, answered, day)
        warnings = _history_warnings(
            conn, plates, day, (pos_calls, trip_calls), thresholds or Thresholds(), edge_note
        )
        _save_counts(conn, day, counts)
        pos_summary = pos_calls.finish(pos_load, warnings["positions"])
        trip_summary = trip_calls.finish(trips_load, warnings["trips"])
    announce([w for stream in warnings.values() for w in stream], log)
    return progress.summary(
        positions_received=pos_calls.received,
        positions_inserted=p.inserted,
        positions_updated=p.updated,
        positions_deleted=removed_positions,
        positions_rejected=pos_summary.rows_rejected,
        trips_received=trip_calls.received,
        trips_inserted=t.inserted,
        trips_updated=t.updated,
        trips_deleted=removed_trips,
        trips_rejected=trip_summary.rows_rejected,
        requests=pos_calls.requests + trip_calls.requests,
        retries=pos_calls.retries + trip_calls.retries,
    )


def _history_warnings(
    conn: Any,
    plates: Sequence[str],
    day: date,
    calls: tuple[_Calls, _Calls],
    thresholds: Thresholds,
    edge_note: str | None,
) -> dict[str, list[DayWarning | None]]:
    """The chunk's warnings per stream: the retention edge, then the empty-day check."""
    if not plates:
        return {"positions": [], "trips": []}
    histories = plate_histories(conn, plates, day) if thresholds.enabled else ({}, {})
    which = f"{plates[0]}" if len(plates) == 1 else f"{len(plates)} plates {plates[0]}..{plates[-1]}"
    out: dict[str, list[DayWarning | None]] = {}
    for stream, stream_calls, history in zip(("positions", "trips"), calls, histories, strict=True):
        edge = DayWarning(SOURCE, stream, day, "retention_edge", f"{SOURCE}.{stream} {which}: {edge_note}")
        expected = plates_expectation(history, day)
        low = judge(
            SOURCE, stream, day, stream_calls.received, expected, thresholds, what=f"{stream} for {which}"
        )
        out[stream] = [edge if edge_note else None, low]
    return out


def _remove_corrected(positions: Stage, trips: Stage, plates: list[str], day: date) -> tuple[int, int]:
    """Remove the plate-days' rows their complete answers no longer contain; returns (positions, trips).

    Only plates whose answer held fixes of the day: an answer without any (the API's retention
    ran out, or nothing in it was readable) says nothing about what the day had, and removes
    nothing. Positions: only fixes a history answer once vouched for (``origin = 'history'``),
    so a fix only /ultimas-posicoes reported stays. Trips: those this day's request reported
    last (``reported_day``), or, when unknown, that started on the day.
    """
    if not plates:
        return 0, 0
    start, end = (sql.Literal(b) for b in day_bounds(day))
    in_plates = sql.SQL("t.placa = ANY({})").format(sql.Literal(plates))
    removed_positions = positions.delete_missing(
        sql.SQL(
            "{in_plates} AND t.origin = 'history' "
            "AND t.data_transmissao >= {start} AND t.data_transmissao < {end}"
        ).format(in_plates=in_plates, start=start, end=end)
    )
    removed_trips = trips.delete_missing(
        sql.SQL(
            "{in_plates} AND (t.reported_day = {day} OR (t.reported_day IS NULL "
            "AND t.data_inicio_conducao >= {start} AND t.data_inicio_conducao < {end}))"
        ).format(in_plates=in_plates, day=sql.Literal(day), start=start, end=end)
    )
    return removed_positions, removed_trips


def _position_rows(
    records: list[Any], plate: str, load: Load, tally: _PlateCounts, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    rows = []
    for record in records:
        tally.positions_received += 1
        try:
            row = parse.position_row(record, plate=plate)
        except parse.Rejected as exc:
            tally.positions_rejected += 1
            load.reject(f"{exc.reason} (placa {plate})", _reject_raw(record, plate))
            continue
        if start <= row[1] < end:
            tally.keys.add(row[:4])
        rows.append((*row, "history"))
    return rows


def _trip_rows(
    records: list[Any], plate: str, load: Load, tally: _PlateCounts, day: date
) -> list[tuple[Any, ...]]:
    rows = []
    for record in records:
        tally.trips_received += 1
        try:
            rows.append((*parse.trip_row(record, plate=plate), day))
        except parse.Rejected as exc:
            tally.trips_rejected += 1
            load.reject(f"{exc.reason} (placa {plate})", _reject_raw(record, plate))
    return rows


# --------------------------------------------------------------------------- routes


def load_routes(conn: Any, run: RunInfo, day: date) -> str:
    """Recompute e_track.routes for the day from positions; advance the (e_track, history)
    watermark to the day's end (the last local day fully loaded)."""
    progress = Progress(log, f"e_track routes {day.isoformat()}", unit="days")
    with open_load(conn, run) as load:
        load.lock_source()
        inserted, updated = compute_routes(conn, day)
        load.inserted += inserted
        load.updated += updated
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM e_track.routes WHERE rota_date = %s", (day,))
            routes_total = int(cur.fetchone()[0])
        watermark_run = RunInfo(**{**vars(run), "stream": "history"})
        history_load = Load(conn, watermark_run)
        history_load.set_watermark(day_bounds(day)[1])
        load.finish(requests=0, pages=0, retries=0, rows_received=routes_total)
    progress.step(1, rows=routes_total)
    return progress.summary(routes=routes_total, inserted=inserted, updated=updated)


# --------------------------------------------------------------------------- Airflow adapters


def _param(context: Any, name: str, default: Any) -> Any:
    value = (context.get("params") or {}).get(name, default)
    return default if value is None else value


def etrac_retention() -> retention.Retention:
    """``[sync_apis] etrac_retention_days`` (default 90; 0 or empty = unknown), read at task time."""
    return retention.configured(SOURCE, "e-Track", RETENTION_OPTION, DEFAULT_RETENTION_DAYS)


def latest_task(**context: Any) -> str:
    """E1 for the run. E1 answers *today's* last positions whatever the run's day, so a backfill
    of days within the retention still runs it: it is one request, it keeps the vehicle list
    ``plan`` reads current (a fresh warehouse has no other), and it never rewrites history
    (positions merge only new fixes, terminals only newer ones). A day beyond the retention is
    refused here, the run's first API task, before any request: nothing downstream runs."""
    from sync_apis.empty_days import configured_thresholds

    day = run_day(context)
    run = RunInfo.from_context(context, source=SOURCE, stream="latest", day=day)
    with warehouse_connection() as conn:
        retention.refuse_beyond(conn, etrac_retention(), day, datetime.now(UTC), run)
        hook = etrac_hook(_param(context, "requests_per_minute", configured_requests_per_minute()))
        try:
            return load_latest(conn, hook, run, configured_thresholds())
        finally:
            hook.close()


def plan_task(**context: Any) -> list[list[str]]:
    """Chunks of plates for the mapped history task (a small list: plates only)."""
    with warehouse_connection() as conn:
        plates = plan_plates(conn, _param(context, "plates", []))
    size = int(_param(context, "chunk_size", DEFAULT_CHUNK_SIZE))
    chunks = chunked(plates, size)
    log.info(
        "e_track plan %s: %d plates in %d chunks of up to %d",
        run_day(context),
        len(plates),
        len(chunks),
        size,
    )
    return chunks


def history_task(plates: list[str], **context: Any) -> str:
    """One chunk's history. Checks the retention again: this task can be cleared and run alone."""
    from sync_apis.empty_days import configured_thresholds

    day = run_day(context)
    positions_run = RunInfo.from_context(context, source=SOURCE, stream="positions", day=day)
    trips_run = RunInfo.from_context(context, source=SOURCE, stream="trips", day=day)
    kept = etrac_retention()
    now = datetime.now(UTC)
    with warehouse_connection() as conn:
        reach = retention.refuse_beyond(conn, kept, day, now, positions_run, trips_run)
        edge_note = kept.edge_note(day, now) if reach is retention.Reach.EDGE else None
        hook = etrac_hook(_param(context, "requests_per_minute", configured_requests_per_minute()))
        try:
            return load_history(
                conn,
                hook,
                positions_run,
                trips_run,
                day,
                normalize_plates(plates),
                thresholds=configured_thresholds(),
                edge_note=edge_note,
            )
        finally:
            hook.close()


def routes_task(**context: Any) -> str:
    day = run_day(context)
    run = RunInfo.from_context(context, source=SOURCE, stream="routes", day=day)
    with warehouse_connection() as conn:
        return load_routes(conn, run, day)
