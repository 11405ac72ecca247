"""The work of etrac_daily's tasks (the DAG file wires ``etrac/dag_tasks.py``, which calls these).

Each ``load_*`` function does one task's work given explicit collaborators (a psycopg
connection, an EtracHook, RunInfo), so tests can drive it directly or in a subprocess;
``sync_apis.etrac.dag_tasks`` adapts them to an Airflow context.

Every load is one transaction (``sync_apis.warehouse.open_load``) driven by the one loop
(``sync_apis.loop.Feed``) over the stream table (``etrac/streams.py``): the API's
records are parsed and COPYed into staging tables plate by plate, merged once at the end, and
the sync_runs rows commit with the data. A task killed mid-way leaves nothing behind; its retry
starts clean.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from sync_apis import LOCAL_TZ
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
from sync_apis.etrac.routes import compute_routes
from sync_apis.etrac.streams import POSITIONS, SOURCE, TERMINALS, TRIPS
from sync_apis.localday import day_bounds
from sync_apis.loop import Feed, prefetched
from sync_apis.progress import Progress
from sync_apis.rejected import Rejected
from sync_apis.sql_files import query, statement
from sync_apis.values import ETRAC
from sync_apis.warehouse import Load, RunInfo, RunSummary, Stage, open_load

log = logging.getLogger(__name__)

# e-Track's retention is unknown; 90 days is the ASSUMED figure (etrac-api.md "Data retention").
RETENTION_OPTION = "etrac_retention_days"
DEFAULT_RETENTION_DAYS = 90


# --------------------------------------------------------------------------- helpers


def normalize_plates(values: Iterable[Any]) -> list[str]:
    """Sorted, unique, normalised plates (``abc-1d23`` -> ``ABC1D23``); unreadable ones dropped."""
    plates = {parse.normalize_plate(v) for v in values}
    return sorted(p for p in plates if p)


def _reject_raw(record: Any, plate: str | None) -> Any:
    if isinstance(record, dict):
        return record if plate is None or "placa" in record else {"_placa_requested": plate, **record}
    return {"_placa_requested": plate, "record": record}


def distinct_in_day(rows: Sequence[tuple[Any, ...]], at: int, start: datetime, end: datetime) -> int:
    """How many distinct position keys of ``rows`` have their fix time (column ``at``) in [start, end).

    Run for every plate of a history: the bounds are pendulum datetimes, whose comparisons run in
    Python and cost more than the rest of the count. On a day whose UTC offset does not change
    (every day since Brazil dropped DST in 2019), the bounds are restated as plain datetimes in
    the fixes' own zone: two datetimes of the same zone compare their fields, and wall-clock
    order is instant order. A day with a DST change keeps the general comparison.
    """
    if start.utcoffset() == end.utcoffset():
        start, end = (datetime.fromtimestamp(b.timestamp(), LOCAL_TZ) for b in (start, end))
    key_of = POSITIONS.key_of
    return len({key_of(r) for r in rows if start <= r[at] < end})


def _noted_for(plate: str) -> Callable[[Rejected, Any], tuple[str, Any]]:
    """A history rejection names the plate requested (the record may not)."""

    def note(exc: Rejected, record: Any) -> tuple[str, Any]:
        return f"{exc.reason} (placa {plate})", _reject_raw(record, plate)

    return note


def _finish(feed: Feed, warnings: Sequence[DayWarning | None]) -> RunSummary:
    """The stream's sync_runs row; what it received is also what the empty-day check compared."""
    return feed.finish(day_rows=feed.received, warning=combined(warnings))


# --------------------------------------------------------------------------- latest positions


def load_latest(conn: Any, hook: EtracHook, run: RunInfo, thresholds: Thresholds | None = None) -> str:
    """E1 -> terminals (vehicle + last fix) and positions (that fix). Returns the summary line.

    The answer is a snapshot of the fleet: when it is empty (or far smaller) where the last
    runs saw many vehicles, the run warns (``empty_days``).
    """
    progress = Progress(log, f"e_track latest {run.day}", unit="responses",
                        stats=lambda: (hook.stats.retries, hook.stats.waited_s))  # fmt: skip
    with open_load(conn, run) as load:
        # The API call is inside the load, so a failure (a rejected key, an outage that outlasted
        # the retries) leaves a 'failed' sync_runs row with the reason, as the history tasks do.
        terminals = Feed(load, TERMINALS.table, hook)
        positions = Feed(load, POSITIONS.table)
        records = terminals.fetch(hook.latest)
        vehicles: list[Any] = []  # records that are a vehicle: only those may carry a fix

        def terminal(record: Any) -> tuple[Any, ...]:
            row = TERMINALS.row(TERMINALS.build(record))
            vehicles.append(record)
            return row

        def position(record: Any) -> tuple[Any, ...]:
            row = POSITIONS.build(record)
            row["origin"] = "latest"
            return POSITIONS.row(row)

        def position_note(exc: Rejected, record: Any) -> tuple[str, Any]:
            return f"position: {exc.reason}", record

        terminal_rows = terminals.rows(records, terminal, lambda exc, r: (exc.reason, _reject_raw(r, None)))
        fixes = [r for r in vehicles if not ETRAC.is_empty(r.get("data_transmissao"))]
        position_rows = positions.rows(fixes, position, position_note)
        # One lock order for every writer (concurrent backfill runs upsert the same vehicles).
        terminals.copy(sorted(terminal_rows, key=TERMINALS.key_of))
        positions.copy(sorted(position_rows, key=POSITIONS.key_of))
        t = terminals.merge()
        # The day's history is the authority for a fix (it may omit fields the snapshot has, in
        # the API's strict-doc mode): if the snapshot overwrote it, every run would flip those
        # columns back and forth and re-running a day would not be a no-op. So: only new fixes.
        p = positions.merge(only_new=True)
        progress.step(1, rows=len(terminal_rows) + len(position_rows))
        expected = runs_expectation(recent_runs(load, SOURCE, run.stream, run.run_id))
        received = len(records)
        warning = judge(
            SOURCE, run.stream, run.day, received, expected, thresholds or Thresholds(), what="vehicles"
        )
        summary = terminals.finish(rows_received=received, day_rows=received, warning=combined([warning]))
    announce([warning], log)
    return progress.summary(
        vehicles=len(terminal_rows),
        terminals_inserted=t.inserted,
        terminals_updated=t.updated,
        terminals_skipped_older=t.kept_newer,
        positions_inserted=p.inserted,
        positions_updated=p.updated,
        rejected=summary.rows_rejected,
        requests=terminals.spent.requests,
        retries=terminals.spent.retries,
    )


# --------------------------------------------------------------------------- plan


def plan_plates(conn: Any, requested: Iterable[Any] | None) -> list[str]:
    """The plates to fetch history for: the ``plates`` Param, or every vehicle the warehouse
    knows (``terminals`` is refreshed from the API by the latest task just before)."""
    requested = list(requested or [])
    if requested:
        return normalize_plates(requested)
    with conn.cursor() as cur:
        cur.execute(query("e_track/known_plates"))
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


def _save_counts(load: Load, day: date, counts: list[_PlateCounts]) -> None:
    rows = [{**vars(c), "dia": day} for c in sorted(counts, key=lambda c: c.placa)]
    load.execute_many("e_track/save_history_counts", rows)


def plate_histories(load: Load, plates: Sequence[str], day: date) -> tuple[dict[str, dict[date, int]], ...]:
    """(positions, trips) received per plate and day, from ``history_counts``: the nearest days
    to ``day`` (itself excluded) each plate was synced on."""
    positions: dict[str, dict[date, int]] = {}
    trips: dict[str, dict[date, int]] = {}
    params = {"plates": list(plates), "day": day, "limit": NEAREST_LIMIT}
    for plate, dia, n_positions, n_trips in load.query("e_track/nearest_history_counts", params):
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
    counts: list[_PlateCounts] = []
    answered: list[str] = []  # plates whose answer holds fixes of the day
    at = POSITIONS.position("data_transmissao")
    progress = Progress(
        log,
        f"e_track history {day.isoformat()}",
        total=len(plates),
        unit="plates",
        stats=lambda: (hook.stats.retries, hook.stats.waited_s),
    )
    with open_load(conn, positions_run, trips_run) as (pos_load, trips_load):
        positions = Feed(pos_load, POSITIONS.table, hook)
        trips = Feed(trips_load, TRIPS.table, hook)

        def answers(plate: str) -> tuple[list[Any], list[Any]]:
            return positions.fetch(partial(hook.history, plate, day)), trips.fetch(
                partial(hook.trips, plate, day)
            )

        for plate, (history, plate_trips) in prefetched(plates, answers):
            tally = _PlateCounts(plate)
            note = _noted_for(plate)

            def position(record: Any, plate: str = plate) -> tuple[Any, ...]:
                row = POSITIONS.build(record, plate=plate)
                row["origin"] = "history"
                return POSITIONS.row(row)

            def trip(record: Any, plate: str = plate) -> tuple[Any, ...]:
                row = TRIPS.build(record, plate=plate)
                row["reported_day"] = day
                return TRIPS.row(row)

            received, rejected = positions.received, positions.rejected
            rows = positions.rows(history, position, note)
            positions.copy(rows)
            tally.positions_received = positions.received - received
            tally.positions_rejected = positions.rejected - rejected

            received, rejected = trips.received, trips.rejected
            trip_rows = trips.rows(plate_trips, trip, note)
            trips.copy(trip_rows)
            tally.trips_received = trips.received - received
            tally.trips_rejected = trips.rejected - rejected

            tally.positions_distinct = distinct_in_day(rows, at, start, end)
            if tally.positions_distinct:
                answered.append(plate)
            counts.append(tally)
            progress.step(1, rows=len(rows) + len(trip_rows))

        p = positions.merge()
        t = trips.merge()
        removed_positions, removed_trips = _remove_corrected(positions.stage, trips.stage, answered, day)
        warnings = _history_warnings(
            pos_load, plates, day, (positions, trips), thresholds or Thresholds(), edge_note
        )
        _save_counts(pos_load, day, counts)
        pos_summary = _finish(positions, warnings["positions"])
        trip_summary = _finish(trips, warnings["trips"])
    announce([w for stream in warnings.values() for w in stream], log)
    return progress.summary(
        positions_received=positions.received,
        positions_inserted=p.inserted,
        positions_updated=p.updated,
        positions_deleted=removed_positions,
        positions_rejected=pos_summary.rows_rejected,
        trips_received=trips.received,
        trips_inserted=t.inserted,
        trips_updated=t.updated,
        trips_deleted=removed_trips,
        trips_rejected=trip_summary.rows_rejected,
        requests=positions.spent.requests + trips.spent.requests,
        retries=positions.spent.retries + trips.spent.retries,
    )


def _history_warnings(
    load: Load,
    plates: Sequence[str],
    day: date,
    feeds: tuple[Feed, Feed],
    thresholds: Thresholds,
    edge_note: str | None,
) -> dict[str, list[DayWarning | None]]:
    """The chunk's warnings per stream: the retention edge, then the empty-day check."""
    if not plates:
        return {"positions": [], "trips": []}
    histories = plate_histories(load, plates, day) if thresholds.enabled else ({}, {})
    which = f"{plates[0]}" if len(plates) == 1 else f"{len(plates)} plates {plates[0]}..{plates[-1]}"
    out: dict[str, list[DayWarning | None]] = {}
    for stream, feed, history in zip(("positions", "trips"), feeds, histories, strict=True):
        edge = DayWarning(SOURCE, stream, day, "retention_edge", f"{SOURCE}.{stream} {which}: {edge_note}")
        expected = plates_expectation(history, day)
        low = judge(SOURCE, stream, day, feed.received, expected, thresholds, what=f"{stream} for {which}")
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
    start, end = day_bounds(day)
    scope = {"plates": plates, "day": day, "start": start, "end": end}
    removed_positions = positions.delete_missing(statement("e_track/history_removable_positions"), scope)
    removed_trips = trips.delete_missing(statement("e_track/history_removable_trips"), scope)
    return removed_positions, removed_trips


# --------------------------------------------------------------------------- routes


def load_routes(conn: Any, run: RunInfo, day: date) -> str:
    """Recompute e_track.routes for the day from positions; advance the (e_track, history)
    watermark to the day's end (the last local day fully loaded)."""
    progress = Progress(log, f"e_track routes {day.isoformat()}", unit="days")
    with open_load(conn, run) as load:
        inserted, updated = compute_routes(load, day)
        ((routes_total,),) = load.query("e_track/routes_of_day", {"day": day})
        load.set_watermark(day_bounds(day)[1], stream="history")
        load.finish(requests=0, pages=0, retries=0, rows_received=routes_total)
    progress.step(1, rows=routes_total)
    return progress.summary(routes=routes_total, inserted=inserted, updated=updated)
