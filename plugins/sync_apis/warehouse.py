"""Loading into PostgreSQL: COPY into staging, one merge, bookkeeping in the same transaction.

A load is one transaction on one connection::

    with open_load(conn, run) as load:
        stage = load.stage(TASKS)            # a temp table shaped like the target's columns
        for page in pages:
            stage.copy(rows_of(page))        # COPY, page by page: nothing accumulates in Python
        stage.merge()                        # one INSERT .. ON CONFLICT (key) DO UPDATE .. WHERE changed
        load.set_watermark(max_seen)
        load.finish(requests=..., pages=..., retries=..., rows_received=...)

Everything — rows, rejected records, the watermark and the ``sync_meta.sync_runs`` row — commits
together or not at all, so a task killed at any point leaves the warehouse as it was and a re-run
converges. Merges of one source take a transaction-level advisory lock, so concurrent runs of
different days (a backfill with ``--max-active-runs 3``) queue for the short merge step instead of
deadlocking on each other's rows, while their slow part (fetching and COPY) stays parallel.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, overload

import psycopg
from psycopg import postgres, sql
from psycopg.abc import Buffer
from psycopg.types.string import StrBinaryDumper

from sync_apis.sql_files import SQL_DIR, statement

_log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- descriptions


@dataclass(frozen=True)
class Table:
    """A warehouse table as the loader sees it.

    ``columns`` are the columns filled from staging, key included, in the order of the row
    tuples given to ``Stage.copy``. ``synced_at`` (and ``deleted_at`` when ``soft_delete``) are
    managed here and must not be listed.

    ``version_column`` names a loaded column that stamps a record's version (Auvo's
    ``date_last_update``). Merges then never replace a row with an *older* version, so a deep
    or concurrent backfill that fetched a record before a newer run did cannot undo that run:
    an incoming row replaces the stored one only when its stamp is later, or equal and its
    load began no earlier (``synced_at``). A NULL stamp is unknown, i.e. oldest: it never
    replaces a stamped row, and a stamped row always replaces it.
    """

    schema: str
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    soft_delete: bool = False
    synced_at: bool = True
    version_column: str | None = None
    # Every value of a row is None or of its column's own Python type (str for text, float for
    # double precision, an aware datetime for timestamptz, a dict or list for jsonb...): the
    # stage is then loaded with binary COPY, which spares PostgreSQL parsing every value from
    # text. Rows whose values may need PostgreSQL's text casts (a number as text, a naive
    # datetime) must leave it False.
    typed_rows: bool = False

    def __post_init__(self) -> None:
        missing = [k for k in self.key if k not in self.columns]
        if missing:
            raise ValueError(f"{self.qualified}: key columns {missing} are not among the loaded columns")
        if self.version_column is not None and self.version_column not in self.value_columns:
            raise ValueError(
                f"{self.qualified}: version column {self.version_column!r} is not a loaded non-key column"
            )
        managed = {"synced_at", "deleted_at"} & set(self.columns)
        if managed:
            raise ValueError(
                f"{self.qualified}: {sorted(managed)} are managed by the loader; don't list them"
            )

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def value_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in self.key)

    def not_older(self) -> sql.Composable:
        """ON CONFLICT condition: the incoming row (EXCLUDED) is not older than the stored (t).

        Always true without a ``version_column``.
        """
        if self.version_column is None:
            return sql.SQL("true")
        stamp = sql.Identifier(self.version_column)
        tie = sql.SQL("EXCLUDED.synced_at >= t.synced_at") if self.synced_at else sql.SQL("true")
        return statement(
            "warehouse/not_older",
            new=sql.SQL("EXCLUDED.{}").format(stamp),
            old=sql.SQL("t.{}").format(stamp),
            tie=tie,
        )


@dataclass
class RunInfo:
    """Which run, task and slice of data a load belongs to (the sync_runs row's identity)."""

    source: str
    stream: str
    day: date | None
    run_id: str
    dag_id: str
    task_id: str
    map_index: int = -1
    try_number: int = 1

    @classmethod
    def from_context(cls, context: Any, *, source: str, stream: str, day: date | None) -> RunInfo:
        ti = context["ti"]
        map_index = getattr(ti, "map_index", None)
        return cls(
            source=source,
            stream=stream,
            day=day,
            run_id=str(context["run_id"]),
            dag_id=str(ti.dag_id),
            task_id=str(ti.task_id),
            map_index=-1 if map_index is None else int(map_index),
            try_number=int(getattr(ti, "try_number", 1) or 1),
        )


@dataclass(frozen=True)
class MergeResult:
    inserted: int
    updated: int
    # Staged rows a newer stored version kept out (``Table.version_column``): what a late,
    # older fetch would have overwritten. Always 0 for tables without a version column.
    kept_newer: int = 0


@dataclass
class RunSummary:
    source: str
    stream: str
    day: date | None
    requests: int
    pages: int
    retries: int
    rows_received: int
    rows_inserted: int
    rows_updated: int
    rows_rejected: int
    rows_deleted: int
    api_total: int | None
    waited_s: float
    duration_s: float
    skipped: str | None = None
    # The records of the run's own slice, what the empty-day check compares (sync_runs.day_rows);
    # None when the stream is not checked. ``warning``: why the data is probably incomplete.
    day_rows: int | None = None
    warning: str | None = None

    def line(self) -> str:
        day = f" {self.day.isoformat()}" if self.day else ""
        total = f" (API total {self.api_total:,})" if self.api_total is not None else ""
        return (
            (
                f"{self.source}.{self.stream}{day}: received {self.rows_received:,}{total}, "
                f"inserted {self.rows_inserted:,}, updated {self.rows_updated:,}, "
                f"rejected {self.rows_rejected:,}, marked deleted {self.rows_deleted:,}; "
                f"{self.requests:,} requests, {self.pages:,} pages, {self.retries} retries, "
                f"waited {self.waited_s:.1f} s, {self.duration_s:.1f} s"
            )
            + (f"; skipped: {self.skipped}" if self.skipped else "")
            + (f"; WARNING: {self.warning}" if self.warning else "")
        )


# --------------------------------------------------------------------------- values


# json.dumps builds a new encoder for every call with options; one encoder, the same options.
_JSON_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":")).encode


def json_text(value: Any) -> str:
    """JSON for a jsonb column. PostgreSQL's jsonb cannot hold NUL, so it is dropped."""
    return _JSON_ENCODE(value).replace("\\u0000", "")


def _copy_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json_text(value)
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "")
    return value


# Binary COPY (``Table.typed_rows``) applies ``_copy_value``'s rules in the dumpers of the
# columns that need them, so the values of the other columns go to psycopg's C dumpers untouched
# and no Python runs per value for them.


class _NulFreeTextBinaryDumper(StrBinaryDumper):
    """text, binary: NUL dropped (PostgreSQL's text cannot hold it), as ``_copy_value`` does."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(obj.replace("\x00", ""))


class _JsonTextBinaryDumper(StrBinaryDumper):
    """jsonb, binary: what text COPY would send after ``_copy_value`` (a dict or list as
    ``json_text``, a str as JSON text without NUL), in the connection's encoding, behind
    jsonb's version byte."""

    oid = postgres.types["jsonb"].oid

    def dump(self, obj: Any) -> Buffer | None:
        # json_text drops NUL itself (the \u0000 escape); JSON text given as a str may hold it raw.
        text = obj.replace("\x00", "") if isinstance(obj, str) else json_text(obj)
        return b"\x01" + bytes(super().dump(text) or b"")


# --------------------------------------------------------------------------- statements

Params = Mapping[str, Any] | None


def _idents(names: Iterable[str]) -> sql.Composed:
    """``"a", "b"``: column names as a list of identifiers."""
    return sql.SQL(", ").join(map(sql.Identifier, names))


# --------------------------------------------------------------------------- loading


class Stage:
    """A temporary table on the load's connection, dropped at commit."""

    _counter = 0

    def __init__(self, load: Load, table: Table) -> None:
        self.load = load
        self.table = table
        Stage._counter += 1
        self.name = f"stage_{table.schema}_{table.name}_{Stage._counter}"
        self.ident = sql.Identifier(self.name)
        self.rows = 0
        self._types: list[int] | None = None  # the stage's column type oids, for binary COPY
        self._columns = _idents(table.columns)
        load.execute("warehouse/stage_create", stage=self.ident, columns=self._columns, target=table.ident)

    def copy(self, rows: Iterable[Sequence[Any]]) -> int:
        """COPY rows (tuples in ``table.columns`` order) into the stage; returns how many."""
        if self.table.typed_rows:
            return self._copy_binary(rows)
        n = 0
        stmt = statement("warehouse/stage_copy_text", stage=self.ident, columns=self._columns)
        with self.load._conn.cursor() as cur, cur.copy(stmt) as copy:
            for row in self._full_width(rows):
                copy.write_row([_copy_value(v) for v in row])
                n += 1
        self.rows += n
        return n

    def _copy_binary(self, rows: Iterable[Sequence[Any]]) -> int:
        """``copy`` for ``Table.typed_rows``: binary COPY typed by the stage's own columns."""
        n = 0
        with self.load._conn.cursor() as cur:
            if self._types is None:
                cur.execute(
                    statement("warehouse/stage_column_types", stage=self.ident, columns=self._columns)
                )
                self._types = [column.type_code for column in cur.description or ()]
            # Only this cursor's adapters: the load's other statements dump as before.
            cur.adapters.register_dumper(None, _NulFreeTextBinaryDumper)
            cur.adapters.register_dumper(None, _JsonTextBinaryDumper)
            stmt = statement("warehouse/stage_copy_binary", stage=self.ident, columns=self._columns)
            with cur.copy(stmt) as copy:
                copy.set_types(self._types)
                write_row = copy.write_row
                for row in self._full_width(rows):
                    write_row(row)
                    n += 1
        self.rows += n
        return n

    def _full_width(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        """The rows, refusing one whose width is not the table's: a short row would shift every
        later value into the wrong column."""
        width = len(self.table.columns)
        for row in rows:
            if len(row) != width:
                raise ValueError(f"{self.table.qualified}: row has {len(row)} values, expected {width}")
            yield row

    def distinct_keys(self) -> int:
        """How many different keys were staged (a listing's records may repeat a key)."""
        ((n,),) = self.load.query(
            "warehouse/stage_distinct_keys", stage=self.ident, key=_idents(self.table.key)
        )
        return int(n)

    def merge(self, *, only_new: bool = False) -> MergeResult:
        """Upsert the staged rows; the last staged row of each key wins; unchanged rows untouched.

        ``only_new`` inserts keys the table lacks and never rewrites an existing row: for a source
        that is not the authority for a record (e-Track's latest-position snapshot vs the day's
        history), so the two cannot overwrite each other back and forth.

        A soft-deleted row that is staged again comes back (``deleted_at`` cleared), subject to
        the table's ``version_column`` like any other change: an older version does not
        resurrect a record a newer one saw deleted (see ``merge_tombstones``).
        """
        t = self.table
        # Only rows whose content changed are rewritten: a re-run of the same day touches
        # nothing, and "updated" counts real changes.
        compared = [*t.value_columns, *(["deleted_at"] if t.soft_delete else [])]
        update_when: sql.Composable | None = None
        if compared and not only_new:
            changed = sql.SQL("ROW({}) IS DISTINCT FROM ROW({})").format(
                sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in compared),
                sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in compared),
            )
            update_when = sql.SQL("{} AND {}").format(changed, t.not_older())
        kept_newer = self._count_older_than_stored() if update_when is not None else 0
        result = self._upsert(sql.SQL("NULL::timestamptz") if t.soft_delete else None, update_when)
        result = MergeResult(result.inserted, result.updated, kept_newer)
        self.load.inserted += result.inserted
        self.load.updated += result.updated
        return result

    def merge_tombstones(self, deleted_at: sql.Composable) -> MergeResult:
        """Write the staged rows as deleted records, ``deleted_at`` computed per row by ``deleted_at``
        (an SQL expression over the staged columns, e.g. the deletion's stamp).

        Keys the table lacks are inserted as tombstones (counted inserted), so the deletion is on
        record; a live row takes the staged (deleted) version and ``deleted_at`` (counted deleted)
        unless it is newer by ``version_column``, so an old run's stale deletion cannot hide a
        newer version. A row already deleted keeps its first ``deleted_at``: re-running is a no-op.
        """
        t = self.table
        if not t.soft_delete:
            raise ValueError(f"{t.qualified} has no deleted_at column")
        result = self._upsert(deleted_at, sql.SQL("t.deleted_at IS NULL AND {}").format(t.not_older()))
        self.load.inserted += result.inserted
        self.load.deleted += result.updated
        return result

    def _count_older_than_stored(self) -> int:
        """How many staged keys (their last staged row) carry an older version than the stored row."""
        t = self.table
        if t.version_column is None:
            return 0
        self.load.lock_source()  # the same snapshot of the target as the merge that follows
        ((n,),) = self.load.query(
            "warehouse/merge_count_older",
            key=_idents(t.key),
            stage=self.ident,
            target=t.ident,
            match=self._same_key(),
            stamp=sql.Identifier(t.version_column),
        )
        return int(n)

    def _upsert(self, deleted_at: sql.Composable | None, update_when: sql.Composable | None) -> MergeResult:
        """INSERT the last staged row of each key; on conflict update when ``update_when`` holds
        (``None``: never). ``deleted_at``: the value written to the managed column, if any."""
        t = self.table
        self.load.lock_source()
        insert_cols = list(t.columns)
        select_vals: list[sql.Composable] = [sql.Identifier(c) for c in t.columns]
        if t.synced_at:
            insert_cols.append("synced_at")
            select_vals.append(sql.SQL("now()"))
        if deleted_at is not None:
            insert_cols.append("deleted_at")
            select_vals.append(deleted_at)
        sets = [
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in insert_cols if c not in t.key
        ]
        conflict: sql.Composable = sql.SQL("DO NOTHING")
        if update_when is not None and sets:
            conflict = sql.SQL("DO UPDATE SET {} WHERE {}").format(sql.SQL(", ").join(sets), update_when)
        ((inserted, updated),) = self.load.query(
            "warehouse/merge_upsert",
            target=t.ident,
            insert_cols=_idents(insert_cols),
            select_vals=sql.SQL(", ").join(select_vals),
            key=_idents(t.key),
            cols=self._columns,
            stage=self.ident,
            conflict=conflict,
        )
        return MergeResult(inserted=inserted, updated=updated)

    def mark_missing_deleted(
        self, where: sql.Composable | None = None, params: Mapping[str, Any] | None = None
    ) -> int:
        """Soft-delete target rows (optionally only those matching ``where``, an expression over
        ``t`` with its values in ``params``) absent from the stage.

        Call it only after a *complete* listing: an incomplete one would delete what it missed.
        """
        t = self.table
        if not t.soft_delete:
            raise ValueError(f"{t.qualified} has no deleted_at column")
        self.load.lock_source()
        n = self.load.execute(
            "warehouse/mark_missing_deleted",
            params,
            target=t.ident,
            scope=sql.SQL("true") if where is None else where,
            stage=self.ident,
            match=self._same_key(),
        )
        self.load.deleted += n
        return n

    def delete_missing(self, where: sql.Composable, params: Mapping[str, Any] | None = None) -> int:
        """Hard-delete target rows matching ``where`` whose key the stage lacks; returns how many.

        ``where`` is the scope the staged answer is complete for (e.g. "this plate-day"), written
        over the target aliased ``t`` (its values bound from ``params``); rows outside it are never
        touched. For tables without
        ``deleted_at`` whose source corrects a record by changing its key (e-Track moving a fix's
        coordinates): the stale twin goes. Call it only after a *complete* answer for the scope,
        in the load's transaction, so a failed or cut-short answer removes nothing.
        """
        self.load.lock_source()
        # A set difference, not NOT EXISTS: the file says why (88 percent of a chunk's time).
        n = self.load.execute(
            "warehouse/delete_missing",
            params,
            target=self.table.ident,
            keys=_idents(self.table.key),
            scope=where,
            stage=self.ident,
            match=self._same_key(),
        )
        self.load.deleted += n
        return n

    def _same_key(self) -> sql.Composable:
        """``s.k1 = t.k1 AND ...``: a staged row ``s`` and a target row ``t`` of the same key."""
        return sql.SQL(" AND ").join(
            sql.SQL("s.{0} = t.{0}").format(sql.Identifier(k)) for k in self.table.key
        )


class Load:
    """One transaction's worth of loading for one RunInfo; see the module docstring."""

    def __init__(self, conn: psycopg.Connection[Any], run: RunInfo) -> None:
        # Private: every statement of the load goes through its methods (``query``, ``execute``),
        # so nothing runs on its connection outside its transaction's bookkeeping.
        self._conn = conn
        self.run = run
        self.started_wall = datetime.now().astimezone()
        self.started = time.monotonic()
        self.inserted = 0
        self.updated = 0
        self.deleted = 0
        self.rejected = 0
        self.summary: RunSummary | None = None
        self._locked = False
        self._rejects: sql.Identifier | None = None

    def stage(self, table: Table) -> Stage:
        return Stage(self, table)

    def query(self, name: str, params: Params = None, /, **parts: sql.Composable) -> list[tuple[Any, ...]]:
        """Run ``include/sql/queries/<name>.sql`` in the load's transaction; its rows (none for a
        statement that returns none). ``parts`` fill the file's ``{placeholders}``."""
        with self._conn.cursor() as cur:
            cur.execute(statement(name, **parts), params)
            return cur.fetchall() if cur.description is not None else []

    def execute(self, name: str, params: Params = None, /, **parts: sql.Composable) -> int:
        """``query`` for a statement whose rows are not wanted: how many rows it touched."""
        with self._conn.cursor() as cur:
            cur.execute(statement(name, **parts), params)
            return cur.rowcount

    def execute_many(self, name: str, params: Iterable[Mapping[str, Any]]) -> None:
        """``execute`` once per parameter set (psycopg pipelines them)."""
        with self._conn.cursor() as cur:
            cur.executemany(statement(name), params)

    def lock_source(self) -> None:
        """Take the source's merge lock (held to the end of the load's transaction), once."""
        if not self._locked:
            self.query("warehouse/lock_source", {"lock": f"sync_apis.merge.{self.run.source}"})
            self._locked = True

    def superseded_by(self) -> str | None:
        """Why this load must not be written, or None.

        For full-listing snapshots, whose only version is *when* they were fetched: if another
        load of the same (source, stream) succeeded after this load's transaction began, that
        load may have fetched after this one did, so this one's rows and deletions may be older
        than what is stored. Called under the source's merge lock (taken here), which orders the
        decision with that load's commit. Every load that *is* written therefore began after the
        previous written one had finished: written snapshots never overlap in time and never go
        back. ``now()`` is this transaction's start, before its first request; ``finished_at``
        is written by the database's clock after the other load's last request, so worker clocks
        play no part.
        """
        self.lock_source()
        rows = self.query("warehouse/newer_snapshot", {"source": self.run.source, "stream": self.run.stream})
        if not rows:
            return None
        ((run_id, finished_at),) = rows
        return (
            f"a newer snapshot was written meanwhile (run {run_id}, finished {finished_at.isoformat()}, "
            "after this run began fetching); not merged, no deletions decided"
        )

    def reject(self, reason: str, raw: Any) -> None:
        """Keep a record we could not use, with why. The same record twice is kept once.

        Rejections wait in a temp table and reach ``sync_meta.rejected_records`` only under the
        source's merge lock (``flush_rejects``): two concurrent runs rejecting the same record
        would otherwise wait on each other's uncommitted row while one of them holds the lock.
        """
        self.rejected += 1
        if self._rejects is None:
            Stage._counter += 1
            self._rejects = sql.Identifier(f"rejects_{Stage._counter}")
            self.execute("warehouse/rejects_create", rejects=self._rejects)
        self.execute(
            "warehouse/rejects_buffer",
            {"reason": reason[:1000], "raw": json_text(raw)},
            rejects=self._rejects,
        )

    def flush_rejects(self) -> None:
        """Move buffered rejections into sync_meta.rejected_records (under the merge lock)."""
        if self._rejects is None:
            return
        self.lock_source()
        run = self.run
        self.execute(
            "warehouse/rejects_flush",
            {"source": run.source, "stream": run.stream, "day": run.day, "run_id": run.run_id},
            rejects=self._rejects,
        )
        self.execute("warehouse/rejects_clear", rejects=self._rejects)

    def get_watermark(self) -> datetime | None:
        rows = self.query("warehouse/watermark_get", {"source": self.run.source, "stream": self.run.stream})
        return rows[0][0] if rows else None

    def count_merged(self, result: MergeResult) -> None:
        """Count rows a merge outside ``Stage`` wrote (e.g. e-Track's routes, computed in SQL)."""
        self.inserted += result.inserted
        self.updated += result.updated

    def set_watermark(self, value: datetime, *, stream: str | None = None) -> None:
        """Advance the (source, stream) watermark; an older value (a backfill) never moves it back.

        ``stream``: another stream of the same source whose watermark this load completes (e-Track's
        routes task closes the day of ``history``); the load's own by default.
        """
        if value.tzinfo is None:
            raise ValueError("watermarks are timestamptz: pass an aware datetime")
        self.execute(
            "warehouse/watermark_advance",
            {
                "source": self.run.source,
                "stream": stream or self.run.stream,
                "value": value,
                "run_id": self.run.run_id,
            },
        )

    def finish(
        self,
        *,
        requests: int,
        pages: int,
        retries: int,
        rows_received: int,
        api_total: int | None = None,
        waited_s: float = 0.0,
        skipped: str | None = None,
        day_rows: int | None = None,
        warning: str | None = None,
    ) -> RunSummary:
        """Write the sync_runs row (same transaction as the data) and return the summary.

        ``skipped``: why nothing was written (``superseded_by``); the row's status is then
        'skipped' and ``error`` holds the reason. ``day_rows`` and ``warning``: what the
        empty-day check compared and found (``sync_apis.empty_days``).
        """
        self.flush_rejects()
        self.summary = RunSummary(
            source=self.run.source,
            stream=self.run.stream,
            day=self.run.day,
            requests=requests,
            pages=pages,
            retries=retries,
            rows_received=rows_received,
            rows_inserted=self.inserted,
            rows_updated=self.updated,
            rows_rejected=self.rejected,
            rows_deleted=self.deleted,
            api_total=api_total,
            waited_s=waited_s,
            duration_s=time.monotonic() - self.started,
            skipped=skipped,
            day_rows=day_rows,
            warning=warning,
        )
        status = "skipped" if skipped else "success"
        _write_run_row(self._conn, self.run, self.started_wall, status, self.summary, skipped)
        return self.summary


def _write_run_row(
    conn: psycopg.Connection[Any],
    run: RunInfo,
    started: datetime,
    status: str,
    s: RunSummary | None,
    error: str | None,
) -> None:
    values = {
        "run_id": run.run_id,
        "dag_id": run.dag_id,
        "task_id": run.task_id,
        "map_index": run.map_index,
        "source": run.source,
        "stream": run.stream,
        "day": run.day,
        "try_number": run.try_number,
        "status": status,
        "started_at": started,
        "duration_s": s.duration_s if s else (datetime.now().astimezone() - started).total_seconds(),
        "requests": s.requests if s else 0,
        "pages": s.pages if s else 0,
        "retries": s.retries if s else 0,
        "rows_received": s.rows_received if s else 0,
        "rows_inserted": s.rows_inserted if s else 0,
        "rows_updated": s.rows_updated if s else 0,
        "rows_rejected": s.rows_rejected if s else 0,
        "rows_deleted": s.rows_deleted if s else 0,
        "api_total": s.api_total if s else None,
        "waited_s": s.waited_s if s else 0.0,
        "error": error,
        "day_rows": s.day_rows if s else None,
        "warning": s.warning if s else None,
    }
    with conn.cursor() as cur:
        cur.execute(statement("warehouse/sync_run_record"), values)


class OpenTransactionError(RuntimeError):
    """``open_load`` was given a connection inside a transaction it did not open."""


@overload
def open_load(conn: psycopg.Connection[Any], run: RunInfo, /) -> AbstractContextManager[Load]: ...


@overload
def open_load(
    conn: psycopg.Connection[Any], run: RunInfo, other: RunInfo, /, *more: RunInfo
) -> AbstractContextManager[tuple[Load, ...]]: ...


def open_load(conn: psycopg.Connection[Any], *runs: RunInfo) -> AbstractContextManager[Any]:
    """One all-or-nothing load: a ``Load`` for one run, a tuple of them (one sync_runs row each,
    e.g. e-Track's positions and trips of a chunk) for several, all in one transaction.

    On failure every run gets its ``failed`` row with the error, not just the first. The
    connection must not be inside a transaction already: committing the caller's work here
    would make it part of (or commit it apart from) the load's all-or-nothing, so that is
    refused with ``OpenTransactionError`` before anything is written. The connection's
    ``autocommit`` is as the caller left it afterwards.
    """
    if not runs:
        raise TypeError("open_load needs at least one RunInfo")
    if len(runs) == 1:
        return _single(conn, runs[0])
    return _loads(conn, runs)


def open_loads(conn: psycopg.Connection[Any], *runs: RunInfo) -> AbstractContextManager[tuple[Load, ...]]:
    """``open_load`` for any number of runs, always yielding a tuple (one or more loads)."""
    return _loads(conn, runs)


@contextmanager
def _single(conn: psycopg.Connection[Any], run: RunInfo) -> Iterator[Load]:
    with _loads(conn, (run,)) as (load,):
        yield load


@contextmanager
def _loads(conn: psycopg.Connection[Any], runs: tuple[RunInfo, ...]) -> Iterator[tuple[Load, ...]]:
    status = conn.info.transaction_status
    if status != psycopg.pq.TransactionStatus.IDLE:
        streams = ", ".join(f"{r.source}.{r.stream}" for r in runs)
        raise OpenTransactionError(
            f"load of {streams}: the connection is inside a transaction ({status.name}); commit or "
            "roll it back first (or use an autocommit connection): a load is its own transaction"
        )
    # Autocommit for the block: conn.transaction() then opens a real transaction, not a
    # savepoint. The caller's setting comes back afterwards.
    caller_autocommit = conn.autocommit
    conn.autocommit = True
    loads = tuple(Load(conn, run) for run in runs)
    try:
        with conn.transaction():
            yield loads
            for load in loads:
                load.flush_rejects()
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        for load in loads:
            try:
                with conn.transaction():
                    _write_run_row(conn, load.run, load.started_wall, "failed", None, error)
            except Exception:  # the database itself may be what failed; the original error matters more
                run = load.run
                _log.warning("could not record the failed %s.%s run", run.source, run.stream, exc_info=True)
        raise
    finally:
        if not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            conn.autocommit = caller_autocommit


# --------------------------------------------------------------------------- schema files


def run_schema_files(conn: psycopg.Connection[Any], paths: Iterable[str]) -> list[str]:
    """Apply schema files (relative to include/sql), each in its own transaction."""
    applied = []
    for rel in paths:
        text = (SQL_DIR / rel).read_text(encoding="utf-8")
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(text.encode("utf-8"))
        applied.append(rel)
    return applied
