"""The deterministic Auvo world: what exists at the sandbox clock's now, and ground truth for tests.

Everything generated is a pure function of ``config.seed``, the world ``origin`` (first local day
of history), the size fields of ``AuvoConfig`` and ``now``: two servers with the same seed and
clock serve byte-identical data. Time moves the world forward: tasks get created, rescheduled,
finished or deleted (``tasks.py``), customers are added and edited (``customers.py``), snapshot
kinds churn (``snapshots.py``), expenses are registered (``expenses.py``). Nothing iterates over
unrelated history: each record carries its own seeded timeline, evaluated at now.

Tests change things between two sync runs with the mutation methods (``update_task``,
``delete_task``, ``update_customer``, ``update_entity``, ``remove_entity``, ``add_entity``). Each
mutation is stamped with the clock's now, takes effect for every ``now`` at or after that stamp,
and bumps ``dateLastUpdate`` (for kinds that have one) to that stamp.

How a consumer compares its warehouse with the ground truth
-----------------------------------------------------------
Every ground-truth method returns records exactly as the API serves them in the default
(``field_names="real"``) variant, at the clock's current now, as fresh copies:

- ``tasks_for_day(day)``: the live tasks whose ``taskDate`` falls on local ``day`` (list shape,
  sorted by ``taskID``). After syncing ``day`` the warehouse's non-deleted tasks with that task
  date must equal these, key ``taskID`` -> ``raw``; tasks the consumer soft-deleted must be in
  ``deleted_tasks``.
- ``task(task_id)``: the detail shape (adds ``reschedulingHistory``), or None when the API
  answers 404 (not created yet, deleted, unknown).
- ``deleted_tasks(since, until)``: what ``GetDeletedTasks`` lists for deletions in
  ``[since, until)``: the task as it was when deleted, with ``dateLastUpdate`` = deletion time.
- ``tasks_updated_between(a, b)``: live tasks with ``a <= dateLastUpdate < b``.
- ``customers()``, ``snapshot(kind)``: the complete current listing (sorted by key); compare the
  set of keys (ids missing here must be soft-deleted) and each record with ``raw``.
- ``expenses_for_day(day)``: the expenses whose ``date`` is on ``day`` and that are registered
  by now.
Timestamps are offset-less America/Sao_Paulo local strings; parse them as local time.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sandbox.auvo.config import AuvoConfig
from sandbox.auvo.customers import customer_count, customer_record, customer_state
from sandbox.auvo.expenses import expenses_on_day
from sandbox.auvo.formats import guid, local_naive, parse_ts, rng, ts
from sandbox.auvo.snapshots import ID_BASE, SNAPSHOT_KINDS, Ctx, Entity, churn_events, generate_kind
from sandbox.auvo.tasks import TASK_ID_BASE, TaskPlan, plan_task, plans_for_day, render_task, tasks_on_day
from sandbox.core import Clock

# Kinds a test may address in mutations, by their canonical API spelling.
MUTABLE_KINDS = ("tasks", "customers", *SNAPSHOT_KINDS)
_KIND_BY_LOWER = {k.lower(): k for k in (*MUTABLE_KINDS, "expenses")}


def canonical_kind(kind: str) -> str:
    """``"tasktypes"`` / ``"taskTypes"`` -> ``"taskTypes"``; KeyError for an unknown kind."""
    return _KIND_BY_LOWER[kind.lower()]


@dataclass
class TaskView:
    """A task at some now: live (``deleted_at`` None) or deleted (as it was at deletion)."""

    record: dict[str, Any]
    task_date: datetime
    deleted_at: datetime | None


@dataclass
class _Stamped:
    at: datetime
    fields: dict[str, Any]


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    """Datetimes given by a test become the API's offset-less local strings."""
    return {k: ts(v) if isinstance(v, datetime) else v for k, v in fields.items()}


class AuvoWorld:
    """The fake account's data as a function of the seed and ``clock.now()``."""

    def __init__(self, config: AuvoConfig, clock: Clock, origin: date) -> None:
        self.config = config
        self.clock = clock
        self._default_origin = origin
        self._lock = threading.RLock()
        self._cache_key: tuple[Any, ...] | None = None
        self._plans: dict[date, list[TaskPlan]] = {}
        self._rendered: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._entities: dict[tuple[str, int], list[Entity]] = {}
        self._customers: dict[tuple[int, int | None], dict[str, Any]] = {}
        # Mutations made by tests, each stamped with the clock's now when made.
        self._updates: dict[tuple[str, int | str], list[_Stamped]] = {}
        self._removed: dict[tuple[str, int | str], datetime] = {}
        self._added: dict[str, dict[int | str, _Stamped]] = {}
        self._task_deleted: dict[int, datetime] = {}

    # ------------------------------------------------------------------ basics

    @property
    def origin(self) -> date:
        return self.config.origin or self._default_origin

    def ctx(self) -> Ctx:
        key = (self.config.world_key(), self.origin)
        if key != self._cache_key:
            with self._lock:
                self._plans.clear()
                self._rendered.clear()
                self._entities.clear()
                self._customers.clear()
                self._cache_key = key
        return Ctx(self.config, self.origin)

    def now(self) -> datetime:
        """The clock's now as naive Sao Paulo local time (the API's notion of time)."""
        return local_naive(self.clock.now())

    # ------------------------------------------------------------------ tasks (internal)

    def _day_plans(self, ctx: Ctx, day: date) -> list[TaskPlan]:
        plans = self._plans.get(day)
        if plans is None:
            plans = plans_for_day(ctx, day)
            self._plans[day] = plans
        return plans

    def _plan(self, ctx: Ctx, task_id: int) -> TaskPlan | None:
        offset = task_id - TASK_ID_BASE - 1
        if offset < 0:
            return None
        day = ctx.origin + timedelta(days=offset // 1000)
        n = offset % 1000
        if n >= tasks_on_day(ctx, day):
            return None
        cached = self._plans.get(day)
        return cached[n] if cached is not None else plan_task(ctx, day, n)

    def _apply_updates(
        self, kind: str, key: int | str, record: dict[str, Any], now: datetime, stamp_field: str | None
    ) -> dict[str, Any]:
        updates = [u for u in self._updates.get((kind, key), ()) if u.at <= now]
        if not updates:
            return record
        record = dict(record)
        for update in updates:
            record.update(update.fields)
            if stamp_field is not None:
                current = parse_ts(str(record.get(stamp_field, "")))
                if current is None or current < update.at:
                    record[stamp_field] = ts(update.at)
        return record

    def _render(self, ctx: Ctx, plan: TaskPlan, at: datetime, detail: bool) -> dict[str, Any]:
        # The rendering only depends on which events have happened, so cache by that.
        events = (
            plan.delivered,
            plan.visualized,
            plan.rescheduled,
            plan.displacement,
            plan.check_in,
            plan.check_out,
            plan.paused,
        )
        key = (plan.task_id, detail, tuple(e is not None and e <= at for e in events))
        record = self._rendered.get(key)
        if record is None:
            record = render_task(ctx, plan, at, detail=detail)
            self._rendered[key] = record
        return record

    def task_view(
        self, task_id: int, now: datetime | None = None, *, detail: bool = False
    ) -> TaskView | None:
        """The task at ``now`` (default: the clock's), live or deleted; None if it does not exist."""
        ctx = self.ctx()
        return self._view(ctx, task_id, self._plan(ctx, task_id), now or self.now(), detail)

    def _view(
        self, ctx: Ctx, task_id: int, plan: TaskPlan | None, now: datetime, detail: bool
    ) -> TaskView | None:
        added = self._added.get("tasks", {}).get(task_id)
        if added is not None:
            if added.at > now:
                return None
            base = dict(added.fields)
            deleted = self._task_deleted.get(task_id)
            if deleted is not None and deleted <= now:
                base = self._apply_updates("tasks", task_id, base, deleted, "dateLastUpdate")
                base["dateLastUpdate"] = ts(deleted)
                return TaskView(base, _task_date(base), deleted)
            if not detail:
                base.pop("reschedulingHistory", None)
            base = self._apply_updates("tasks", task_id, base, now, "dateLastUpdate")
            return TaskView(base, _task_date(base), None)
        if plan is None or plan.created > now:
            return None
        deleted_candidates = [d for d in (plan.deleted, self._task_deleted.get(task_id)) if d is not None]
        deleted_at = min(deleted_candidates) if deleted_candidates else None
        if deleted_at is not None and deleted_at <= now:
            record = self._render(ctx, plan, deleted_at, detail)
            record = self._apply_updates("tasks", task_id, record, deleted_at, "dateLastUpdate")
            record = dict(record, dateLastUpdate=ts(deleted_at))
            return TaskView(record, _task_date(record), deleted_at)
        record = self._render(ctx, plan, now, detail)
        record = self._apply_updates("tasks", task_id, record, now, "dateLastUpdate")
        return TaskView(record, _task_date(record), None)

    def _task_candidates(
        self, ctx: Ctx, start: datetime, end: datetime, now: datetime
    ) -> Iterator[tuple[int, TaskPlan | None]]:
        """Tasks (id, plan) that might have a taskDate in [start, end] at now (a superset)."""
        shift = timedelta(days=ctx.config.max_reschedule_days + 1)
        first = max(ctx.origin, (start - shift).date())
        last = min((end + shift).date(), (now + timedelta(days=ctx.config.task_lead_days + 1)).date())
        day = first
        while day <= last:
            for plan in self._day_plans(ctx, day):
                if plan.created <= now:
                    yield plan.task_id, plan
            day += timedelta(days=1)
        # Tests may move a task anywhere, or add one: always consider those.
        seen_extra = {k for (kind, k) in self._updates if kind == "tasks"}
        seen_extra |= set(self._added.get("tasks", {}))
        for task_id in sorted(seen_extra, key=int):
            extra = self._plan(ctx, int(task_id)) if task_id not in self._added.get("tasks", {}) else None
            if extra is None or not (first <= extra.task_date.date() <= last):
                yield int(task_id), extra

    def task_views(
        self, start: datetime, end: datetime, *, deleted: bool, now: datetime | None = None
    ) -> list[TaskView]:
        """Tasks whose (current, or at deletion) taskDate is in [start, end], sorted by taskID."""
        ctx = self.ctx()
        now = now or self.now()
        out: dict[int, TaskView] = {}
        for task_id, plan in self._task_candidates(ctx, start, end, now):
            view = self._view(ctx, task_id, plan, now, False)
            if view is None or (view.deleted_at is not None) != deleted:
                continue
            if start <= view.task_date <= end:
                out[task_id] = view
        return [out[k] for k in sorted(out)]

    # ------------------------------------------------------------------ customers / snapshots

    def customer_records(self, now: datetime | None = None) -> list[dict[str, Any]]:
        ctx = self.ctx()
        now = now or self.now()
        out: list[dict[str, Any]] = []
        for index in range(customer_count(ctx, now)):
            state = customer_state(ctx, index, now)
            if state is None:
                continue
            key = (index, state.last_edit)
            record = self._customers.get(key)
            if record is None:
                record = customer_record(ctx, state)
                self._customers[key] = record
            out.append(record)
        return self._finish_kind("customers", out, "id", now, "dateLastUpdate")

    def entity_records(self, kind: str, now: datetime | None = None) -> list[dict[str, Any]]:
        """Current records of a snapshot kind (users, teams, ...), sorted by key."""
        kind = canonical_kind(kind)
        if kind == "customers":
            return self.customer_records(now)
        spec = SNAPSHOT_KINDS[kind]
        ctx = self.ctx()
        now = now or self.now()
        n_events = len(churn_events(ctx, kind, now))
        entities = self._entities.get((kind, n_events))
        if entities is None:
            entities = generate_kind(ctx, spec, now)
            self._entities[(kind, n_events)] = entities
        live = [e.record for e in entities if e.alive(now)]
        return self._finish_kind(kind, live, spec.key, now, None)

    def _finish_kind(
        self, kind: str, records: list[dict[str, Any]], key_field: str, now: datetime, stamp_field: str | None
    ) -> list[dict[str, Any]]:
        by_key: dict[Any, dict[str, Any]] = {}
        for record in records:
            by_key[record[key_field]] = record
        for key, added in self._added.get(kind, {}).items():
            if added.at <= now:
                by_key[key] = added.fields
        out = []
        for key, record in by_key.items():
            removed = self._removed.get((kind, key))
            if removed is not None and removed <= now:
                continue
            out.append(self._apply_updates(kind, key, record, now, stamp_field))
        return sorted(out, key=lambda r: (str(type(r[key_field])), r[key_field]))

    def expense_records(
        self, start: datetime, end: datetime, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        ctx = self.ctx()
        now = now or self.now()
        out = []
        day = max(ctx.origin, start.date())
        while day <= min(end.date(), now.date()):
            for plan in expenses_on_day(ctx, day):
                if plan.created <= now and start <= plan.when <= end:
                    out.append(plan.record)
            day += timedelta(days=1)
        return sorted(out, key=lambda r: r["id"])

    # ------------------------------------------------------------------ ground truth

    def tasks_for_day(self, day: date) -> list[dict[str, Any]]:
        """Live tasks whose taskDate is on local ``day`` at now, list shape, sorted by taskID."""
        start = datetime(day.year, day.month, day.day)
        end = start + timedelta(days=1) - timedelta(microseconds=1)
        return copy.deepcopy([v.record for v in self.task_views(start, end, deleted=False)])

    def task(self, task_id: int) -> dict[str, Any] | None:
        """The detail ``GET /tasks/{id}`` serves at now, or None where it answers 404."""
        view = self.task_view(task_id, detail=True)
        if view is None or view.deleted_at is not None:
            return None
        return copy.deepcopy(view.record)

    def deleted_tasks(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Tasks deleted in ``[since, until)`` (naive local or aware), as GetDeletedTasks lists them."""
        since, until = local_naive(since), local_naive(until)
        views = self.task_views(datetime(1900, 1, 1), datetime(2999, 1, 1), deleted=True)
        return copy.deepcopy([v.record for v in views if v.deleted_at and since <= v.deleted_at < until])

    def tasks_updated_between(self, a: datetime, b: datetime) -> list[dict[str, Any]]:
        """Live tasks with ``a <= dateLastUpdate < b`` (naive local or aware datetimes)."""
        a, b = local_naive(a), local_naive(b)
        views = self.task_views(datetime(1900, 1, 1), datetime(2999, 1, 1), deleted=False)
        return copy.deepcopy(
            [v.record for v in views if a <= datetime.fromisoformat(v.record["dateLastUpdate"]) < b]
        )

    def customers(self) -> list[dict[str, Any]]:
        """Every customer the listing serves at now, sorted by id."""
        return copy.deepcopy(self.customer_records())

    def snapshot(self, kind: str) -> list[dict[str, Any]]:
        """The complete listing of a snapshot kind at now (e.g. "users", "taskTypes"), sorted by key."""
        return copy.deepcopy(self.entity_records(kind))

    def expenses_for_day(self, day: date) -> list[dict[str, Any]]:
        start = datetime(day.year, day.month, day.day)
        return copy.deepcopy(
            self.expense_records(start, start + timedelta(days=1) - timedelta(microseconds=1))
        )

    def all_task_ids(self) -> list[int]:
        """Ids of every task existing (live) at now; handy for picking one to mutate."""
        views = self.task_views(datetime(1900, 1, 1), datetime(2999, 1, 1), deleted=False)
        return [v.record["taskID"] for v in views]

    # ------------------------------------------------------------------ mutations

    def update_task(self, task_id: int, **fields: Any) -> dict[str, Any]:
        """Change fields of a live task; ``dateLastUpdate`` becomes now. Returns the new record."""
        with self._lock:
            view = self.task_view(task_id)
            if view is None or view.deleted_at is not None:
                raise KeyError(f"task {task_id} does not exist at now")
            self._updates.setdefault(("tasks", task_id), []).append(_Stamped(self.now(), _jsonable(fields)))
        return self.task(task_id) or {}

    def delete_task(self, task_id: int) -> None:
        """Delete a live task now: it leaves lists and detail, and enters GetDeletedTasks."""
        with self._lock:
            view = self.task_view(task_id)
            if view is None or view.deleted_at is not None:
                raise KeyError(f"task {task_id} does not exist at now")
            self._task_deleted[task_id] = self.now()

    def update_customer(self, customer_id: int, **fields: Any) -> dict[str, Any]:
        """Change fields of a customer; ``dateLastUpdate`` becomes now. Returns the new record."""
        return self.update_entity("customers", customer_id, **fields)

    def update_entity(self, kind: str, key: int | str, **fields: Any) -> dict[str, Any]:
        """Change fields of any record (tasks/customers also get ``dateLastUpdate`` = now)."""
        kind = canonical_kind(kind)
        if kind == "tasks":
            return self.update_task(int(key), **fields)
        key = self._existing_key(kind, key)
        with self._lock:
            self._updates.setdefault((kind, key), []).append(_Stamped(self.now(), _jsonable(fields)))
        return self._find(kind, key) or {}

    def remove_entity(self, kind: str, key: int | str) -> None:
        """Remove a record now (tasks: same as ``delete_task``)."""
        kind = canonical_kind(kind)
        if kind == "tasks":
            self.delete_task(int(key))
            return
        key = self._existing_key(kind, key)
        with self._lock:
            self._removed[(kind, key)] = self.now()

    def add_entity(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """Add a record now. Missing keys get a fresh id; tasks need ``taskDate``.

        Tasks and customers get ``creationDate``/``dateLastUpdate`` = now unless given.
        """
        kind = canonical_kind(kind)
        now = self.now()
        record = _jsonable(dict(record))
        key_field = key_field_of(kind)
        with self._lock:
            if key_field not in record:
                record[key_field] = self._fresh_key(kind)
            if kind in ("tasks", "customers"):
                record.setdefault("creationDate", ts(now))
                record.setdefault("dateLastUpdate", ts(now))
            if kind == "tasks" and "taskDate" not in record:
                raise ValueError("a task needs a taskDate")
            self._added.setdefault(kind, {})[record[key_field]] = _Stamped(now, record)
        return copy.deepcopy(record)

    # ------------------------------------------------------------------ helpers

    def _find(self, kind: str, key: int | str) -> dict[str, Any] | None:
        key_field = key_field_of(kind)
        for record in self.entity_records(kind):
            if record[key_field] == key:
                return copy.deepcopy(record)
        return None

    def _existing_key(self, kind: str, key: int | str) -> int | str:
        if not SNAPSHOT_KINDS.get(kind, None) or not SNAPSHOT_KINDS[kind].guid_key:
            key = int(key)
        if self._find(kind, key) is None:
            raise KeyError(f"{kind} {key} does not exist at now")
        return key

    def _fresh_key(self, kind: str) -> int | str:
        if kind in ("products", "services"):
            # Seeded too, so a test that adds the same records twice gets the same keys.
            return guid(rng(self.config.seed, "added", kind, len(self._added.get(kind, {}))))
        taken: Iterable[Any]
        if kind == "tasks":
            taken = list(self._added.get("tasks", {}))
            return max([TASK_ID_BASE + 900_000_000, *taken]) + 1
        taken = [r[key_field_of(kind)] for r in self.entity_records(kind)]
        base = ID_BASE.get(kind, 0) + 90_000
        return max([base, *taken]) + 1


def key_field_of(kind: str) -> str:
    if kind == "tasks":
        return "taskID"
    if kind == "customers":
        return "id"
    return SNAPSHOT_KINDS[kind].key


def _task_date(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(record["taskDate"]))
