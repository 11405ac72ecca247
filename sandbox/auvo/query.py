"""List-query parsing: ``paramFilter``, filter dates, paging, ordering, filters (auvo-api.md §3).

ASP.NET-style leniency: query names are already lower-cased by the core; ``paramFilter`` keys are
matched case-insensitively too (§2: the API's own links send ``StartDate``/``EndDate``).
Errors raise ``ApiError`` carrying the status and body the real API uses (§6.2).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.core import Request

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DOCUMENTED_MAX_PAGE_SIZE = 100  # tasks, GetDeletedTasks (§3.1, A2/R)


class ApiError(Exception):
    """An error answer: ``status`` and JSON ``body`` (None = the server's empty-body convention)."""

    def __init__(self, status: int, body: Any = None) -> None:
        super().__init__(f"{status} {body!r}")
        self.status = status
        self.body = body


def model_state(name: str, value: object) -> ApiError:
    """400 with an ASP.NET model-state body: ``{"id": ["The value 'x' is not valid."]}`` (§3.4)."""
    return ApiError(400, {name: [f"The value '{value}' is not valid."]})


def message_error(message: str, status: int = 400) -> ApiError:
    """400 with the message body: ``{"message": ..., "target": null, "errorCode": 0, "errors": null}``."""
    return ApiError(status, {"message": message, "target": None, "errorCode": 0, "errors": None})


def param_filter(req: Request) -> tuple[dict[str, Any] | None, str]:
    """(filter with lower-cased keys or None when absent, raw text) of the URL-encoded JSON (§3.1)."""
    raw = req.arg("paramFilter")
    if raw is None or raw.strip() == "":
        return None, raw or ""
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise model_state("paramFilter", raw) from exc
    if not isinstance(parsed, dict):
        raise model_state("paramFilter", raw)
    return {str(k).lower(): v for k, v in parsed.items()}, raw


def parse_filter_date(name: str, value: Any, *, end: bool = False, bare_end: str = "whole_day") -> datetime:
    """A filter date: ``yyyy-MM-ddTHH:mm:ss`` (documented) or a bare ``yyyy-MM-dd`` (§2).

    A bare end date covers the whole day by default; ``bare_end="midnight"`` reads it as 00:00
    of that day (§8.5, inclusiveness unknown). An offset, if a client sends one, is dropped:
    the API works in local time.
    """
    text = str(value).strip()
    try:
        if DATE_ONLY.match(text):
            moment = datetime.fromisoformat(text)
            if end and bare_end == "whole_day":
                moment += timedelta(days=1) - timedelta(microseconds=1)
            return moment
        moment = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError as exc:
        raise model_state(name, text) from exc
    return moment.replace(tzinfo=None)


@dataclass
class Paging:
    page: int
    page_size: int
    descending: bool

    @property
    def order_number(self) -> int:
        return 1 if self.descending else 0


def paging(req: Request, *, max_page_size: int | None, over_max: str) -> Paging:
    """page (1-based, default 1), pageSize (default 10), order asc/0 or desc/1 (§3.1)."""
    page = _int_arg(req, "page", 1)
    page_size = _int_arg(req, "pageSize", 10)
    if page < 1:
        page = 1
    if page_size < 1:
        raise model_state("pageSize", page_size)
    if max_page_size is not None and page_size > max_page_size:
        if over_max == "reject":
            raise message_error(f"The pageSize must be between 1 and {max_page_size}.")
        page_size = max_page_size
    order = (req.arg("order") or "asc").strip().lower()
    if order not in ("asc", "0", "desc", "1"):
        raise model_state("order", order)
    return Paging(page, page_size, order in ("desc", "1"))


def _int_arg(req: Request, name: str, default: int) -> int:
    raw = req.arg(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise model_state(name, raw) from exc


# --------------------------------------------------------------------------- record filters

Matcher = Callable[[Any, Any], bool]


def _eq(field_value: Any, wanted: Any) -> bool:
    return str(field_value).lower() == str(wanted).lower()


def _csv(field_value: Any, wanted: Any) -> bool:
    items = wanted if isinstance(wanted, list) else str(wanted).split(",")
    return str(field_value).lower() in {str(i).strip().lower() for i in items}


def _contains(field_value: Any, wanted: Any) -> bool:
    return str(wanted).lower() in str(field_value).lower()


def _bool(field_value: Any, wanted: Any) -> bool:
    if isinstance(wanted, str):
        wanted = wanted.strip().lower() == "true"
    return bool(field_value) == bool(wanted)


def _member(field_value: Any, wanted: Any) -> bool:
    return any(_eq(v, wanted) for v in (field_value or []))


def _nested_user_type(field_value: Any, wanted: Any) -> bool:
    return isinstance(field_value, dict) and _eq(field_value.get("userTypeId"), wanted)


# paramFilter key (lower-case) -> (record field, matcher), per kind; keys not listed are ignored,
# as the real API ignores what it does not know. Customer `creationDate` is deliberately absent:
# P reports that filter does not filter (§6.3 item 7).
FILTERS: dict[str, dict[str, tuple[str, Matcher]]] = {
    "tasks": {
        "taskid": ("taskID", _eq),
        "externalid": ("externalId", _csv),
        "iduserto": ("idUserTo", _eq),
        "customerid": ("customerId", _eq),
        "type": ("taskType", _eq),
        "typelist": ("taskType", _csv),
        "priority": ("priority", _eq),
    },
    "customers": {
        "id": ("id", _eq),
        "description": ("description", _contains),
        "externalid": ("externalId", _csv),
        "segmentid": ("segmentId", _eq),
        "groupid": ("groupsId", _member),
        "active": ("active", _bool),
        "cpfcnpj": ("cpfCnpj", _eq),
        "legalname": ("legalName", _contains),
    },
    "users": {
        "userid": ("userID", _eq),
        "name": ("name", _contains),
        "smartphonenumber": ("smartPhoneNumber", _eq),
        "usertype": ("userType", _nested_user_type),
        "externalid": ("externalId", _csv),
    },
    "equipments": {
        "id": ("id", _eq),
        "externalid": ("externalId", _csv),
        "name": ("name", _contains),
        "identifier": ("identifier", _eq),
        "associatedcustomerid": ("associatedCustomerId", _eq),
        "associateduserid": ("associatedUserId", _eq),
        "categoryid": ("categoryId", _eq),
        "active": ("active", _bool),
    },
    "products": {
        "id": ("productId", _eq),
        "externalid": ("externalId", _csv),
        "name": ("name", _contains),
        "categoryid": ("categoryId", _eq),
        "active": ("active", _bool),
    },
    "services": {
        "id": ("id", _eq),
        "title": ("title", _contains),
        "externalcode": ("externalCode", _eq),
        "active": ("active", _bool),
    },
    "expenses": {
        "id": ("id", _eq),
        "usertoid": ("userToId", _eq),
        "type": ("typeId", _eq),
        "description": ("description", _contains),
    },
}
GENERIC_FILTERS: dict[str, tuple[str, Matcher]] = {
    "id": ("id", _eq),
    "description": ("description", _contains),
}

# Task `status` filter codes (§4): 0 not finished, 1-3 finished, 4 all, 5 pendency,
# 6 started or finished, 7 in execution.
TASK_STATUS: dict[int, Callable[[dict[str, Any]], bool]] = {
    0: lambda t: not t["finished"],
    1: lambda t: t["finished"],
    2: lambda t: t["finished"],
    3: lambda t: t["finished"],
    4: lambda t: True,
    5: lambda t: bool(t.get("pendency")),
    6: lambda t: t["checkIn"] or t["finished"],
    7: lambda t: t["checkIn"] and not t["finished"],
}


def apply_filters(kind: str, records: list[dict[str, Any]], flt: dict[str, Any]) -> list[dict[str, Any]]:
    table = FILTERS.get(kind, GENERIC_FILTERS)
    out = records
    for key, wanted in flt.items():
        if wanted is None or wanted == "":
            continue
        if kind == "tasks" and key == "status":
            check = TASK_STATUS.get(int(wanted))
            if check is None:
                raise model_state("status", wanted)
            out = [r for r in out if check(r)]
            continue
        spec = table.get(key)
        if spec is None:
            continue
        field, matcher = spec
        out = [r for r in out if matcher(r.get(field), wanted)]
    return out


def filter_updated_since(
    records: list[dict[str, Any]], since: datetime, strict: bool
) -> list[dict[str, Any]]:
    """``dateLastUpdate`` filter: at or after (default) or strictly after (§7, §8.5)."""

    def keep(record: dict[str, Any]) -> bool:
        value = datetime.fromisoformat(record["dateLastUpdate"])
        return value > since if strict else value >= since

    return [r for r in records if keep(r)]


def filter_updated_until(records: list[dict[str, Any]], until: datetime) -> list[dict[str, Any]]:
    """``endDateLastUpdate``: at or before ``until`` (inclusive like ``endDate``; §8.5)."""
    return [r for r in records if datetime.fromisoformat(r["dateLastUpdate"]) <= until]
