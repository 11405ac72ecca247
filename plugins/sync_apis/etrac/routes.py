"""e_track.routes: a vehicle's day computed in SQL from e_track.positions.

Per plate and local day: the number of fixes, first and last fix, distance (sum of haversine
legs between consecutive fixes, km, rounded to metres so a re-run computes the very same
value), maximum speed and the ordered points ``[{"t", "lat", "lon", "v"}]`` for a map.
Only rows whose values changed are rewritten, so re-running a day touches nothing.
"""

from __future__ import annotations

from datetime import date

from sync_apis import LOCAL_TZ_NAME
from sync_apis.localday import day_bounds
from sync_apis.warehouse import Load, MergeResult


def compute_routes(load: Load, day: date, plates: list[str] | None = None) -> tuple[int, int]:
    """Upsert the routes of ``day`` in the load's transaction, counted in the load; returns
    (inserted, updated)."""
    start, end = day_bounds(day)
    params = {"start": start, "end": end, "day": day, "plates": list(plates) if plates else None}
    load.lock_source()  # routes are e-Track's rows: merged under its lock, as the other tables
    # The points' "t" is rendered in the session zone: pin it so every run writes the same text.
    load.query("transaction_time_zone", {"time_zone": LOCAL_TZ_NAME})
    # A dense day's points are ~100 MB of jsonb: lz4 compresses them ~5x faster than the
    # default pglz (~1.5 s of a 1,000-vehicle day). Only where the server was built with it.
    load.query("e_track/prefer_lz4_toast")
    flags = [inserted for (inserted,) in load.query("e_track/compute_routes", params)]
    result = MergeResult(inserted=sum(1 for f in flags if f), updated=sum(1 for f in flags if not f))
    load.count_merged(result)
    return result.inserted, result.updated
