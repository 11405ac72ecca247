"""Every size option and behaviour switch of the fake Auvo v2 API.

The switches follow ``docs/auvo-api.md`` §8.5: each behaviour the doc marks *Assumed* or
uncertain (§9) has a field here whose default is the doc's proposal, so tests can run the
client against the alternatives. Tests may flip fields on ``server.config`` between requests;
a person with curl can do the same with ``POST /_sandbox/auvo/config`` (see ``admin.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Literal

# Fields that shape the generated world; changing one makes the world drop its caches.
WORLD_FIELDS = (
    "seed",
    "origin",
    "history_days",
    "customers",
    "customers_added_per_day",
    "customer_edit_probability_per_week",
    "users",
    "teams",
    "task_types",
    "segments",
    "keywords",
    "questionnaires",
    "customer_groups",
    "equipments",
    "equipment_categories",
    "products",
    "product_categories",
    "services",
    "expense_types",
    "snapshot_churn_days",
    "tasks_per_day",
    "task_lead_days",
    "reschedule_rate",
    "max_reschedule_days",
    "finish_rate",
    "delete_rate",
    "expenses_per_day",
)


@dataclass
class AuvoConfig:
    """Sizes of the deterministic world and the switches of the fake API.

    World (see ``world.py``): everything is a pure function of ``seed``, ``origin`` and the
    sandbox clock's now. ``origin`` is the first local day of generated history; when None,
    ``make_server`` fixes it at ``clock.now().date() - history_days`` once, at start-up.
    """

    # ---------------------------------------------------------------- credentials (brief)
    api_key: str = "sandbox-api-key"
    api_token: str = "sandbox-api-token"

    # ---------------------------------------------------------------- world sizes
    seed: int = 1
    origin: date | None = None
    history_days: int = 30
    customers: int = 60
    customers_added_per_day: float = 0.5  # new customers keep appearing (watermark inserts)
    customer_edit_probability_per_week: float = 0.3  # chance a customer is edited in a given week
    users: int = 12
    teams: int = 4
    task_types: int = 6
    segments: int = 4
    keywords: int = 8
    questionnaires: int = 3
    customer_groups: int = 5
    equipments: int = 20
    equipment_categories: int = 4
    products: int = 15
    product_categories: int = 4
    services: int = 8
    expense_types: int = 4
    snapshot_churn_days: float = 10.0  # every this many days one record of each kind goes, one comes
    tasks_per_day: int = 20  # average; the real count varies ±30 % per day
    task_lead_days: int = 5  # tasks are created up to this many days before their taskDate
    reschedule_rate: float = 0.15
    max_reschedule_days: int = 3
    finish_rate: float = 0.8
    delete_rate: float = 0.05
    expenses_per_day: int = 4

    # ---------------------------------------------------------------- auth (§1)
    token_ttl_seconds: int = 1800  # §1.3: 30 min documented; real tokens lived ~4.5 h [C]
    unauthorized_body: Literal["empty", "json"] = "empty"  # §8.5 "401 body"
    bad_token_login_status: int = 401  # wrong apiToken for a known apiKey; 200 = authenticated false

    # ---------------------------------------------------------------- lists (§3)
    empty_404_body: Literal["empty", "json"] = "empty"  # §8.5 body of an "empty" 404
    prev_page_link: bool = False  # §8.5: no source shows a prevPage link
    page_size_over_max: Literal["clamp", "reject"] = "clamp"  # §8.5 pageSize > 100 on tasks
    sort_key: Literal["id", "date"] = "id"  # §8.5 default sort key for `order`
    selectfields: Literal["honour", "ignore"] = "honour"
    users_without_paramfilter: Literal["accept", "reject"] = "accept"  # §6.3 item 3
    field_names: Literal["real", "doc"] = "real"  # §6.3 item 4
    customer_groups_shape: Literal["entityList", "bare"] = "entityList"  # §3.2

    # ---------------------------------------------------------------- filters (§3.1, §7)
    date_last_update: Literal["gte", "gt"] = "gte"  # §8.5 dateLastUpdate semantics
    # §8.5: an upper bound on dateLastUpdate is documented only for tickets and service orders
    # (`endDateLastUpdate`); whether tasks/customers honour it is unknown, so by default the
    # sandbox ignores it (the client must then bound the window itself) and "honour" models an
    # API that does (inclusive, like endDate).
    date_last_update_until: Literal["ignore", "honour"] = "ignore"
    bare_end_date: Literal["whole_day", "midnight"] = "whole_day"  # §8.5 endDate "yyyy-MM-dd"
    max_task_window_days: float | None = None  # §8.5: None = no maximum; else 400 above it
    task_latency_s_per_window_day: float = 0.0  # §6.3 item 2: wide windows are slow
    task_latency_max_s: float = 30.0

    # ---------------------------------------------------------------- rate limit (§6.1)
    rate_limit_per_minute: int | None = 400  # per client address; None/0 = unlimited
    rate_limit_status: Literal[403, 429] = 403  # 429 is R's speculation, kept as an option
    rate_limit_retry_after: bool = False  # §8.5: no Retry-After documented
    # The budget's sliding window: the API's minute; tests shorten it to see a refill in seconds.
    rate_limit_window_s: float = 60.0

    # ---------------------------------------------------------------- admin
    admin_config_writable: bool = True  # POST /_sandbox/auvo/config may change any field

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, date) else value
        return out

    def update(self, changes: dict[str, Any]) -> list[str]:
        """Set fields from JSON-ish values (dates as ISO strings); returns the names changed.

        Unknown names raise ``KeyError`` so a typo in a curl call is not silently ignored.
        """
        known = {f.name: f for f in fields(self)}
        changed: list[str] = []
        for name, value in changes.items():
            if name not in known:
                raise KeyError(name)
            if name == "origin" and isinstance(value, str):
                value = datetime.fromisoformat(value).date()
            setattr(self, name, value)
            changed.append(name)
        return changed

    def world_key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in WORLD_FIELDS)

    def copy(self) -> AuvoConfig:
        return dataclasses.replace(self)
