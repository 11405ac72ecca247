"""Customers: a base population, new ones arriving over time, and occasional edits.

Customers are synced through the ``dateLastUpdate`` watermark (auvo-api.md §7), so the world
must produce both inserts (``customers_added_per_day``) and updates (edits that bump
``dateLastUpdate`` and change a field). Edits live in weekly buckets: in each week a customer is
edited with probability ``customer_edit_probability_per_week`` at a seeded moment. The state at
``now`` only needs the latest edit before ``now``, found by walking back week by week from now,
so the cost per customer is O(1/probability), not O(history).

Records are the real-data variant (§5.2, §8.3): ``id``, ``description``, ``uriAttachments``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.auvo import names
from sandbox.auvo.formats import rng, ts
from sandbox.auvo.snapshots import Ctx, int_id

WEEK = timedelta(days=7)
EDIT_LOOKBACK = timedelta(days=120)  # edits older than this before origin do not matter


@dataclass
class Customer:
    index: int
    created: datetime
    last_edit: int | None  # week number of the latest edit at now (None = never edited)
    edited_at: datetime | None


def _origin_start(ctx: Ctx) -> datetime:
    return datetime(ctx.origin.year, ctx.origin.month, ctx.origin.day)


def customer_created(ctx: Ctx, index: int) -> datetime:
    n = ctx.config.customers
    start = _origin_start(ctx)
    if index < n:
        back = rng(ctx.seed, "customers", "created", index).uniform(10, 900)
        return (start - timedelta(days=back)).replace(microsecond=0)
    # Customers added after origin: evenly spaced, jittered inside their own slot.
    interval = timedelta(days=1 / ctx.config.customers_added_per_day)
    k = index - n
    jitter = rng(ctx.seed, "customers", "added", k).uniform(0.0, 0.5)
    return (start + interval * (k + 0.5 + jitter)).replace(microsecond=0)


def customer_count(ctx: Ctx, now: datetime) -> int:
    """How many customer indexes exist at ``now`` (base ones plus those added so far)."""
    n = ctx.config.customers
    rate = ctx.config.customers_added_per_day
    if rate <= 0:
        return n
    interval = timedelta(days=1 / rate)
    guess = max(0, math.floor((now - _origin_start(ctx)) / interval) + 1)
    # The jittered slots keep creation monotonic; trim the guess to those already created.
    while guess > 0 and customer_created(ctx, n + guess - 1) > now:
        guess -= 1
    return n + guess


def _edit_in_week(ctx: Ctx, index: int, week: int) -> datetime | None:
    r = rng(ctx.seed, "customers", "edit", index, week)
    if r.random() >= ctx.config.customer_edit_probability_per_week:
        return None
    offset = timedelta(days=r.randrange(7), hours=r.uniform(8, 19))
    return (_origin_start(ctx) + WEEK * week + offset).replace(microsecond=0)


def latest_edit(ctx: Ctx, index: int, created: datetime, now: datetime) -> tuple[int, datetime] | None:
    if ctx.config.customer_edit_probability_per_week <= 0:
        return None
    start = _origin_start(ctx)
    floor_time = max(created, start - EDIT_LOOKBACK)
    week = math.floor((now - start) / WEEK)
    while start + WEEK * (week + 1) > floor_time:
        when = _edit_in_week(ctx, index, week)
        if when is not None and floor_time < when <= now:
            return week, when
        week -= 1
    return None


def customer_state(ctx: Ctx, index: int, now: datetime) -> Customer | None:
    created = customer_created(ctx, index)
    if created > now:
        return None
    edit = latest_edit(ctx, index, created, now)
    return Customer(index, created, edit[0] if edit else None, edit[1] if edit else None)


def customer_record(ctx: Ctx, c: Customer) -> dict[str, Any]:
    """The customer as the API serves it (real-data variant, §8.3)."""
    r = rng(ctx.seed, "customers", c.index)
    kind = r.choice(names.COMPANY_WORDS)
    brand = r.choice(names.COMPANY_NAMES)
    description = f"{kind} {brand} {c.index + 1}"
    street = r.choice(names.STREETS)
    number = r.randrange(1, 3000)
    district = r.choice(names.DISTRICTS)
    groups_n = ctx.config.customer_groups
    segments_n = ctx.config.segments
    cnpj = f"{r.randrange(10**13, 10**14)}"
    phone = f"11{r.randrange(900_000_000, 999_999_999)}"
    email = f"contato{c.index}@cliente.example"
    note = ""
    manager = person = f"{r.choice(names.FIRST_NAMES)} {r.choice(names.LAST_NAMES)}"
    if c.last_edit is not None:
        # Each edit sets the mutable fields afresh from the edit's week: the note always changes,
        # plus one rotating field, which is what a person editing a customer does.
        e = rng(ctx.seed, "customers", "edit-values", c.index, c.last_edit)
        note = f"Atualizado na semana {c.last_edit}: {e.choice(names.REPORTS) or 'ajuste cadastral'}"
        which = c.last_edit % 3
        if which == 0:
            phone = f"11{e.randrange(900_000_000, 999_999_999)}"
        elif which == 1:
            email = f"financeiro{c.index}.{c.last_edit}@cliente.example"
        else:
            manager = f"{e.choice(names.FIRST_NAMES)} {e.choice(names.LAST_NAMES)}"
    return {
        "id": int_id("customers", c.index),
        "externalId": f"ERP-{c.index + 1}" if r.random() < 0.6 else "",
        "description": description,
        "cpfCnpj": cnpj,
        "phoneNumber": [phone],
        "email": [email],
        "manager": manager,
        "managerJobPosition": "Síndico" if kind == "Condomínio" else "Gerente",
        "note": note,
        "address": f"{street}, {number}, {district}, São Paulo - SP, 0{r.randrange(1000, 9999)}-000, Brasil",
        "adressComplement": "",  # sic (§2)
        "latitude": round(-23.55 + r.uniform(-0.15, 0.15), 6),
        "longitude": round(-46.63 + r.uniform(-0.15, 0.15), 6),
        "maximumVisitTime": 1,
        "unitMaximumTime": 3,
        "groupsId": [int_id("customerGroups", r.randrange(groups_n))]
        if groups_n and r.random() < 0.6
        else [],
        "managerTeamsId": [],
        "managersId": [],
        "segmentId": int_id("segments", r.randrange(segments_n)) if segments_n and r.random() < 0.7 else 0,
        "active": r.random() < 0.95,
        "creationDate": ts(c.created),
        "dateLastUpdate": ts(c.edited_at or c.created),
        "contacts": [
            {
                "id": int_id("customers", c.index) * 10 + 1,
                "name": person,
                "jobPosition": "Contato",
                "email": "",
                "phone": phone,
            },
        ],
        "uriAttachments": [],
        "legalName": f"{brand} {kind} Ltda",
    }
