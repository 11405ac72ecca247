"""Fleet now and Auvo day: each vehicle's last fix, and a day of field-service tasks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from sync_apis.localday import LOCAL_TZ, day_bounds
from sync_apis.sql_files import query

STALE_AFTER = timedelta(days=1)
TASK_STATUS = {
    1: {"pt": "Aberta", "en": "Opened"},
    2: {"pt": "Em deslocamento", "en": "In displacement"},
    3: {"pt": "Check-in", "en": "Checked in"},
    4: {"pt": "Check-out", "en": "Checked out"},
    5: {"pt": "Finalizada", "en": "Finished"},
    6: {"pt": "Pausada", "en": "Paused"},
}


def _rows(cur: psycopg.Cursor[Any]) -> list[dict[str, Any]]:
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def fleet(conn: psycopg.Connection[Any], now: datetime | None = None) -> list[dict[str, Any]]:
    """Every vehicle's last known position; ``stale`` when that fix is over a day old (or absent)."""
    moment = now or datetime.now(LOCAL_TZ)
    vehicles = _rows(conn.execute(query("browser/fleet_last_positions")))
    for v in vehicles:
        v["stale"] = v["data_transmissao"] is None or moment - v["data_transmissao"] > STALE_AFTER
    return vehicles


def day_tasks(conn: psycopg.Connection[Any], day: date, lang: str) -> list[dict[str, Any]]:
    start, end = day_bounds(day)
    tasks = _rows(conn.execute(query("browser/auvo_tasks_of_day"), {"start": start, "end": end}))
    for t in tasks:
        t["status_name"] = TASK_STATUS.get(t["task_status"] or 0, {}).get(lang, str(t["task_status"]))
    return tasks


def task_detail(conn: psycopg.Connection[Any], task_id: int, lang: str) -> dict[str, Any] | None:
    rows = _rows(conn.execute(query("browser/auvo_task"), {"task_id": task_id}))
    if not rows:
        return None
    task = rows[0]
    task["status_name"] = TASK_STATUS.get(task["task_status"] or 0, {}).get(lang, str(task["task_status"]))
    customers = _rows(conn.execute(query("browser/auvo_customer"), {"customer_id": task["customer_id"]}))
    raw = task.get("raw") or {}
    return {
        "task": task,
        "customer": customers[0] if customers else None,
        "questionnaires": raw.get("questionnaires") or [],
    }
