"""Expenses: a seeded handful per local day, each visible once it has been registered.

Expenses are filtered by ``startDate``/``endDate`` on the expense ``date`` (auvo-api.md §4, §7);
a technician registers one some hours after the fact, so a day's list keeps growing for a while
(``creationDate`` > ``date``), which is why a consumer re-reads a trailing window.
Fields follow §5.8; ``amount`` is a JSON number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sandbox.auvo import names
from sandbox.auvo.formats import rng, ts
from sandbox.auvo.snapshots import Ctx, int_id, person_name

EXPENSE_ID_BASE = 400_000


@dataclass(frozen=True)
class ExpensePlan:
    expense_id: int
    when: datetime
    created: datetime
    record: dict[str, Any]


def expenses_on_day(ctx: Ctx, day: date) -> list[ExpensePlan]:
    if day < ctx.origin or ctx.config.expenses_per_day <= 0:
        return []
    r = rng(ctx.seed, "expenses", "count", day.isoformat())
    count = max(0, min(99, round(ctx.config.expenses_per_day * r.uniform(0.5, 1.5))))
    return [_plan(ctx, day, n) for n in range(count)]


def _plan(ctx: Ctx, day: date, n: int) -> ExpensePlan:
    expense_id = EXPENSE_ID_BASE + (day - ctx.origin).days * 100 + n + 1
    r = rng(ctx.seed, "expense", expense_id)
    when = datetime(day.year, day.month, day.day, r.randint(7, 19), r.randrange(60))
    created = when + timedelta(hours=r.uniform(0.2, 30))
    user = r.randrange(max(1, ctx.config.users))
    type_index = r.randrange(max(1, ctx.config.expense_types))
    type_name = names.EXPENSE_TYPES[type_index % len(names.EXPENSE_TYPES)]
    record = {
        "id": expense_id,
        "description": f"{type_name} - {r.choice(names.DISTRICTS)}",
        "userToId": int_id("users", user),
        "userToName": person_name(ctx.seed, "users", user),
        "typeId": int_id("expenseTypes", type_index),
        "typeName": type_name,
        "date": ts(when),
        "attachmentUrl": f"https://auvo.example/exp/{expense_id}.jpg" if r.random() < 0.5 else "",
        "creationDate": ts(created.replace(microsecond=0)),
        "amount": round(r.uniform(8, 450), 2),
    }
    return ExpensePlan(expense_id, when, created, record)
