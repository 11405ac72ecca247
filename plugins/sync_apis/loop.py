"""The one extract-and-load loop: records -> parse -> reject -> COPY into the stage -> merge.

Auvo's streams (``auvo/sync.py``), e-Track's history and latest snapshot (``etrac/sync.py``)
and the adoption of the old Auvo tables (``auvo/legacy.py``) all load through a ``Feed``::

    with open_load(conn, run) as load:
        feed = Feed(load, stream.table, hook)
        records = feed.fetch(lambda: hook.history(plate, day))   # counts the requests it spent
        feed.copy(feed.rows(records, build))                     # rejected records kept, with why
        feed.merge()
        feed.finish()                                            # the sync_runs row, same transaction

A row builder takes one record and returns the COPY tuple of the stream's table (the stream
tables say how: ``auvo.parse.to_row``, ``etrac.streams.Stream.row``) or raises
``sync_apis.rejected.Rejected``. What varies per source stays with the caller: what to fetch,
what a rejection's reason adds (``note``), what to delete after a complete answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from sync_apis.http import RequestStats
from sync_apis.rejected import Rejected
from sync_apis.warehouse import Load, MergeResult, RunSummary, Stage, Table

T = TypeVar("T")
K = TypeVar("K")

Build = Callable[[Any], tuple[Any, ...]]
# (the Rejected, the record as received) -> (reason, raw) to keep in sync_meta.rejected_records.
Note = Callable[[Rejected, Any], tuple[str, Any]]


class CountsRequests(Protocol):
    """A hook: both APIs' hooks expose their requests so (``AuvoHook.stats``, ``EtracHook.stats``)."""

    @property
    def stats(self) -> RequestStats: ...


def as_received(exc: Rejected, record: Any) -> tuple[str, Any]:
    """The default note: the builder's reason; what it chose to keep, else the record itself."""
    return exc.reason, record if exc.raw is None else exc.raw


class Feed:
    """One stream's extract-and-load inside one ``Load``: its stage, what it received, rejected,
    fetched in how many pages and requests."""

    def __init__(self, load: Load, table: Table, hook: CountsRequests | None = None) -> None:
        self.load = load
        self.stage: Stage = load.stage(table)
        self.hook = hook
        self.spent = RequestStats()
        self.pages = 0
        self.received = 0
        self.rejected = 0

    def fetch(self, call: Callable[[], T]) -> T:
        """One answer of the API (a page): ``call()``, its requests counted against this stream."""
        assert self.hook is not None, "a Feed without a hook fetches nothing"
        before = self.hook.stats
        answer = call()
        self.spent = self.spent + (self.hook.stats - before)
        self.pages += 1
        return answer

    def rows(self, records: Iterable[Any], build: Build, note: Note = as_received) -> list[tuple[Any, ...]]:
        """The COPY rows of ``records``; those ``build`` rejects are kept with ``note``'s reason.

        Parsed whole before any COPY: rejections are written on the load's connection, which
        must not be in the middle of a COPY when they are.
        """
        rows: list[tuple[Any, ...]] = []
        append = rows.append  # the hot loop of e-Track's ~1.5 M positions a day
        received = 0
        for record in records:
            received += 1
            try:
                append(build(record))
            except Rejected as exc:
                self.rejected += 1
                self.load.reject(*note(exc, record))
        self.received += received
        return rows

    def copy(self, rows: Sequence[tuple[Any, ...]]) -> int:
        return self.stage.copy(rows)

    def merge(self, *, only_new: bool = False) -> MergeResult:
        return self.stage.merge(only_new=only_new)

    def finish(self, **details: Any) -> RunSummary:
        """The stream's sync_runs row (same transaction as its rows): its requests, pages and
        records received, plus ``details`` (``Load.finish``'s optional fields)."""
        return self.load.finish(
            requests=self.spent.requests,
            pages=self.pages,
            retries=self.spent.retries,
            waited_s=self.spent.waited_s,
            rows_received=details.pop("rows_received", self.received),
            **details,
        )


def prefetched(keys: Sequence[K], fetch: Callable[[K], T]) -> Iterator[tuple[K, T]]:
    """``(key, fetch(key))`` for each key in order, the next key's fetch already under way.

    While the caller parses and COPYs one answer, one background thread waits on the API for
    the next: the socket's wait (the API composing its answer) no longer adds to the loader's
    time. Only that thread ever calls ``fetch``, one call at a time, so a hook's session, its
    pacing and its request counts see exactly the sequence they would see without it; at most
    two answers are in memory. A failed fetch raises here, at its turn; if the caller stops
    early, the call under way is waited for and its answer dropped.
    """
    if not keys:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-apis-prefetch") as pool:
        ahead: Future[T] = pool.submit(fetch, keys[0])
        for index, key in enumerate(keys):
            answer = ahead.result()
            if index + 1 < len(keys):
                ahead = pool.submit(fetch, keys[index + 1])
            yield key, answer
