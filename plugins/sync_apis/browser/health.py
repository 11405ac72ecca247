"""Sync health from ``sync_meta.sync_runs``: where each source and stream stands, day by day.

A run writes one row per task x stream x day (several for mapped chunks); a re-run of a day
writes rows under a new run id. So a day's figures are those of its latest run (summed over that
run's rows), and the day is good only if every row of that run succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from sync_apis.localday import LOCAL_TZ

STRIP_DAYS = 30


@dataclass(frozen=True)
class DayCell:
    day: date
    status: str  # 'success', 'failed' or 'missing'
    rows: int
    dag_id: str | None
    run_id: str | None


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


_PER_DAY = """
WITH latest AS (
    SELECT source, stream, day, dag_id, run_id, max(finished_at) AS finished_at
    FROM sync_meta.sync_runs
    WHERE day IS NOT NULL
    GROUP BY source, stream, day, dag_id, run_id
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY source, stream, day ORDER BY finished_at DESC) AS n
    FROM latest
)
SELECT r.source, r.stream, r.day, r.dag_id, r.run_id,
       bool_and(s.status = 'success') AS ok,
       sum(s.rows_received)::bigint AS rows_received
FROM ranked r
JOIN sync_meta.sync_runs s
  ON s.source = r.source AND s.stream = r.stream AND s.day = r.day AND s.run_id = r.run_id
WHERE r.n = 1 AND r.day > %s AND r.day <= %s
GROUP BY r.source, r.stream, r.day, r.dag_id, r.run_id
"""

_LAST_SUCCESS = """
SELECT source, stream, max(day) FROM sync_meta.sync_runs
WHERE status = 'success' AND day IS NOT NULL GROUP BY source, stream
"""

# The newest run of each stream, its rows summed (a mapped task writes one row per chunk).
_LAST_RUN = """
WITH newest AS (
    SELECT DISTINCT ON (source, stream) source, stream, run_id, dag_id
    FROM sync_meta.sync_runs ORDER BY source, stream, finished_at DESC
)
SELECT s.source, s.stream, n.dag_id, n.run_id, min(s.day) AS day,
       bool_and(s.status = 'success') AS ok,
       sum(s.rows_received)::bigint, sum(s.rows_inserted)::bigint, sum(s.rows_updated)::bigint,
       sum(s.rows_rejected)::bigint, sum(s.api_total)::bigint, max(s.finished_at),
       string_agg(DISTINCT s.error, '; ')
FROM sync_meta.sync_runs s JOIN newest n USING (source, stream, run_id)
GROUP BY s.source, s.stream, n.dag_id, n.run_id
"""

_LAST_RUN_FIELDS = (
    "dag_id", "run_id", "day", "ok", "rows_received", "rows_inserted", "rows_updated",
    "rows_rejected", "api_total", "finished_at", "error",
)  # fmt: skip


def stream_health(conn: psycopg.Connection[Any], today_minus_one: date | None = None) -> list[StreamHealth]:
    yesterday = today_minus_one or yesterday_local()
    first = yesterday - timedelta(days=STRIP_DAYS)
    cells: dict[tuple[str, str], dict[date, DayCell]] = {}
    for source, stream, day, dag_id, run_id, ok, rows in conn.execute(_PER_DAY, (first, yesterday)):
        status = "success" if ok else "failed"
        cells.setdefault((source, stream), {})[day] = DayCell(day, status, int(rows or 0), dag_id, run_id)
    last_success = {(s, t): d for s, t, d in conn.execute(_LAST_SUCCESS)}
    last_run = {
        (row[0], row[1]): dict(zip(_LAST_RUN_FIELDS, row[2:], strict=True)) for row in conn.execute(_LAST_RUN)
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
    cur = conn.execute(
        "SELECT source, stream, day, task_id, map_index, try_number, status, requests, pages, retries, "
        "rows_received, rows_inserted, rows_updated, rows_rejected, rows_deleted, api_total, "
        "round(duration_s::numeric, 2) AS duration_s, error "
        "FROM sync_meta.sync_runs WHERE dag_id = %s AND run_id = %s "
        "ORDER BY source, stream, day, task_id, map_index",
        (dag_id, run_id),
    )
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def run_rejections(conn: psycopg.Connection[Any], run_id: str, limit: int = 200) -> list[dict[str, Any]]:
    cur = conn.execute(
        "SELECT id, source, stream, day, reason, raw, received_at FROM sync_meta.rejected_records "
        "WHERE run_id = %s ORDER BY id LIMIT %s",
        (run_id, limit),
    )
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
