"""A vehicle's day: its route (simplified for the browser), stops, trips and the day's figures.

Stops are derived from the fixes: a run of consecutive fixes with the ignition off or speed 0
lasting at least ``STOP_MIN_MINUTES``. The line sent to the browser has at most ``MAX_POINTS``
points: longer days are thinned evenly, always keeping each stop's first and last fix, so the
stops stay where they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from sync_apis.localday import day_bounds
from sync_apis.sql_files import query

STOP_MIN_MINUTES = 5
MAX_POINTS = 2000


@dataclass(frozen=True)
class Fix:
    t: datetime
    lat: float
    lon: float
    speed: float | None
    ignition: bool | None

    @property
    def stopped(self) -> bool:
        return self.ignition is False or (self.speed or 0) == 0


def plates(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(query("browser/vehicle_plates")).fetchall()
    return [str(p) for (p,) in rows]


def day_fixes(conn: psycopg.Connection[Any], plate: str, day: date) -> list[Fix]:
    start, end = day_bounds(day)
    rows = conn.execute(
        query("browser/vehicle_positions_of_day"), {"plate": plate, "start": start, "end": end}
    ).fetchall()
    return [Fix(t, float(la), float(lo), None if v is None else float(v), ig) for t, la, lo, v, ig in rows]


def stops(fixes: list[Fix], min_minutes: float = STOP_MIN_MINUTES) -> list[tuple[int, int]]:
    """(first index, last index) of each stop long enough to show."""
    out = []
    i = 0
    while i < len(fixes):
        if not fixes[i].stopped:
            i += 1
            continue
        j = i
        while j + 1 < len(fixes) and fixes[j + 1].stopped:
            j += 1
        if (fixes[j].t - fixes[i].t).total_seconds() >= min_minutes * 60:
            out.append((i, j))
        i = j + 1
    return out


def simplify(n: int, keep: set[int], max_points: int = MAX_POINTS) -> list[int]:
    """Indexes to draw: all when few, else an even thinning plus ``keep`` (and first/last)."""
    if n <= max_points:
        return list(range(n))
    budget = max(max_points - len(keep) - 2, 2)
    step = n / budget
    chosen = {int(k * step) for k in range(budget)} | keep | {0, n - 1}
    return sorted(i for i in chosen if 0 <= i < n)


def vehicle_day(conn: psycopg.Connection[Any], plate: str, day: date) -> dict[str, Any]:
    fixes = day_fixes(conn, plate, day)
    spans = stops(fixes)
    keep = {i for span in spans for i in span}
    drawn = simplify(len(fixes), keep)
    route = conn.execute(query("browser/vehicle_route_of_day"), {"plate": plate, "day": day}).fetchone()
    start, end = day_bounds(day)
    trips = conn.execute(
        query("browser/vehicle_trips_of_day"), {"plate": plate, "start": start, "end": end}
    ).fetchall()
    driving_s = sum(int(t[3] or 0) for t in trips)
    return {
        "plate": plate,
        "day": day,
        "figures": {
            "points": route[0] if route else 0,
            "distance_km": route[1] if route else None,
            "max_speed": route[2] if route else None,
            "first_fix": route[3] if route else None,
            "last_fix": route[4] if route else None,
            "driving_minutes": round(driving_s / 60) if trips else None,
        },
        "points_total": len(fixes),
        "line": [[fixes[i].lat, fixes[i].lon, fixes[i].speed, fixes[i].t.isoformat()] for i in drawn],
        "stops": [
            {
                "lat": fixes[a].lat,
                "lon": fixes[a].lon,
                "start": fixes[a].t,
                "end": fixes[b].t,
                "minutes": round((fixes[b].t - fixes[a].t).total_seconds() / 60),
            }
            for a, b in spans
        ],
        "trips": [
            {
                "start": t[0],
                "end": t[1],
                "distance_km": t[2],
                "minutes": round((t[3] or 0) / 60),
                "from": t[4],
                "to": t[5],
            }
            for t in trips
        ],
    }
