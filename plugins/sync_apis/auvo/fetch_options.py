"""How an Auvo run fetches, beyond its Params: two ``[sync_apis]`` options, read at task time.

- ``auvo_updated_until_bound`` (default false): the tasks stream's "updated since" and
  ``GetDeletedTasks`` queries also send ``endDateLastUpdate`` = the end of the run's window.
  Without it an old day's query returns every task updated since that day, and the run throws
  away all but its own (requests grow with the day's age in a backfill). auvo-api.md documents
  the upper bound for tickets and service orders only (§4, §7) and is silent for tasks, so it is
  opt-in; the tasks loop keeps filtering on its own side either way, so an API that ignores the
  bound costs requests, never correctness.
- ``auvo_backfill_snapshot_reuse_minutes`` (default 60; 0 = off): a *backfill* run does not list
  a snapshot stream (users, teams, ...) again when a listing of it finished less than this long
  ago. A snapshot is the account's state now, whatever day the run loads, so every old day of a
  backfill would fetch the same lists again. Its ``sync_meta.sync_runs`` row says ``skipped``
  and which fetch it reused. Airflow hands a task no backfill id (its DagRun carries
  ``run_type``, not the backfill), so "this backfill" is this freshness window. Scheduled and
  manual runs always fetch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync_apis.warehouse import Load

CONFIG_SECTION = "sync_apis"
UPDATED_UNTIL_OPTION = "auvo_updated_until_bound"
SNAPSHOT_REUSE_OPTION = "auvo_backfill_snapshot_reuse_minutes"
DEFAULT_SNAPSHOT_REUSE_MINUTES = 60.0
BACKFILL = "backfill"  # DagRunType.BACKFILL_JOB's value


@dataclass(frozen=True)
class FetchOptions:
    # Send endDateLastUpdate with the tasks stream's updated-since and deletion queries.
    bound_updated: bool = False
    # Reuse a snapshot listed less than this long ago (backfill runs only); None = always list.
    reuse_snapshots_within: timedelta | None = None


def configured(run_type: Any) -> FetchOptions:
    """The options of a run of ``run_type`` (a ``DagRunType`` or its value) from ``[sync_apis]``."""
    from airflow.sdk import conf

    bound = conf.getboolean(CONFIG_SECTION, UPDATED_UNTIL_OPTION, fallback=False)
    minutes = conf.getfloat(CONFIG_SECTION, SNAPSHOT_REUSE_OPTION, fallback=DEFAULT_SNAPSHOT_REUSE_MINUTES)
    if minutes < 0:
        raise ValueError(f"[{CONFIG_SECTION}] {SNAPSHOT_REUSE_OPTION} must be >= 0, got {minutes}")
    backfill = str(getattr(run_type, "value", run_type)) == BACKFILL
    reuse = timedelta(minutes=minutes) if backfill and minutes > 0 else None
    return FetchOptions(bound_updated=bound, reuse_snapshots_within=reuse)


def reusable_snapshot(load: Load, source: str, stream: str, max_age: timedelta) -> str | None:
    """Why a snapshot run may reuse the last listing of ``stream`` (the sync_runs note), or None.

    Only a successful listing that returned records counts: an empty one (a 404 on page 1) is
    unconfirmed (auvo-api.md §3.3), and asking again costs a single request. Runs that reused a
    snapshot are ``skipped``, so a reuse never leans on another reuse. Runs inside the load's
    transaction: "ago" is measured from that transaction's start.
    """
    rows = load.query("auvo/reusable_snapshot", {"source": source, "stream": stream, "max_age": max_age})
    if not rows:
        return None
    ((run_id, finished_at, age),) = rows
    return reuse_note(run_id, finished_at, age, max_age)


def reuse_note(run_id: str, finished_at: datetime, age: timedelta, max_age: timedelta) -> str:
    return (
        f"reused snapshot fetched at {finished_at.isoformat(timespec='seconds')} by run {run_id} "
        f"({age.total_seconds() / 60:.1f} min before this run; a backfill run reuses a snapshot "
        f"younger than {max_age.total_seconds() / 60:g} min, [{CONFIG_SECTION}] {SNAPSHOT_REUSE_OPTION}); "
        "nothing fetched or written"
    )
