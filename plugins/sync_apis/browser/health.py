"""Sync health from ``sync_meta.sync_runs``: where each source and stream stands, day by day.

A run writes one row per task x stream x day (several for mapped chunks); a re-run of a day
writes rows under a new run id. So a day's figures are those of its latest run (summed over that
run's rows), and the day is good only if every row of that run succeeded. A good day whose run
recorded a ``warning`` (issue 9: no rows where comparable days had many, a day at the edge of the
API's retention) is a day of its own, 'warning': green in Airflow, probably incomplete.

``warning`` and ``day_rows`` came with include/sql/sync_meta/003_empty_days.sql, which a warehouse
gets at its next run; until then the browser reads it without them (no warnings, no error).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from sync_apis.browser import catalog
from sync_apis.localday import LOCAL_TZ
from sync_apis.sql_files import query

STRIP_DAYS = 30
# The sync_runs columns a warehouse may not have yet (003_empty_days.sql applies at its next run).
OPTIONAL_COLUMNS = ("day_rows", "warning")
# A warning or error as a tooltip or one line shows it: the first sentence of each, at most this long.
SHORT_TEXT_CHARS = 320


@dataclass(frozen=True)
class DayCell:
    day: date
    status: str  # 'success', 'warning' (succeeded, probably incomplete), 'failed' or 'missing'
    rows: int
    dag_id: str | None
    run_id: str | None
    warning: str | None = None
    error: str | None = None
    """The failed rows' errors (a refused day's reason, an exception line)."""


@dataclass(frozen=True)
class StreamHealth:
    source: str
    stream: str
    last_success_day: date | None
    lag_days: int | None
    """Days between the last good day and yesterday (São Paulo); 0 = up to date."""
    last_run: dict[str, Any] | None
    strip: list[DayCell]


def yesterday_local(now: datetime | None = None) -> date:
    moment = now or datetime.now(LOCAL_TZ)
    return moment.astimezone(LOCAL_TZ).date() - timedelta(days=1)


def optional_columns(conn: psycopg.Connection[Any]) -> frozenset[str]:
    """Which of ``OPTIONAL_COLUMNS`` this warehouse's sync_runs has, from the catalog.

    Asked once per page, not once per process: a warehouse gains them at its next run, and the
    browser then shows warnings without a restart.
    """
    try:
        info = catalog.table_info(conn, "sync_meta", "sync_runs")
    except catalog.UnknownNameError:  # no sync_meta yet: the queries below say so as before
        return frozenset()
    return frozenset(c.name for c in info.columns) & frozenset(OPTIONAL_COLUMNS)


def _warnings_of(columns: frozenset[str]) -> sql.Composable:
    """The warnings of a group of sync_runs rows ``s``, or NULL where the column is missing: the
    ``warnings`` placeholder of health_latest_run_per_day.sql and health_newest_run_per_stream.sql."""
    if "warning" not in columns:
        return sql.SQL("NULL::text")
    return sql.SQL("string_agg(DISTINCT s.warning, ' | ')")


def short_text(text: str | None, limit: int = SHORT_TEXT_CHARS) -> str:
    """The first sentence of each ' | '-joined part (the rest says what to do, for the log),
    at most ``limit`` characters: what fits a tooltip or one line."""
    if not text:
        return ""
    firsts = [part.split(". ", 1)[0].rstrip(".") + "." for part in text.split(" | ")]
    joined = " | ".join(dict.fromkeys(firsts))
    return joined if len(joined) <= limit else joined[: limit - 1].rstrip() + "…"


# The names of health_newest_run_per_stream.sql's columns after source and stream, in its order.
_LAST_RUN_FIELDS = (
    "dag_id", "run_id", "day", "ok", "rows_received", "rows_inserted", "rows_updated",
    "rows_rejected", "api_total", "finished_at", "error", "warning",
)  # fmt: skip


def stream_health(conn: psycopg.Connection[Any], today_minus_one: date | None = None) -> list[StreamHealth]:
    yesterday = today_minus_one or yesterday_local()
    first = yesterday - timedelta(days=STRIP_DAYS)
    warnings = _warnings_of(optional_columns(conn))
    cells: dict[tuple[str, str], dict[date, DayCell]] = {}
    per_day = sql.SQL(query("browser/health_latest_run_per_day")).format(warnings=warnings)
    for source, stream, day, dag_id, run_id, ok, rows, warning, error in conn.execute(
        per_day, {"first": first, "last": yesterday}
    ):
        status = ("warning" if warning else "success") if ok else "failed"
        cell = DayCell(day, status, int(rows or 0), dag_id, run_id, warning if ok else None, error)
        cells.setdefault((source, stream), {})[day] = cell
    last_success = {(s, t): d for s, t, d in conn.execute(query("browser/health_last_success_day"))}
    newest_runs = sql.SQL(query("browser/health_newest_run_per_stream")).format(warnings=warnings)
    last_run = {
        (row[0], row[1]): dict(zip(_LAST_RUN_FIELDS, row[2:], strict=True))
        for row in conn.execute(newest_runs)
    }
    out = []
    for source, stream in sorted(set(cells) | set(last_success) | set(last_run)):
        by_day = cells.get((source, stream), {})
        strip = [
            by_day.get(d) or DayCell(d, "missing", 0, None, None)
            for d in (first + timedelta(days=i) for i in range(1, STRIP_DAYS + 1))
        ]
        good = last_success.get((source, stream))
        out.append(
            StreamHealth(
                source=source,
                stream=stream,
                last_success_day=good,
                lag_days=(yesterday - good).days if good else None,
                last_run=last_run.get((source, stream)),
                strip=strip,
            )
        )
    return out


def mark_failed_runs(streams: list[StreamHealth], states: dict[tuple[str, str], str]) -> list[StreamHealth]:
    """Days whose Airflow run failed (a check, or marked failed) turn red though their rows loaded."""
    out = []
    for s in streams:
        strip = [
            replace(c, status="failed")
            if c.dag_id and c.run_id and states.get((c.dag_id, c.run_id)) == "failed"
            else c
            for c in s.strip
        ]
        out.append(replace(s, strip=strip))
    return out


def run_rows(conn: psycopg.Connection[Any], dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """The run's sync_runs rows; ``day_rows`` and ``warning`` too where the warehouse has them."""
    have = optional_columns(conn)
    extra = [sql.Identifier(c) for c in OPTIONAL_COLUMNS if c in have]
    cur = conn.execute(
        sql.SQL(query("browser/health_run_rows")).format(
            extra=sql.SQL("").join(sql.SQL(", {}").format(c) for c in extra)
        ),
        {"dag_id": dag_id, "run_id": run_id},
    )
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def run_rejections(conn: psycopg.Connection[Any], run_id: str, limit: int = 200) -> list[dict[str, Any]]:
    cur = conn.execute(query("browser/health_run_rejections"), {"run_id": run_id, "limit": limit})
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
