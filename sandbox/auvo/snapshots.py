"""The small "snapshot" entities (users, teams, task types, ...) and their slow churn.

These have no updated-since filter (auvo-api.md §7), so a consumer takes a full snapshot each run
and marks as deleted whatever is missing. To make that testable, each kind churns: every
``snapshot_churn_days`` (from a per-kind offset after ``origin``) one record is removed (the
initial ones in a seeded order, then the added ones, oldest first) and one new record is added.
The state at ``now`` needs only the number of churn events so far, so evaluating it costs
O(records), never a walk through history.

Field lists follow §5.3-§5.8; the record dicts are the real-data variant (``field_names="real"``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sandbox.auvo import names
from sandbox.auvo.config import AuvoConfig
from sandbox.auvo.formats import guid, money_br, rng, ts, ts_space

# Id bases: each kind gets its own range so an id says what it is when debugging.
ID_BASE: dict[str, int] = {
    "users": 150_000,
    "teams": 9_000,
    "taskTypes": 300,
    "segments": 40,
    "keywords": 700,
    "questionnaires": 2_000,
    "customerGroups": 60,
    "equipments": 880_000,
    "equipmentCategories": 500,
    "products": 10_000,  # the numeric `code`; the key is the GUID `productId` (§5.5)
    "productCategories": 800,
    "services": 0,  # GUID keys only (§5.6)
    "expenseTypes": 100,
    "customers": 5_000_000,
}


@dataclass
class Entity:
    """One record with its lifetime: exists at t when created <= t and (removed is None or t < removed)."""

    key: int | str
    created: datetime
    removed: datetime | None
    record: dict[str, Any]

    def alive(self, now: datetime) -> bool:
        return self.created <= now and (self.removed is None or now < self.removed)


@dataclass(frozen=True)
class Ctx:
    """What a record builder may look at: the seed and the sizes of the other kinds."""

    config: AuvoConfig
    origin: date

    @property
    def seed(self) -> int:
        return self.config.seed


Builder = Callable[[Ctx, int, datetime], dict[str, Any]]


# --------------------------------------------------------------------------- shared helpers


def person_name(seed: int, kind: str, index: int) -> str:
    r = rng(seed, kind, "name", index)
    return f"{r.choice(names.FIRST_NAMES)} {r.choice(names.LAST_NAMES)}"


def int_id(kind: str, index: int) -> int:
    return ID_BASE[kind] + index + 1


def product_guid(seed: int, index: int) -> str:
    return guid(rng(seed, "products", "guid", index))


def service_guid(seed: int, index: int) -> str:
    return guid(rng(seed, "services", "guid", index))


def key_of(seed: int, kind: str, index: int) -> int | str:
    if kind == "products":
        return product_guid(seed, index)
    if kind == "services":
        return service_guid(seed, index)
    return int_id(kind, index)


def _ref(ctx: Ctx, kind: str, r: random.Random, count_field: str) -> int:
    """An id of one of the *initial* records of ``kind`` (0 when the kind is empty)."""
    n = int(getattr(ctx.config, count_field))
    return int_id(kind, r.randrange(n)) if n > 0 else 0


def _label(pool: tuple[str, ...], index: int) -> str:
    base = pool[index % len(pool)]
    return base if index < len(pool) else f"{base} {index // len(pool) + 1}"


# --------------------------------------------------------------------------- builders (§5)


def build_user(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
    r = rng(ctx.seed, "users", i)
    name = person_name(ctx.seed, "users", i)
    login = name.lower().replace(" ", ".").encode("ascii", "ignore").decode()
    user_type = 3 if i == 0 else (2 if i % 5 == 1 else 1)
    return {
        "userID": int_id("users", i),
        "externalId": f"RH-{1000 + i}" if r.random() < 0.7 else "",
        "name": name,
        "smartPhoneNumber": f"119{r.randrange(10_000_000, 99_999_999)}",
        "login": f"{login}{i}",
        "email": f"{login}{i}@empresa.example",
        "culture": "pt-BR",
        "jobPosition": r.choice(names.JOB_POSITIONS),
        "userType": {
            "userTypeId": user_type,
            "description": {1: "User", 2: "Team manager", 3: "Admin"}[user_type],
        },
        "workDaysOfWeek": [2, 3, 4, 5, 6],
        "startWorkHour": "08:00:00",
        "endWorkHour": "18:00:00",
        "startLunchHour": "12:00:00",
        "endLunchHour": "13:00:00",
        "hourValue": round(r.uniform(20, 80), 2),
        "pictureUrl": "",
        "basePoint": {
            "address": f"{r.choice(names.STREETS)}, {r.randrange(1, 2000)}, São Paulo - SP",
            "latitude": round(-23.55 + r.uniform(-0.1, 0.1), 6),
            "longitude": round(-46.63 + r.uniform(-0.1, 0.1), 6),
        },
        "openTaskInPlace": r.random() < 0.5,
        "grabGalleryPhotos": r.random() < 0.5,
        "gpsFrequency": r.choice((60, 120, 180, 300)),
        "checkInManual": r.random() < 0.3,
        "unavailableForTasks": False,
        "editTaskAfterCheckout": r.random() < 0.2,
        "informStartTravel": r.random() < 0.6,
        "changeBasePoint": False,
        "monitoringNotification": r.randrange(4),
        "employeeNotification": r.randrange(4),
        "clientNotification": r.randrange(4),
        "taskNotification": r.randrange(4),
        "registrationDate": ts(created),
    }


def team_member_indexes(ctx: Ctx, i: int) -> list[int]:
    n = ctx.config.users
    if n == 0:
        return []
    r = rng(ctx.seed, "teams", "members", i)
    return sorted(r.sample(range(n), min(n, r.randint(2, 5))))


def build_team(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
    members = team_member_indexes(ctx, i)
    return {
        "id": int_id("teams", i),
        "description": _label(names.TEAM_NAMES, i),
        "creationDate": ts(created),
        "teamUsers": [person_name(ctx.seed, "users", m) for m in members],  # names, not ids (§5.7)
        "teamManagers": [person_name(ctx.seed, "users", m) for m in members[:1]],
    }


def build_task_type(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
    r = rng(ctx.seed, "taskTypes", i)
    questionnaire = _ref(ctx, "questionnaires", r, "questionnaires") if r.random() < 0.5 else 0
    return {
        "id": int_id("taskTypes", i),
        "description": _label(names.TASK_TYPES, i),
        "creatorId": int_id("users", 0),
        "creationDate": ts(created),
        "standardTime": f"0{r.randint(1, 4)}:00:00",
        "toleranceTime": "00:30:00",
        "standardQuestionnaireId": questionnaire,
        "active": True,
        "sendSatisfactionSurvey": r.random() < 0.3,
        "sendDigitalOs": r.random() < 0.5,
        "requirements": {
            "fillReport": r.random() < 0.5,
            "getSignature": r.random() < 0.5,
            "fillRolledKilometer": False,
            "emailTheTask": False,
            "minimumNumberOfPhotos": r.randrange(3),
            "requiredQuestionnaires": [questionnaire] if questionnaire else [],
        },
    }


def build_segment(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
    # registrationDate uses the space format (§2, §5.8).
    return {
        "id": int_id("segments", i),
        "description": _label(names.SEGMENTS, i),
        "registrationDate": ts_space(created),
    }


def build_keyword(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
    return {"id": int_id("keywords", i), "description": _label(names.KEYWORDS, i)}


def build_questionnaire(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
    r = rng(ctx.seed, "questionnaires", i)
    picked = r.sample(range(len(names.QUESTIONS)), 3)
    return {
        "id": int_id("questionnaires", i),
        "description": _label(names.QUESTIONNAIRES, i),
        "header": "",
        "footer": "",
        "creationDate": ts(created),
        "questions": [
            {
                "id": int_id("questionnaires", i) * 10 + q,
                "description": names.QUESTIONS[q],
                "answerType": 1 + q % 4,
            }
            for q in picked
        ],
    }


def build_customer_group(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
    return {"id": int_id("customerGroups", i), "description": f"Grupo {_label(names.COMPANY_NAMES, i)}"}


def build_equipment(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
    r = rng(ctx.seed, "equipments", i)
    customer_n = ctx.config.customers
    return {
        "id": int_id("equipments", i),
        "externalId": f"PAT-{i:05d}" if r.random() < 0.5 else "",
        "parentEquipmentId": 0,
        "associatedCustomerId": int_id("customers", r.randrange(customer_n)) if customer_n else 0,
        "associatedUserId": 0,
        "categoryId": _ref(ctx, "equipmentCategories", r, "equipment_categories"),
        "name": r.choice(names.EQUIPMENT_KINDS),
        "description": "",
        "identifier": f"SN{r.randrange(10**9, 10**10)}",
        "urlImage": "",
        "uriAnexos": [],
        "active": True,
        "creationDate": ts(created),
        "expirationDate": "",
        "warrantyStartDate": ts(created),
        "warrantyEndDate": ts(created + timedelta(days=365)),
        "equipmentSpecifications": [{"name": "Tensão", "specification": r.choice(("127V", "220V"))}],
    }


def build_category(kind: str) -> Builder:
    def build(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
        record: dict[str, Any] = {"id": int_id(kind, i), "description": _label(names.CATEGORY_NAMES, i)}
        if kind == "equipmentCategories":
            record["externalId"] = ""
        return record

    return build


def build_product(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
    r = rng(ctx.seed, "products", i)
    cost = round(r.uniform(2, 300), 2)
    return {
        "productId": product_guid(ctx.seed, i),  # GUID natural key [B, S]
        "code": int_id("products", i),
        "externalId": "",
        "name": _label(names.PRODUCT_NAMES, i),
        "description": "",
        "categoryId": _ref(ctx, "productCategories", r, "product_categories"),
        "associatedEquipmentId": 0,
        "unitaryValue": money_br(cost * 1.6),
        "unitaryCost": money_br(cost),  # a pt-BR string like "6,00" [B]
        "minimumStock": r.randrange(0, 10),
        "totalStock": r.randrange(0, 200),
        "active": True,
        "productSpecifications": [],
        "employeesStock": [],
        "imageUrl": "",
    }


def build_service(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
    r = rng(ctx.seed, "services", i)
    return {
        "id": service_guid(ctx.seed, i),
        "title": _label(names.SERVICE_NAMES, i),
        "description": "",
        "price": round(r.uniform(50, 900), 2),
        "active": True,
        "externalCode": f"SRV{i:03d}",
        "fiscalServiceId": None,
    }


def build_expense_type(ctx: Ctx, i: int, created: datetime) -> dict[str, Any]:
    return {
        "id": int_id("expenseTypes", i),
        "description": _label(names.EXPENSE_TYPES, i),
        "creatorId": int_id("users", 0),
        "creationDate": ts(created),
    }


@dataclass(frozen=True)
class KindSpec:
    kind: str  # canonical API path segment, e.g. "taskTypes"
    key: str  # key field in the real-data variant
    count_field: str  # the AuvoConfig field with the initial count
    build: Builder
    date_field: str | None  # used when sort_key="date"
    guid_key: bool = False  # the id is a GUID string (products, services: auvo-api.md §4)


SNAPSHOT_KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec("users", "userID", "users", build_user, "registrationDate"),
        KindSpec("teams", "id", "teams", build_team, "creationDate"),
        KindSpec("taskTypes", "id", "task_types", build_task_type, "creationDate"),
        KindSpec("segments", "id", "segments", build_segment, "registrationDate"),
        KindSpec("keywords", "id", "keywords", build_keyword, None),
        KindSpec("questionnaires", "id", "questionnaires", build_questionnaire, "creationDate"),
        KindSpec("customerGroups", "id", "customer_groups", build_customer_group, None),
        KindSpec("equipments", "id", "equipments", build_equipment, "creationDate"),
        KindSpec(
            "equipmentCategories", "id", "equipment_categories", build_category("equipmentCategories"), None
        ),
        KindSpec("products", "productId", "products", build_product, None, guid_key=True),
        KindSpec("productCategories", "id", "product_categories", build_category("productCategories"), None),
        KindSpec("services", "id", "services", build_service, None, guid_key=True),
        KindSpec("expenseTypes", "id", "expense_types", build_expense_type, "creationDate"),
    )
}


# --------------------------------------------------------------------------- churn timeline


def _churn_start(ctx: Ctx, kind: str) -> datetime:
    offset_h = rng(ctx.seed, kind, "churn").uniform(8, 18)  # business hours-ish
    return datetime(ctx.origin.year, ctx.origin.month, ctx.origin.day) + timedelta(hours=offset_h)


def churn_events(ctx: Ctx, kind: str, now: datetime) -> list[datetime]:
    """Times of the churn events of ``kind`` up to ``now`` (one removal + one addition each)."""
    period = ctx.config.snapshot_churn_days
    if period <= 0:
        return []
    start = _churn_start(ctx, kind)
    step = timedelta(days=period)
    elapsed = (now - start) / step
    count = max(0, math.floor(elapsed))
    return [start + step * (k + 1) for k in range(count) if start + step * (k + 1) <= now]


def generate_kind(ctx: Ctx, spec: KindSpec, now: datetime) -> list[Entity]:
    """Every record of ``spec.kind`` that exists or existed up to ``now`` (with lifetimes)."""
    n = int(getattr(ctx.config, spec.count_field))
    events = churn_events(ctx, spec.kind, now)
    # Event k removes the k-th record of a queue: the initial records in a seeded order, then
    # the added ones oldest first. One goes, one comes, so the size of each kind stays put.
    queue = list(range(n))
    rng(ctx.seed, spec.kind, "removal-order").shuffle(queue)
    queue += range(n, n + len(events))
    removed_at: dict[int, datetime] = {}
    for k, when in enumerate(events):
        removed_at[queue[k]] = when  # queue[k] <= max(n - 1, k) < n + k, the record event k adds
    origin_start = datetime(ctx.origin.year, ctx.origin.month, ctx.origin.day)
    out: list[Entity] = []
    for i in range(n + len(events)):
        if i < n:
            created = origin_start - timedelta(days=rng(ctx.seed, spec.kind, "created", i).uniform(30, 900))
            created = created.replace(microsecond=0)
        else:
            created = events[i - n]
        record = spec.build(ctx, i, created)
        out.append(Entity(record[spec.key], created, removed_at.get(i), record))
    return out
