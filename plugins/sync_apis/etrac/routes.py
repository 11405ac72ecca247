"""e_track.routes: a vehicle's day computed in SQL from e_track.positions.

Per plate and local day: the number of fixes, first and last fix, distance (sum of haversine
legs between consecutive fixes, km, rounded to metres so a re-run computes the very same
value), maximum speed and the ordered points ``[{"t", "lat", "lon", "v"}]`` for a map.
Only rows whose values changed are rewritten, so re-running a day touches nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import sql

from sync_apis import LOCAL_TZ_NAME
from sync_apis.localday import day_bounds
from sync_apis.sql_files import query


def compute_routes(conn: Any, day: date, plates: list[str] | None = None) -> tuple[int, int]:
    """Upsert the routes of ``day`` inside the caller's transaction; returns (inserted, updated)."""
    start, end = day_bounds(day)
    params: dict[str, Any] = {"start": start, "end": end, "day": day}
    plate_filter: sql.Composable = sql.SQL("")
    if plates:
        plate_filter = sql.SQL("AND placa = ANY(%(plates)s)")
        params["plates"] = list(plates)
    with conn.cursor() as cur:
        # The points' "t" is rendered in the session zone: pin it so every run writes the same text.
        cur.execute(sql.SQL("SET LOCAL timezone = {}").format(sql.Literal(LOCAL_TZ_NAME)))
        cur.execute(sql.SQL(query("e_track/compute_routes")).format(plate_filter=plate_filter), params)
        flags = [row[0] for row in cur.fetchall()]
    inserted = sum(1 for f in flags if f)
    return inserted, len(flags) - inserted
