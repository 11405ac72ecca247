"""How fast etrac_daily asks e-Track: as fast as it answers, unless an operator says otherwise.

e-Track documents no rate limit (etrac-api.md, "Rate limits: none known"), so pacing a healthy
API by default only sleeps: at the old 120 requests/min per task a dense 1,000-vehicle day
spent ≥ 1,000 s waiting (bench/results.md). A limit that does exist shows as a 429 with
``Retry-After``, which the HTTP policy waits out (``sync_apis.http``). Where an operator wants a
ceiling anyway, ``[sync_apis] etrac_requests_per_minute`` (per task) sets the default of the
DAG's ``requests_per_minute`` Param, for scheduled runs too. Parse-time safe: configuration
only, no database.
"""

from __future__ import annotations

CONFIG_OPTION = "etrac_requests_per_minute"
UNPACED = 0


def configured_requests_per_minute() -> int:
    """``[sync_apis] etrac_requests_per_minute``: requests per minute per task; 0 = unpaced."""
    from airflow.sdk import conf

    value = conf.getint("sync_apis", CONFIG_OPTION, fallback=UNPACED)
    if value < 0:
        raise ValueError(f"[sync_apis] {CONFIG_OPTION} must be >= 0 (0 = unpaced), got {value}")
    return value
