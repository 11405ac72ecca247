"""The fake Auvo v2 API: routing, auth, list envelope and every quirk of auvo-api.md §8.5 / §6.3.

Request flow for anything under ``/v2`` (case-insensitive, optional trailing slash: the core
folds both, §2):

1. per-client rate budget (§6.1): 403 ``{"error":"Rate limit temporarily exceeded"}``
   (or 429, optional ``Retry-After``); the same answer serves the core's ``rate_limit`` fault;
2. ``/v2/login`` by GET query or POST JSON body (§1.1, §1.2);
3. ``Authorization: Bearer`` on every other call (§1.3): 401 when missing, unknown or expired on
   the sandbox clock; the ``expire_token`` fault expires the presented token mid-sync;
4. the read endpoints of §4: list envelope (§3.2), 404 for an empty list or a page past the end
   (§3.3), detail by id with 404 unknown / 400 malformed (§3.4); the ``duplicate_page`` fault
   serves page k again in place of page k+1.
"""

from __future__ import annotations

import math
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sandbox.auvo.admin import AuvoAdmin
from sandbox.auvo.auth import TokenStore, bearer
from sandbox.auvo.config import AuvoConfig
from sandbox.auvo.formats import local_naive, ts_space
from sandbox.auvo.query import (
    ApiError,
    Paging,
    apply_filters,
    filter_updated_since,
    filter_updated_until,
    message_error,
    model_state,
    paging,
    param_filter,
    parse_filter_date,
)
from sandbox.auvo.resources import DELETED_TASKS, RESOURCES, Resource
from sandbox.auvo.snapshots import ID_BASE, int_id, team_member_indexes
from sandbox.auvo.variants import select_fields, to_variant
from sandbox.auvo.world import AuvoWorld
from sandbox.core import Clock, FaultPlan, RateBudget, Request, Response, SandboxServer

AUVO_FAULTS = ("expire_token", "duplicate_page")
RATE_LIMIT_BODY = {"error": "Rate limit temporarily exceeded"}  # §6.1, §8.4
USERS_FILTER_REQUIRED = "The paramFilter is required as ParamUserFilter string json."  # §3.1, §8.4
TASKS_FILTER_REQUIRED = (
    "The paramFilter is required as ParamTaskFilter string json with startDate and endDate."
)


class AuvoApp:
    """``app(request) -> Response`` for ``SandboxServer``; reads ``config`` live on every request."""

    def __init__(self, config: AuvoConfig, world: AuvoWorld, faults: FaultPlan) -> None:
        self.config = config
        self.world = world
        self.faults = faults
        self.tokens = TokenStore()
        self.budget = RateBudget(config.rate_limit_per_minute)

    # ------------------------------------------------------------------ entry points

    def rate_limited(self, retry_after: float) -> Response:
        """The rate-limit answer (§6.1); also the core's ``rate_limit`` fault callback."""
        headers = (
            {"Retry-After": str(max(1, math.ceil(retry_after)))} if self.config.rate_limit_retry_after else {}
        )
        return Response.json(RATE_LIMIT_BODY, status=int(self.config.rate_limit_status), headers=headers)

    def __call__(self, req: Request) -> Response:
        parts = [p for p in req.path_lower.split("/") if p]
        if not parts or parts[0] != "v2":
            return Response.empty(404)
        # Tests flip these on the live config.
        self.budget.per_minute = self.config.rate_limit_per_minute
        self.budget.window_s = self.config.rate_limit_window_s
        allowed, wait = self.budget.allow(req.client)
        if not allowed:
            return self.rate_limited(wait)
        try:
            if parts[1:2] == ["login"] and len(parts) == 2:
                return self.login(req)
            token = bearer(req.headers.get("authorization"))
            if token is None or not self.tokens.valid(token, self.world.now()):
                return self.unauthorized(expired=token is not None)
            if self.faults.take(["expire_token"], req.path_lower) is not None:
                self.tokens.revoke(token)
                return self.unauthorized(expired=True)
            return self.route(req, parts[1:])
        except ApiError as err:
            if err.body is None:
                return self.not_found()
            return Response.json(err.body, status=err.status)

    # ------------------------------------------------------------------ auth (§1)

    def login(self, req: Request) -> Response:
        if req.method == "POST":
            content_type = req.headers.get("content-type", "")
            if "json" not in content_type.lower():
                # §2/§6.2: 415 without a JSON Content-Type (ASP.NET problem details body).
                return Response.json(
                    {
                        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.13",
                        "title": "Unsupported Media Type",
                        "status": 415,
                    },
                    status=415,
                )
            try:
                body = req.json() or {}
            except ValueError as exc:
                raise model_state("", req.body.decode("utf-8", "replace")) from exc
            if not isinstance(body, dict):
                raise model_state("", body)
            fields = {str(k).lower(): v for k, v in body.items()}
            api_key, api_token = fields.get("apikey"), fields.get("apitoken")
        elif req.method == "GET":
            api_key, api_token = req.arg("apiKey"), req.arg("apiToken")
        else:
            return self.method_not_allowed(req)
        # §1.3: a missing parameter is a 400 with an ASP.NET model-state body.
        if not api_key:
            raise ApiError(400, {"apiKey": ["The value '\"\"' is not valid."]})
        if not api_token:
            raise ApiError(400, {"apiToken": ["The value '\"\"' is not valid."]})
        if api_key != self.config.api_key:
            return Response.empty(404)  # §1.3: unknown apiKey
        if api_token != self.config.api_token:
            if self.config.bad_token_login_status == 200:
                return Response.json(
                    {
                        "result": {
                            "authenticated": False,
                            "created": "",
                            "expiration": "",
                            "accessToken": "",
                            "message": "Invalid credentials",
                        }
                    }
                )
            return self.unauthorized(expired=False, status=self.config.bad_token_login_status)
        now = self.world.now()
        token, expires = self.tokens.issue(now, timedelta(seconds=self.config.token_ttl_seconds))
        return Response.json(
            {
                "result": {
                    "authenticated": True,
                    "created": ts_space(now),  # local, space-separated, no offset (§1.2)
                    "expiration": ts_space(expires),
                    "accessToken": token,
                    "message": "OK",
                }
            }
        )

    def unauthorized(self, *, expired: bool, status: int = 401) -> Response:
        # ASP.NET's JwtBearer says why in WWW-Authenticate; the body is undocumented (§8.5 switch).
        challenge = 'Bearer error="invalid_token"' if expired else "Bearer"
        if self.config.unauthorized_body == "json":
            return Response.json(
                {"message": "Authorization has been denied for this request."},
                status=status,
                headers={"WWW-Authenticate": challenge},
            )
        return Response(status, b"", {"WWW-Authenticate": challenge})

    def not_found(self) -> Response:
        """404 for an empty list, a page past the end or an unknown id (§3.3, §8.5 body switch)."""
        if self.config.empty_404_body == "json":
            return Response.json(
                {"message": "No records found.", "target": None, "errorCode": 0, "errors": None}, status=404
            )
        return Response.empty(404)

    @staticmethod
    def method_not_allowed(req: Request) -> Response:
        return Response.json(
            {"message": f"The requested resource does not support http method '{req.method}'."}, status=405
        )

    # ------------------------------------------------------------------ routing (§4)

    def route(self, req: Request, parts: list[str]) -> Response:
        resource = RESOURCES.get(parts[0]) if parts else None
        if resource is None:
            return Response.empty(404)
        if req.method not in ("GET", "HEAD"):
            return self.method_not_allowed(req)
        rest = parts[1:]
        if resource.kind == "tasks" and rest == ["getdeletedtasks"]:
            return self.task_list(req, deleted=True)
        if not rest:
            if resource.kind == "tasks":
                return self.task_list(req, deleted=False)
            return self.entity_list(req, resource)
        if len(rest) == 1:
            return self.detail(resource, rest[0], req)
        if len(rest) == 2 and resource.kind == "teams" and rest[1] == "users":
            return self.team_users(req, rest[0])
        if len(rest) == 2 and resource.kind == "customerGroups" and rest[1] == "clients":
            return self.group_clients(req, rest[0])
        return Response.empty(404)

    # ------------------------------------------------------------------ lists

    def task_list(self, req: Request, *, deleted: bool) -> Response:
        """Tasks or GetDeletedTasks: startDate/endDate required, window on ``taskDate`` (§4, §6.3)."""
        flt, raw = param_filter(req)
        if flt is None or not flt.get("startdate") or not flt.get("enddate"):
            raise message_error(TASKS_FILTER_REQUIRED)
        resource = DELETED_TASKS if deleted else RESOURCES["tasks"]
        page = paging(req, max_page_size=resource.max_page_size, over_max=self.config.page_size_over_max)
        start = parse_filter_date("startDate", flt["startdate"])
        end = parse_filter_date("endDate", flt["enddate"], end=True, bare_end=self.config.bare_end_date)
        window_days = max(0.0, (end - start).total_seconds() / 86400)
        limit = self.config.max_task_window_days
        if limit is not None and window_days > limit:
            raise message_error(
                f"The date range between startDate and endDate must be at most {limit:g} days."
            )
        if self.config.task_latency_s_per_window_day > 0:
            # §6.3 item 2: wide windows are slow (C: ~25 s per 100 tasks; G: timeouts on months).
            time.sleep(
                min(self.config.task_latency_max_s, window_days * self.config.task_latency_s_per_window_day)
            )
        records = [v.record for v in self.world.task_views(start, end, deleted=deleted)]
        records = self._updated_between(records, flt)
        records = apply_filters("tasks", records, flt)
        return self.paged(req, resource, records, page, raw)

    def entity_list(self, req: Request, resource: Resource) -> Response:
        flt, raw = param_filter(req)
        if flt is None and resource.kind == "users" and self.config.users_without_paramfilter == "reject":
            raise message_error(USERS_FILTER_REQUIRED)  # §6.3 item 3, per A
        flt = flt or {}
        if resource.kind == "expenses":
            records = self._expenses(flt)
        else:
            records = self.world.entity_records(resource.kind)
        if resource.kind == "customers":
            records = self._updated_between(records, flt)
        records = apply_filters(resource.kind, records, flt)
        if resource.kind == "customerGroups" and self.config.customer_groups_shape == "bare":
            # A2: `result` is a bare array, no paging (A shows entityList; G/P code both) (§3.2).
            if not records:
                raise ApiError(404)
            body = select_fields(records, self._selected(req))
            return Response.json({"result": body})
        page = paging(req, max_page_size=resource.max_page_size, over_max=self.config.page_size_over_max)
        return self.paged(req, resource, records, page, raw)

    def _updated_between(self, records: list[dict[str, Any]], flt: dict[str, Any]) -> list[dict[str, Any]]:
        """The ``dateLastUpdate`` filter (§7) and, when the switch says so, its upper bound."""
        since = flt.pop("datelastupdate", None)
        until = flt.pop("enddatelastupdate", None)
        if since:
            records = filter_updated_since(
                records,
                parse_filter_date("dateLastUpdate", since),
                strict=self.config.date_last_update == "gt",
            )
        if until and self.config.date_last_update_until == "honour":
            records = filter_updated_until(records, parse_filter_date("endDateLastUpdate", until, end=True))
        return records

    def _expenses(self, flt: dict[str, Any]) -> list[dict[str, Any]]:
        start = (
            parse_filter_date("startDate", flt.pop("startdate"))
            if flt.get("startdate")
            else datetime(1900, 1, 1)
        )
        end = (
            parse_filter_date("endDate", flt.pop("enddate"), end=True, bare_end=self.config.bare_end_date)
            if flt.get("enddate")
            else datetime(2999, 1, 1)
        )
        return self.world.expense_records(start, end)

    def team_users(self, req: Request, raw_id: str) -> Response:
        team_id = _int_id(raw_id)
        team = next((t for t in self.world.entity_records("teams") if t["id"] == team_id), None)
        if team is None:
            raise ApiError(404)
        ctx = self.world.ctx()
        users = {u["userID"]: u for u in self.world.entity_records("users")}
        members = []
        for m in team_member_indexes(ctx, team_id - ID_BASE["teams"] - 1):
            user = users.get(int_id("users", m))
            if user is not None:
                members.append(
                    {
                        "userId": user["userID"],
                        "externalId": user["externalId"],
                        "name": user["name"],
                        "jobPosition": user["jobPosition"],
                    }
                )
        page = paging(req, max_page_size=None, over_max="clamp")
        return self.paged(req, Resource("teamUsers", f"Teams/{team_id}/Users", "userId"), members, page, "")

    def group_clients(self, req: Request, raw_id: str) -> Response:
        group_id = _int_id(raw_id)
        if not any(g["id"] == group_id for g in self.world.entity_records("customerGroups")):
            raise ApiError(404)
        members = [c for c in self.world.entity_records("customers") if group_id in c["groupsId"]]
        page = paging(req, max_page_size=None, over_max="clamp")
        link = Resource("customers", f"CustomerGroups/{group_id}/Clients", "id")
        return self.paged(req, link, members, page, "")

    def paged(
        self, req: Request, resource: Resource, records: list[dict[str, Any]], page: Paging, raw_filter: str
    ) -> Response:
        """§3.2 envelope; 404 for nothing to show (§3.3)."""
        key = resource.key
        if self.config.sort_key == "date" and resource.date_field:
            date_field = resource.date_field
            records = sorted(records, key=lambda r: (str(r.get(date_field, "")), str(r[key])))
        else:
            records = sorted(records, key=lambda r: (str(type(r[key])), r[key]))
        if page.descending:
            records.reverse()
        total = len(records)
        last_page = math.ceil(total / page.page_size)
        if total == 0 or page.page > last_page:
            raise ApiError(404)
        served_page = page.page
        if page.page >= 2 and self.faults.take(["duplicate_page"], req.path_lower) is not None:
            served_page = page.page - 1  # the previous page's records, labelled as this page
        chunk = records[(served_page - 1) * page.page_size : served_page * page.page_size]
        variant = self.config.field_names
        body = select_fields([to_variant(resource.kind, r, variant) for r in chunk], self._selected(req))
        return Response.json(
            {
                "result": {
                    "entityList": body,
                    "pagedSearchReturnData": {
                        "order": page.order_number,
                        "pageSize": page.page_size,
                        "page": page.page,
                        "totalItems": total,
                    },
                    "links": self._links(req, resource, page, raw_filter, last_page),
                }
            }
        )

    def _selected(self, req: Request) -> str | None:
        return req.arg("selectfields") if self.config.selectfields == "honour" else None

    def _links(
        self, req: Request, resource: Resource, page: Paging, raw_filter: str, last_page: int
    ) -> list[dict[str, str]]:
        host = req.headers.get("host", "127.0.0.1")
        order = "Desc" if page.descending else "Asc"

        def href(n: int) -> str:
            return (
                f"http://{host}/v2/{resource.link_name}?ParamFilter={quote(raw_filter, safe='')}"
                f"&Page={n}&PageSize={page.page_size}&Order={order}"
            )

        links = [{"href": href(page.page), "rel": "self", "method": "GET"}]
        if self.config.prev_page_link and page.page > 1:
            links.append({"href": href(page.page - 1), "rel": "prevPage", "method": "GET"})
        if page.page < last_page:
            links.append({"href": href(page.page + 1), "rel": "nextPage", "method": "GET"})
        return links

    # ------------------------------------------------------------------ detail (§3.4)

    def detail(self, resource: Resource, raw_id: str, req: Request) -> Response:
        variant = self.config.field_names
        if resource.kind == "tasks":
            record = self.world.task(_int_id(raw_id))
        else:
            key: int | str = _guid_id(raw_id) if resource.guid_key else _int_id(raw_id)
            if resource.kind == "expenses":
                records = self.world.expense_records(datetime(1900, 1, 1), datetime(2999, 1, 1))
            else:
                records = self.world.entity_records(resource.kind)
            record = next((r for r in records if str(r[resource.key]).lower() == str(key).lower()), None)
        if record is None:
            raise ApiError(404)
        selected = select_fields([to_variant(resource.kind, record, variant)], self._selected(req))
        return Response.json({"result": selected[0]})


def _int_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise model_state("id", raw) from exc


def _guid_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError as exc:
        raise model_state("id", raw) from exc


class AuvoServer(SandboxServer):
    """A ``SandboxServer`` that also carries the fake's world, live config and token store."""

    world: AuvoWorld
    config: AuvoConfig
    tokens: TokenStore


def make_server(
    config: AuvoConfig, *, clock: Clock | None = None, port: int = 0, host: str = "127.0.0.1"
) -> AuvoServer:
    """Build (not start) the fake Auvo server; use it as a context manager or call ``start()``.

    The world's origin is ``config.origin`` or, when None, the clock's local day minus
    ``history_days``, fixed here once so the world does not slide as the clock moves.
    """
    clock = clock or Clock()
    origin = config.origin or (local_naive(clock.now()).date() - timedelta(days=config.history_days))
    world = AuvoWorld(config, clock, origin)
    faults = FaultPlan(seed=config.seed)
    app = AuvoApp(config, world, faults)
    admin = AuvoAdmin(config, world, app.tokens)
    server = AuvoServer(
        app,
        name="auvo",
        rate_limited=app.rate_limited,
        clock=clock,
        faults=faults,
        admin=admin,
        host=host,
        port=port,
    )
    server.world = world
    server.config = config
    server.tokens = app.tokens
    return server
