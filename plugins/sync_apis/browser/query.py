"""A table view as SQL: filters, free-text search, sort, keyset paging, counts, CSV.

Keyset paging: a page ends with a cursor holding the last row's sort value and key (as text);
the next page is ``WHERE (sort, key) > (cursor)`` under the same ``ORDER BY``, which an index on
the sort column (always on the key) answers in the same time on page 1 and page 30,000. OFFSET
would read and discard every earlier row.

Filter syntax (one per column, ``f.<column>=<value>``):
``>=v`` ``<=v`` ``>v`` ``<v`` ``=v`` ``!=v`` compare typed; ``NULL`` / ``!NULL``; on a time
column ``YYYY-MM-DD`` means that São Paulo day; on a text or JSON column anything else means
"contains" (case-insensitive); on other columns, equality.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from sync_apis.browser.catalog import Column, TableInfo
from sync_apis.localday import LOCAL_TZ_NAME
from sync_apis.sql_files import statement

EXACT_COUNT_LIMIT = 100_000
"""Above this many rows (catalog estimate) an unfiltered count is the estimate; a filtered count
stops here and says "more than"."""

MAX_PAGE = 500
_OPERATORS = (">=", "<=", "!=", ">", "<", "=")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CTID = "ctid"


class BadRequestError(ValueError):
    """The request cannot be answered as asked; the message says which parameter and why."""


@dataclass(frozen=True)
class View:
    """What a table page shows, parsed from the query string against the catalog."""

    table: TableInfo
    sort: str | None = None
    descending: bool = False
    filters: tuple[tuple[Column, str], ...] = ()
    search: str = ""
    after: tuple[str | None, ...] | None = None
    limit: int = 50

    @classmethod
    def from_params(cls, table: TableInfo, params: Mapping[str, str]) -> View:
        sort = params.get("sort") or None
        if sort is not None:
            table.column(sort)  # UnknownNameError for anything the catalog does not list
        direction = params.get("dir", "asc")
        if direction not in ("asc", "desc"):
            raise BadRequestError("dir must be 'asc' or 'desc'")
        filters = []
        for key, value in params.items():
            if key.startswith("f.") and value != "":
                filters.append((table.column(key[2:]), value))
        try:
            limit = int(params.get("limit", "50"))
        except ValueError:
            raise BadRequestError("limit must be a whole number") from None
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequestError(f"limit must be between 1 and {MAX_PAGE}")
        after = decode_cursor(params["after"]) if params.get("after") else None
        view = cls(
            table=table,
            sort=sort,
            descending=direction == "desc",
            filters=tuple(filters),
            search=params.get("q", "").strip(),
            after=after,
            limit=limit,
        )
        if after is not None and len(after) != len(view.order_columns):
            raise BadRequestError("after: the cursor does not belong to this table")
        return view

    # -- ordering --------------------------------------------------------------------------

    @property
    def key_columns(self) -> tuple[str, ...]:
        return self.table.key or (_CTID,)

    @property
    def sort_column(self) -> str:
        return self.sort or self.key_columns[0]

    def _ident(self, name: str) -> sql.Composable:
        return sql.SQL("ctid") if name == _CTID else sql.Identifier(name)

    @property
    def sort_is_key(self) -> bool:
        """Sorting by the key's leading column is the key order: the primary key index serves it."""
        return self.sort_column == self.key_columns[0]

    @property
    def order_columns(self) -> tuple[str, ...]:
        return self.key_columns if self.sort_is_key else (self.sort_column, *self.key_columns)

    def _order_by(self) -> sql.Composable:
        if self.sort_is_key:  # key columns are never NULL
            k = sql.SQL(" DESC" if self.descending else " ASC")
            return sql.SQL(", ").join(sql.Composed([self._ident(c), k]) for c in self.key_columns)
        d = sql.SQL(" DESC NULLS FIRST" if self.descending else " ASC NULLS LAST")
        k = sql.SQL(" DESC" if self.descending else " ASC")
        parts = [sql.Composed([self._ident(self.sort_column), d])]
        parts += [sql.Composed([self._ident(c), k]) for c in self.key_columns]
        return sql.SQL(", ").join(parts)

    # -- conditions ------------------------------------------------------------------------

    def where(self, *, with_cursor: bool) -> tuple[sql.Composable, list[Any]]:
        conds: list[sql.Composable] = []
        params: list[Any] = []
        for column, value in self.filters:
            cond, values = filter_condition(column, value)
            conds.append(cond)
            params += values
        if self.search:
            text_cols = [c for c in self.table.columns if c.is_text]
            if text_cols:
                pattern = contains_pattern(self.search)
                conds.append(
                    sql.SQL("({})").format(
                        sql.SQL(" OR ").join(sql.SQL("{} ILIKE %s").format(c.ident) for c in text_cols)
                    )
                )
                params += [pattern] * len(text_cols)
            else:
                conds.append(sql.SQL("false"))
        if with_cursor and self.after is not None:
            cond, values = self._after_condition()
            conds.append(cond)
            params += values
        if not conds:
            return sql.SQL(""), params
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conds), params

    def _after_condition(self) -> tuple[sql.Composable, list[Any]]:
        assert self.after is not None
        before = "<" if self.descending else ">"
        keys = sql.SQL(", ").join(self._ident(c) for c in self.key_columns)
        if self.sort_is_key:
            marks = sql.SQL(", ").join(sql.Placeholder() * len(self.after))
            return sql.SQL("(({}) {} ({}))").format(keys, sql.SQL(before), marks), list(self.after)
        sort_value, *key_values = self.after
        marks = sql.SQL(", ").join(sql.Placeholder() * len(key_values))
        s = self._ident(self.sort_column)
        if sort_value is None:
            # Rows whose sort value is NULL come last ascending, first descending.
            tail = sql.SQL("({} IS NULL AND ({}) {} ({}))").format(s, keys, sql.SQL(before), marks)
            if self.descending:
                tail = sql.SQL("({} OR {} IS NOT NULL)").format(tail, s)
            return tail, list(key_values)
        cond = sql.SQL("(({}, {}) {} (%s, {}))").format(s, keys, sql.SQL(before), marks)
        if not self.descending:
            cond = sql.SQL("({} OR {} IS NULL)").format(cond, s)
        return cond, [sort_value, *key_values]

    # -- statements ------------------------------------------------------------------------

    def page_query(self) -> tuple[sql.Composed, list[Any]]:
        """The page plus one row (to know whether there is a next page); cursor columns last."""
        where, params = self.where(with_cursor=True)
        cursor_cols = self.order_columns
        # Aliased: a second bare "placa" would make ORDER BY "placa" ambiguous.
        extras = sql.SQL(", ").join(
            sql.SQL("{}::text AS {}").format(self._ident(c), sql.Identifier(f"_sync_apis_cursor_{i}"))
            for i, c in enumerate(cursor_cols)
        )
        query = statement(
            "browser/table_page",
            cursor_columns=extras,
            table=self.table.ident,
            where=where,
            order=self._order_by(),
        )
        return query, [*params, self.limit + 1]

    def export_query(self) -> tuple[sql.Composed, list[Any]]:
        where, params = self.where(with_cursor=False)
        query = statement("browser/table_export", table=self.table.ident, where=where, order=self._order_by())
        return query, params

    @property
    def is_filtered(self) -> bool:
        return bool(self.filters or self.search)


def contains_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filter_condition(column: Column, value: str) -> tuple[sql.Composable, list[Any]]:
    """One column filter as SQL and its bound values (see the module docstring)."""
    c = column.ident
    if value == "NULL":
        return sql.SQL("{} IS NULL").format(c), []
    if value == "!NULL":
        return sql.SQL("{} IS NOT NULL").format(c), []
    for op in _OPERATORS:
        if value.startswith(op):
            operand = value[len(op) :].strip()
            sql_op = "IS DISTINCT FROM" if op == "!=" else op
            return sql.SQL("{} {} %s").format(c, sql.SQL(sql_op)), [operand]
    if column.is_time and _DAY.match(value):
        if column.data_type == "date":
            return sql.SQL("{} = %s::date").format(c), [value]
        if column.data_type == "timestamp with time zone":
            return (
                sql.SQL(
                    "{c} >= (%s::date)::timestamp AT TIME ZONE %s"
                    " AND {c} < (%s::date + 1)::timestamp AT TIME ZONE %s"
                ).format(c=c),
                [value, LOCAL_TZ_NAME, value, LOCAL_TZ_NAME],
            )
        return sql.SQL("{c} >= %s::date AND {c} < %s::date + 1").format(c=c), [value, value]
    if column.is_text:
        return sql.SQL("{} ILIKE %s").format(c), [contains_pattern(value)]
    if column.is_json:
        return sql.SQL("{}::text ILIKE %s").format(c), [contains_pattern(value)]
    return sql.SQL("{} = %s").format(c), [value]


# --------------------------------------------------------------------------- cursors


def encode_cursor(values: list[str | None]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[str | None, ...]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError):
        raise BadRequestError("after: not a cursor this browser made") from None
    if not isinstance(values, list) or not all(v is None or isinstance(v, str) for v in values):
        raise BadRequestError("after: not a cursor this browser made")
    return tuple(values)


# --------------------------------------------------------------------------- running


@dataclass
class Page:
    columns: list[str]
    rows: list[dict[str, Any]]
    next_cursor: str | None
    count: int
    count_is_estimate: bool
    count_is_lower_bound: bool = False
    keys: list[dict[str, str | None]] = field(default_factory=list)
    """Per row, the key values (as text) that open its record view."""


def fetch_page(conn: psycopg.Connection[Any], view: View) -> Page:
    query, params = view.page_query()
    cur = conn.execute(query, params)
    n_extra = len(view.order_columns)
    names = [d.name for d in (cur.description or [])][:-n_extra]
    raw_rows = cur.fetchall()
    has_next = len(raw_rows) > view.limit
    raw_rows = raw_rows[: view.limit]
    rows = [dict(zip(names, r[:-n_extra], strict=True)) for r in raw_rows]
    n_keys = len(view.key_columns)
    keys = [dict(zip(view.key_columns, r[len(r) - n_keys :], strict=True)) for r in raw_rows]
    next_cursor = encode_cursor(list(raw_rows[-1][-n_extra:])) if has_next and raw_rows else None
    count, estimate, lower = count_rows(conn, view)
    return Page(names, rows, next_cursor, count, estimate, lower, keys)


def count_rows(conn: psycopg.Connection[Any], view: View) -> tuple[int, bool, bool]:
    """(count, is an estimate, is a lower bound): exact where that is cheap, else the planner's.

    A big table (catalog estimate over ``EXACT_COUNT_LIMIT``) gets the catalog's ``reltuples``
    unfiltered and the planner's row estimate filtered: counting a filter that matches a few
    rows of 1.5 M means reading all 1.5 M, on every page. Small tables count exactly, capped.
    """
    where, params = view.where(with_cursor=False)
    if view.table.estimated_rows > EXACT_COUNT_LIMIT:
        if not view.is_filtered:
            return view.table.estimated_rows, True, False
        plan = conn.execute(
            statement("browser/table_count_estimate", table=view.table.ident, where=where), params
        ).fetchone()
        rows = int(plan[0][0]["Plan"]["Plan Rows"]) if plan else 0
        return rows, True, False
    query = statement("browser/table_count_capped", table=view.table.ident, where=where)
    row = conn.execute(query, [*params, EXACT_COUNT_LIMIT + 1]).fetchone()
    n = int(row[0]) if row else 0
    if n > EXACT_COUNT_LIMIT:
        return EXACT_COUNT_LIMIT, False, True
    return n, False, False


def fetch_record(
    conn: psycopg.Connection[Any], table: TableInfo, key: Mapping[str, str]
) -> dict[str, Any] | None:
    key_columns = table.key or (_CTID,)
    missing = [k for k in key_columns if k not in key]
    if missing:
        raise BadRequestError(f"record: missing key value(s) for {', '.join(missing)}")
    conds = sql.SQL(" AND ").join(
        sql.SQL("{} = %s").format(sql.SQL("ctid") if k == _CTID else sql.Identifier(k)) for k in key_columns
    )
    cur = conn.execute(
        statement("browser/table_record", table=table.ident, match=conds), [key[k] for k in key_columns]
    )
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d.name for d in cur.description or []], row, strict=True))


def iter_export(conn: psycopg.Connection[Any], view: View, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
    """Header then rows of the filtered view, read through a server-side cursor batch by batch."""
    query, params = view.export_query()
    with conn.cursor(name="sync_apis_browser_export") as cur:
        cur.execute(query, params)
        first = True
        while True:
            rows = cur.fetchmany(batch)
            if first:
                yield tuple(d.name for d in cur.description or [])
                first = False
            if not rows:
                return
            yield from rows
