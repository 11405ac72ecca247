"""The generic extract-and-load loop for Auvo streams (``auvo/dag_tasks.py`` adapts it to Airflow).

One stream task = one ``open_load`` transaction: pages are parsed and COPYed into a staging
table as they arrive, merged once, then bookkeeping (watermark, deletions, the sync_runs row)
commits with the data. A kill at any point leaves the warehouse as it was; a re-run converges.

What a run loads for its local day D = [start, end) (the warehouse contract: README, "What is synced"):

- ``tasks``: every task whose ``taskDate`` is in D; every task with ``dateLastUpdate`` in
  [start - overlap, end) and a ``taskDate`` in the bounded range around D (``task_range.py``:
  the API needs startDate/endDate, auvo-api.md §7); every task deleted in that window
  (``GET tasks/GetDeletedTasks``, same range) gets ``deleted_at``. With ``[sync_apis]
  auvo_updated_until_bound`` both queries also send the window's end (``fetch_options.py``).
- ``customers``: ``dateLastUpdate`` >= the stored watermark - overlap (all of them the first time).
- ``expenses``: expenses dated in D; a complete listing marks the day's missing ones deleted.
- the snapshot entities: the full list; only a *complete* listing (stop signal reached and
  ``totalItems`` matched) marks missing ids deleted. A backfill run reuses a listing finished
  moments ago instead (``fetch_options.py``; its run is recorded as ``skipped``).

Older never overwrites newer, whatever order deep or concurrent backfills merge in: tasks and
customers merge by their ``date_last_update`` stamp (``Table.version_column``), deletions
included; a snapshot is written only if no other run wrote that stream after this one began
fetching (``Load.superseded_by``), otherwise the run is recorded as ``skipped``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from psycopg import sql

from sync_apis.auvo.fetch_options import FetchOptions, reusable_snapshot
from sync_apis.auvo.hook import DEFAULT_POLICY, AuvoHook, Listing
from sync_apis.auvo.parse import api_time, local_time, to_row
from sync_apis.auvo.streams import (
    BY_NAME,
    DELETED_TASKS_PATH,
    SOURCE,
    STREAM_PARALLELISM,
    Mode,
    Stream,
    column_for,
)
from sync_apis.auvo.tables import table_of
from sync_apis.auvo.task_range import TaskRange, taskdate_filter
from sync_apis.empty_days import (
    DayWarning,
    Thresholds,
    announce,
    combined,
    day_expectation,
    judge,
    recent_runs,
    runs_expectation,
    synced_days,
)
from sync_apis.http import ApiError, HttpPolicy, Pacer, TokenBucket
from sync_apis.loop import Feed
from sync_apis.progress import Progress
from sync_apis.ratelimit import pacer_for
from sync_apis.sql_files import statement
from sync_apis.warehouse import Load, RunInfo, RunSummary, Stage, open_load

log = logging.getLogger(__name__)

# The API's documented budget is 400 requests/minute per egress IP (§6.1). We aim under it.
API_BUDGET_PER_MINUTE = 400
BUDGET_SAFETY = 0.9
# dateLastUpdate has whole seconds, and whether its filter means ">=" or ">" is undocumented
# (auvo-api.md §7, §8.5). Asking from one second earlier includes the boundary either way; the
# tasks loop then drops what precedes its window, the customer upsert ignores unchanged rows.
UPDATED_SINCE_SLACK = timedelta(seconds=1)


class IncompleteListingError(ApiError):
    """The API's pages did not add up to its own totalItems: retry rather than load a hole."""


# --------------------------------------------------------------------------- pacing

_pacers: dict[float, Pacer] = {}
_pacers_lock = threading.Lock()


def per_task_rate(budget_per_minute: float, parallelism: int = STREAM_PARALLELISM) -> float:
    """Requests/minute one task process may use so ``parallelism`` tasks stay under the budget."""
    return max(1.0, budget_per_minute * BUDGET_SAFETY / max(1, parallelism))


def process_pacer(requests_per_minute: float) -> Pacer:
    """One token bucket per process and rate, shared by every hook in it (``dag.test()`` runs
    all tasks in one process). Swappable: a shared Redis budget only has to be a ``Pacer``."""
    with _pacers_lock:
        pacer = _pacers.get(requests_per_minute)
        if pacer is None:
            pacer = _pacers[requests_per_minute] = TokenBucket(requests_per_minute)
        return pacer


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Window:
    """The run's local day [start, end), the overlap for updated-since queries, the taskDate
    range those queries cover for tasks, and the ``[sync_apis]`` fetch options."""

    day: date
    start: datetime
    end: datetime
    overlap: timedelta
    task_range: TaskRange = field(default_factory=TaskRange)
    fetch: FetchOptions = field(default_factory=FetchOptions)

    @property
    def since(self) -> datetime:
        return self.start - self.overlap

    def day_filter(self) -> dict[str, str]:
        # Full timestamps, end inclusive to the second (§2: "always send full timestamps").
        return taskdate_filter(self.day, self.day)


@dataclass
class StreamResult:
    summary: RunSummary
    complete: bool
    warnings: list[DayWarning] = field(default_factory=list)

    def line(self) -> str:
        return self.summary.line()


# --------------------------------------------------------------------------- the loop


class StreamRun:
    """Extract-and-load of one stream for one window, inside one Load."""

    def __init__(self, stream: Stream, hook: AuvoHook, load: Load, window: Window, logger: Any) -> None:
        self.stream = stream
        self.hook = hook
        self.load = load
        self.window = window
        self.log = logger
        self.table = table_of(stream)
        self.received = 0
        self.pages = 0
        self.max_cursor: datetime | None = None
        # Why nothing was written: a newer snapshot won, or a recent listing was reused.
        self.skipped: str | None = None
        # Records of the run's own slice (the day's listing, a snapshot's listing): what the
        # empty-day check compares across runs. None for streams it does not check.
        self.day_rows: int | None = None
        # Records fetched but left out by ``keep`` (tasks updated after the run's day).
        self.left_out = 0

    def _stats(self) -> tuple[int, float]:
        s = self.hook.stats
        return s.retries, s.paced_s

    def copy_listing(self, feed: Feed, listing: Listing, what: str, keep: Any = None) -> Listing:
        """Stream every page of ``listing`` into ``feed`` (optionally only records ``keep`` accepts)."""
        progress = Progress(self.log, what, unit="pages", stats=self._stats)
        for items in self._copy_pages(feed, listing, keep):
            progress.total = listing.paginator.pages_expected
            progress.step(1, rows=len(items))
        progress.summary(
            api_total=listing.total_items if listing.total_items is not None else "n/a",
            stop=listing.paginator.stop_reason,
            complete="yes" if listing.complete else "no",
        )
        return listing

    def _copy_pages(self, feed: Feed, listing: Listing, keep: Any) -> Iterator[list[Any]]:
        """COPY each page of ``listing`` into ``feed``'s stage; yields the page's records after."""
        for items in listing.pages():
            self.received += len(items)
            self.pages += 1
            chosen = [r for r in items if keep is None or keep(r)]
            self.left_out += len(items) - len(chosen)
            feed.copy(feed.rows(chosen, self._row))
            yield items

    def copy_windows(
        self, feed: Feed, path: str, param_filter: dict[str, Any], what: str, keep: Any = None
    ) -> None:
        """``param_filter`` over every taskDate window of the run's range, each listing checked
        complete; one progress line for them all (most windows are a single 404)."""
        windows = self.window.task_range.windows(self.window.day)
        what = f"{what} in taskDate {windows[0][0]}..{windows[-1][1]}"
        progress = Progress(self.log, what, total=len(windows), unit="windows", stats=self._stats)
        for first, last in windows:
            listing = self._listing(path, {**taskdate_filter(first, last), **param_filter})
            rows = sum(len(items) for items in self._copy_pages(feed, listing, keep))
            self.require_complete(listing, f"{what}: window {first}..{last}")
            progress.step(1, rows=rows)
        progress.summary(window_days=self.window.task_range.window_days, complete="yes")

    def _row(self, record: Any) -> tuple[Any, ...]:
        """The record's row (``Rejected`` when unusable); a kept record moves the cursor."""
        row = to_row(self.stream, record)
        cursor_field = self.stream.cursor_field
        if cursor_field:
            seen = local_time(record.get(cursor_field))
            if seen is not None and (self.max_cursor is None or seen > self.max_cursor):
                self.max_cursor = seen
        return row

    def require_complete(self, listing: Listing, what: str) -> None:
        pg = listing.paginator
        if pg.complete or pg.stop_reason.startswith("404 on page 1"):
            return
        raise IncompleteListingError(
            f"connection {self.hook.auvo_conn_id!r}: GET /{listing.path.strip('/')} ({what}): received "
            f"{pg.received} records but the API reported totalItems={pg.total_items} (stopped on: "
            f"{pg.stop_reason}); nothing was written, the task will retry",
            status=404 if pg.stop_reason.startswith("404") else 200,
            endpoint="/" + listing.path.strip("/"),
            connection=self.hook.auvo_conn_id,
        )

    # -- modes ----------------------------------------------------------------------------

    def run(self) -> tuple[int | None, bool]:
        """Returns (api_total to record, whether deletions could be decided)."""
        mode = self.stream.mode
        if mode is Mode.SNAPSHOT:
            return self._snapshot()
        if mode is Mode.UPDATED_SINCE:
            return self._updated_since()
        if mode is Mode.DAY:
            return self._day()
        return self._tasks()

    def decides_deletions(self, listing: Listing, stage: Stage) -> bool:
        """Whether a listing may mark missing ids deleted.

        It must have ended cleanly *and* hold as many different ids as the API counts: pages that
        shift while we read them can add up to ``totalItems`` with one id twice and one missing,
        and that missing id must not be deleted.
        """
        if not listing.complete:
            return False
        total = listing.total_items
        distinct = stage.distinct_keys()
        if total is not None and distinct < total:
            self.log.warning(
                "auvo.%s: %d different ids for totalItems=%d (records repeated across pages); "
                "no deletions decided",
                self.stream.name,
                distinct,
                total,
            )
            return False
        return True

    def _listing(self, path: str, param_filter: dict[str, Any]) -> Listing:
        return self.hook.listing(path, param_filter, page_size=self.stream.page_size)

    def _snapshot(self) -> tuple[int | None, bool]:
        max_age = self.window.fetch.reuse_snapshots_within
        if max_age is not None:
            self.skipped = reusable_snapshot(self.load, SOURCE, self.stream.name, max_age)
            if self.skipped:
                self.log.info("auvo.%s: %s", self.stream.name, self.skipped)
                return None, False
        feed = Feed(self.load, self.table)
        stage = feed.stage
        listing = self.copy_listing(feed, self._listing(self.stream.path, {}), f"auvo.{self.stream.name}")
        self.require_complete(listing, f"auvo.{self.stream.name}")
        self.day_rows = listing.paginator.received
        self.skipped = self.load.superseded_by()
        if self.skipped:
            self.log.warning("auvo.%s: %s", self.stream.name, self.skipped)
            return None, False
        stage.merge()
        if self.decides_deletions(listing, stage):
            stage.mark_missing_deleted()
        elif not listing.complete:
            self.log.warning(
                "auvo.%s: listing not confirmed complete (%s); no deletions decided",
                self.stream.name,
                listing.paginator.stop_reason,
            )
        return listing.total_items, listing.complete

    def _updated_since(self) -> tuple[int | None, bool]:
        watermark = self.load.get_watermark()
        param_filter: dict[str, Any] = {}
        if watermark is not None:
            param_filter["dateLastUpdate"] = api_time(watermark - self.window.overlap - UPDATED_SINCE_SLACK)
        what = f"auvo.{self.stream.name} since {param_filter.get('dateLastUpdate', 'the beginning')}"
        feed = Feed(self.load, self.table)
        listing = self.copy_listing(feed, self._listing(self.stream.path, param_filter), what)
        self.require_complete(listing, what)
        feed.merge()
        if self.max_cursor is not None:
            self.load.set_watermark(self.max_cursor)
        # The total of an updated-since query says nothing about the warehouse's row count.
        return None, listing.complete

    def _day(self) -> tuple[int | None, bool]:
        day_field = self.stream.day_field
        assert day_field is not None
        feed = Feed(self.load, self.table)
        stage = feed.stage
        what = f"auvo.{self.stream.name} {self.window.day}"
        listing = self.copy_listing(feed, self._listing(self.stream.path, self.window.day_filter()), what)
        self.require_complete(listing, what)
        self.day_rows = listing.paginator.received
        stage.merge()
        if self.decides_deletions(listing, stage):
            column = sql.Identifier(column_for(self.stream, day_field))
            stage.mark_missing_deleted(
                statement("auvo/in_window", column=column),
                {"start": self.window.start, "end": self.window.end},
            )
        return listing.total_items, listing.complete

    def _tasks(self) -> tuple[int | None, bool]:
        w = self.window
        feed = Feed(self.load, self.table)
        day = self.copy_listing(feed, self._listing(self.stream.path, w.day_filter()), f"auvo.tasks {w.day}")
        self.require_complete(day, f"auvo.tasks {w.day}")
        self.day_rows = day.paginator.received

        def updated_in_window(record: Any) -> bool:
            # Later changes belong to later runs. Both bounds are applied here whatever the API
            # did with them: the query starts UPDATED_SINCE_SLACK early, and the upper bound is
            # opt-in and of undocumented inclusiveness, when the API honours it at all.
            moment = local_time(record.get("dateLastUpdate")) if isinstance(record, dict) else None
            return moment is None or w.since <= moment < w.end

        # The windows bound taskDate only; dateLastUpdate selects, from one second early (above).
        updated = {"dateLastUpdate": api_time(w.since - UPDATED_SINCE_SLACK)}
        span = f"since {api_time(w.since)}"
        if w.fetch.bound_updated:
            # The window's end itself, not a second before: inclusive or exclusive, nothing of
            # the window is cut off (the boundary second is dropped by updated_in_window).
            updated["endDateLastUpdate"] = api_time(w.end)
            span += f" until {api_time(w.end)}"
        self.copy_windows(
            feed, self.stream.path, updated, f"auvo.tasks updated {span}", keep=updated_in_window
        )
        deleted = Feed(self.load, self.table)
        what = f"auvo.tasks deleted {span}"
        self.copy_windows(deleted, DELETED_TASKS_PATH, updated, what, keep=updated_in_window)
        if self.left_out:
            # Not lost: each belongs to the run of the day it changed on. Without an upper bound
            # the API honours, an old day fetches all of them, hence the note.
            self.log.info(
                "auvo.tasks %s: %d records changed after the day were fetched and left to the runs "
                "of the days they changed on",
                w.day,
                self.left_out,
            )
        # Write only after the last request: merging takes the source's lock, which concurrent
        # runs queue for, so it must never be held while waiting on the API.
        feed.merge()
        self.mark_tasks_deleted(deleted.stage)
        return day.total_items, day.complete

    def mark_tasks_deleted(self, stage: Stage) -> int:
        """Tasks listed by GetDeletedTasks: the deleted version wins, deleted_at is set once.

        ``deleted_at`` is the task's last ``dateLastUpdate`` (the deletion, as the API reports
        it), not now(): re-running the day writes the same value, so the run is idempotent.
        The row takes the deleted version (its ``date_last_update`` is the deletion), so an
        older live version merged later, by a run that fetched before the deletion, cannot
        resurrect it. Tasks never seen alive are inserted as tombstones so the deletion is on
        record.
        """
        result = stage.merge_tombstones(statement("auvo/task_deleted_at"))
        return result.inserted + result.updated


def check_day(
    load: Load, stream: Stream, run: RunInfo, day_rows: int | None, thresholds: Thresholds, logger: Any = log
) -> DayWarning | None:
    """The empty-day check of one stream run (``sync_apis.empty_days``); None when it looks normal.

    Day-scoped streams (tasks by taskDate, expenses by date) are compared with comparable days,
    snapshots with their last runs; the updated-since stream (customers) is not checked: a day
    without changes is normal.
    """
    if day_rows is None or not thresholds.enabled:
        return None
    if stream.mode is Mode.SNAPSHOT or run.day is None:
        expected = runs_expectation(recent_runs(load, SOURCE, stream.name, run.run_id))
    else:
        expected = day_expectation(synced_days(load, SOURCE, stream.name, run.day), run.day)
    what = stream.name.replace("_", " ")
    return judge(SOURCE, stream.name, run.day, day_rows, expected, thresholds, what=what, logger=logger)


def sync_stream(
    conn: Any,
    hook: AuvoHook,
    stream_name: str,
    window: Window,
    run: RunInfo,
    logger: Any = log,
    thresholds: Thresholds | None = None,
) -> StreamResult:
    """Load one stream for one window in one transaction; returns the run summary.

    ``thresholds``: of the empty-day check (defaults: ``Thresholds()``).
    """
    stream = BY_NAME[stream_name]
    before = hook.stats
    with open_load(conn, run) as load:
        job = StreamRun(stream, hook, load, window, logger)
        api_total, complete = job.run()
        day_rows = None if job.skipped else job.day_rows
        warning = check_day(load, stream, run, day_rows, thresholds or Thresholds(), logger)
        spent = hook.stats - before
        summary = load.finish(
            requests=spent.requests,
            pages=job.pages,
            retries=spent.retries,
            rows_received=job.received,
            api_total=api_total,
            waited_s=spent.waited_s,
            skipped=job.skipped,
            day_rows=day_rows,
            warning=combined([warning]),
        )
    logger.info("%s", summary.line())
    return StreamResult(summary, complete, announce([warning], logger))


# --------------------------------------------------------------------------- building blocks of a task


def make_hook(
    auvo_conn_id: str,
    *,
    budget_per_minute: float,
    policy: HttpPolicy = DEFAULT_POLICY,
    logger: Any = log,
) -> AuvoHook:
    """The hook a stream task uses: ``policy`` (the run's, ``dag_tasks.http_policy``) paced by
    the shared Redis budget when one is configured, else by this process's share of it."""
    pacer = pacer_for("auvo", conn_id=auvo_conn_id, fallback=process_pacer(per_task_rate(budget_per_minute)))
    return AuvoHook(auvo_conn_id, policy=policy, pacer=pacer, logger=logger)


def window_for(
    day: date,
    overlap_minutes: float,
    task_range: TaskRange | None = None,
    fetch: FetchOptions | None = None,
) -> Window:
    from sync_apis.localday import day_bounds

    start, end = day_bounds(day)
    overlap = timedelta(minutes=float(overlap_minutes))
    return Window(day, start, end, overlap, task_range or TaskRange(), fetch or FetchOptions())
