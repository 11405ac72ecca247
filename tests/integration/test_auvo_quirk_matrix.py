"""auvo_daily against every alternative behaviour of the Auvo sandbox (auvo-api.md §8.5, §9).

Each case flips one "Assumed"/uncertain switch of the fake API (or injects a fault), runs the
DAG's tasks for one day at the library seam (``tests/support/seams.py``: the stream loads and
the DAG's SQL checks) over loopback into a real PostgreSQL, then compares the
warehouse with the sandbox's ground truth, in the variant the switch makes the API serve. A case
also proves its switch really bit (a 401, a 429, a second page, a repeated page ...), so a
sandbox that silently ignored the switch would fail the test rather than pass it.

The world is bigger than the default test world so the task and customer listings span several
pages: page 2+ is where sort order, prevPage links and repeated pages matter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from sync_apis.auvo.parse import local_time
from sync_apis.auvo.streams import BY_NAME, Mode
from sync_apis.auvo.task_range import (
    DEFAULT_DAYS_AHEAD,
    DEFAULT_DAYS_BACK,
    DEFAULT_WINDOW_DAYS,
    TaskRange,
    taskdate_filter,
)
from tests.support.auvo_world import FAST, sandbox_key_field, sandbox_kind
from tests.support.sandboxes import SANDBOX_NOW
from tests.support.seams import run_auvo_day

DAY = date(2025, 3, 10)
# FAST narrows the taskDate range to +- 30 days (the world's whole history); the window cases
# below use the DAG's defaults.
DEFAULT_RANGE = {
    "task_days_back": DEFAULT_DAYS_BACK,
    "task_days_ahead": DEFAULT_DAYS_AHEAD,
    "task_window_days": DEFAULT_WINDOW_DAYS,
}
DEFAULT_WINDOWS = len(TaskRange().windows(DAY))
READ_TIMEOUT_S = 2.0
# ~130 tasks on DAY (2 pages), ~240 customers (3 pages), a multi-page updated-since listing.
WORLD: dict[str, Any] = {"seed": 7, "history_days": 14, "tasks_per_day": 200, "customers": 230}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def sandbox() -> Iterator[Any]:
    from sandbox.auvo import AuvoConfig, make_server
    from sandbox.core import Clock

    server = make_server(AuvoConfig(**WORLD), clock=Clock(SANDBOX_NOW))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Env:
    """The sandbox and the warehouse of one test."""

    def __init__(self, sandbox: Any, url: str) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world
        self.url = url

    def q(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(statement, params).fetchall()

    def run(self, day: date, **conf: Any) -> Any:
        """auvo_daily's tasks for ``day`` at the library seam; raises if a stream or check fails."""
        return run_auvo_day(self.sandbox.base_url, self.url, day, {**FAST, **conf})

    def statuses(self, fragment: str) -> list[int]:
        return [e.status for e in self.sandbox.requests_to(fragment)]


@pytest.fixture
def env(sandbox, warehouse_url, connect_airflow) -> Env:
    connect_airflow(auvo=sandbox)  # the hook check_the_whole_range_in_one_window_times_out builds
    return Env(sandbox, warehouse_url.url)


# --------------------------------------------------------------------------- ground truth


def _start(day: date) -> datetime:
    return local_time(day.isoformat() + "T00:00:00")  # type: ignore[return-value]


def served(kind: str, record: dict[str, Any], variant: str) -> dict[str, Any]:
    """A ground-truth record (real-data names) as the API served it under ``field_names``."""
    from sandbox.auvo.variants import to_variant

    return to_variant(kind, record, variant)


def assert_matches_truth(
    e: Env, streams: list[str], day: date = DAY, *, variant: str = "real", overlap_min: int = 10
) -> None:
    """The warehouse holds exactly what the sandbox says the run's streams should hold."""
    ok = {
        r[0] for r in e.q("SELECT stream FROM sync_meta.sync_runs WHERE status = 'success' AND day = %s", day)
    }
    assert set(streams) <= ok, f"streams without a successful sync_runs row: {set(streams) - ok}"
    start, end = _start(day), _start(day) + timedelta(days=1)
    for name in streams:
        stream = BY_NAME[name]
        if name == "tasks":
            on_day = {t["taskID"]: served("tasks", t, variant) for t in e.world.tasks_for_day(day)}
            assert on_day, "the sandbox world has tasks on the day"
            updated = {
                t["taskID"]: served("tasks", t, variant)
                for t in e.world.tasks_updated_between(start - timedelta(minutes=overlap_min), end)
            }
            deleted = {
                t["taskID"] for t in e.world.deleted_tasks(start - timedelta(minutes=overlap_min), end)
            }
            live = dict(e.q("SELECT task_id, raw FROM auvo.tasks WHERE deleted_at IS NULL"))
            assert live == {**updated, **on_day}, "live tasks differ from the day's + the window's updates"
            gone = {r[0] for r in e.q("SELECT task_id FROM auvo.tasks WHERE deleted_at IS NOT NULL")}
            assert gone == deleted, "soft-deleted tasks differ from GetDeletedTasks for the window"
        elif name == "customers":
            truth = {c["id"]: served("customers", c, variant) for c in e.world.customers()}
            live = dict(e.q("SELECT customer_id, raw FROM auvo.customers WHERE deleted_at IS NULL"))
            assert live == truth, "customers"
            names = dict(e.q("SELECT customer_id, description FROM auvo.customers"))
            assert names == {c["id"]: c["description"] or None for c in e.world.customers()}
        elif name == "expenses":
            live = dict(
                e.q(
                    "SELECT expense_id, raw FROM auvo.expenses"
                    " WHERE deleted_at IS NULL AND date >= %s AND date < %s",
                    start,
                    end,
                )
            )
            truth = {x["id"]: x for x in e.world.expenses_for_day(day)}
            assert truth, "the sandbox world has expenses on the day"
            assert live == truth, "expenses"
        else:
            assert stream.mode is Mode.SNAPSHOT
            kind = sandbox_kind(stream)
            key_field = sandbox_key_field(kind)
            live = dict(e.q(f"SELECT {stream.key.name}, raw FROM auvo.{name} WHERE deleted_at IS NULL"))
            truth = {
                (str(r[key_field]) if stream.key.kind == "text" else r[key_field]): served(kind, r, variant)
                for r in e.world.snapshot(kind)
            }
            assert live == truth, name


# --------------------------------------------------------------------------- helpers for cases


@contextmanager
def clock_ticking_per_request(server: Any, step: timedelta) -> Iterator[None]:
    """Move the pinned sandbox clock ``step`` forward before each API call (logins excepted).

    Token expiry then depends on how many requests a token served, not on how fast this machine
    is: deterministic, and no request ever races a deadline measured in wall-clock time.
    """
    app = server.app

    def ticking(req: Any) -> Any:
        if req.path_lower.startswith("/v2/") and not req.path_lower.startswith("/v2/login"):
            server.clock.advance(step)
        return app(req)

    server.app = ticking
    try:
        yield
    finally:
        server.app = app


def pages_loaded(e: Env, stream: str) -> int:
    """How many list pages the run's ``stream`` task read (sync_meta.sync_runs)."""
    return int(e.q("SELECT sum(pages) FROM sync_meta.sync_runs WHERE stream = %s", stream)[0][0] or 0)


@dataclass
class Case:
    config: dict[str, Any] = field(default_factory=dict)
    streams: list[str] = field(default_factory=list)
    conf: dict[str, Any] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    variant: str = "real"

    def __post_init__(self) -> None:
        # A run that loads tasks also loads the users and customers they point at, as a full run
        # does: check_orphans judges the day's tasks against those tables.
        if "tasks" in self.streams:
            self.streams = [*self.streams, *(s for s in ("users", "customers") if s not in self.streams)]


CASES: dict[str, Case] = {
    "field_names_doc": Case({"field_names": "doc"}, ["users", "customers", "tasks"], variant="doc"),
    "date_last_update_gt": Case({"date_last_update": "gt"}, ["tasks", "customers"]),
    "bare_end_date_midnight": Case({"bare_end_date": "midnight"}, ["tasks", "expenses"]),
    "page_size_over_max_reject": Case({"page_size_over_max": "reject"}, ["tasks", "customers", "users"]),
    "sort_key_date": Case({"sort_key": "date"}, ["tasks", "customers", "equipments", "users"]),
    "selectfields_ignore": Case({"selectfields": "ignore"}, ["tasks", "users"]),
    "users_without_paramfilter_reject": Case({"users_without_paramfilter": "reject"}, ["users"]),
    "customer_groups_bare": Case({"customer_groups_shape": "bare"}, ["customer_groups"]),
    "unauthorized_json_and_expired_token": Case(
        {"unauthorized_body": "json"},
        ["tasks", "customers", "users"],
        faults=[
            {"kind": "expire_token", "times": 1, "skip": 2},
            {"kind": "expire_token", "times": 1, "skip": 9},
        ],
    ),
    "empty_404_json": Case({"empty_404_body": "json", "segments": 0}, ["segments", "tasks", "expenses"]),
    "prev_page_link": Case({"prev_page_link": True}, ["tasks", "customers"]),
    # §8.5 "maximum task date range": 400 above a configured number of days; the default range
    # and windows, as a scheduled run sends them.
    "max_task_window_days": Case({"max_task_window_days": 31}, ["tasks"], conf=DEFAULT_RANGE),
    # §6.3 item 2: latency grows with the window. Scaled down 60 times (4 ms per window day, a
    # 2 s read timeout in place of 120 s): the whole 801-day range as one window would take
    # 3.2 s and time out, a 14-day window answers in 56 ms.
    "wide_windows_are_slow": Case(
        {"task_latency_s_per_window_day": 0.004, "task_latency_max_s": 5.0},
        ["tasks"],
        conf={**DEFAULT_RANGE, "read_timeout_s": READ_TIMEOUT_S},
    ),
    "duplicate_page": Case(
        {},
        ["tasks", "customers"],
        faults=[
            {"kind": "duplicate_page", "times": 1, "path": "/v2/customers"},
            {"kind": "duplicate_page", "times": 1, "path": "/v2/tasks", "skip": 1},
        ],
    ),
    "5xx_burst_recovers": Case(
        {},
        ["tasks", "customers", "users"],
        conf={"max_attempts": 4},
        faults=[
            {"kind": "status", "status": 503, "times": 3, "path": "/v2/tasks"},
            {"kind": "status", "status": 502, "times": 2, "path": "/v2/customers", "skip": 1},
            {"kind": "status", "status": 500, "times": 1, "path": "/v2/login"},
        ],
    ),
}


def check_switch_bit(name: str, e: Env) -> None:
    """Evidence that the case's alternative behaviour was really exercised."""
    if name == "field_names_doc":
        raw_user = e.q("SELECT raw FROM auvo.users LIMIT 1")[0][0]
        assert "userId" in raw_user and "userID" not in raw_user
        raw_customer = e.q("SELECT raw FROM auvo.customers LIMIT 1")[0][0]
        assert {"customerId", "name"} <= raw_customer.keys() and "id" not in raw_customer
        ids = e.q("SELECT a->'id' FROM auvo.tasks, jsonb_array_elements(raw->'attachments') a LIMIT 5")
        assert ids and all(isinstance(i[0], str) for i in ids), "attachment ids served as strings"
    elif name in ("sort_key_date", "prev_page_link", "page_size_over_max_reject"):
        # 2 pages of the day's tasks + 10 of the updated ones + 1 deleted; 3 pages of customers.
        assert pages_loaded(e, "tasks") >= 12 and pages_loaded(e, "customers") == 3
    elif name == "max_task_window_days":
        codes = e.statuses("/v2/tasks")
        assert 400 not in codes, "a window wider than the API's maximum was sent"
        # The day's page(s), then every window of both queries: at least one request each.
        assert len(codes) >= 1 + 2 * DEFAULT_WINDOWS
    elif name == "wide_windows_are_slow":
        took = e.q("SELECT duration_s FROM sync_meta.sync_runs WHERE stream = 'tasks'")[0][0]
        # The latency was really served: 2 x 58 windows of 14 days at 4 ms per window day.
        assert took >= 2 * 801 * 0.004, took
        check_the_whole_range_in_one_window_times_out(e)
    elif name == "customer_groups_bare":
        assert e.q("SELECT count(*) FROM auvo.customer_groups")[0][0] == len(
            e.world.snapshot("customerGroups")
        )
    elif name == "users_without_paramfilter_reject":
        assert 400 not in e.statuses("/v2/users")
    elif name == "unauthorized_json_and_expired_token":
        assert e.statuses("/v2/").count(401) == 2
        assert e.statuses("/v2/login").count(200) >= 5  # 3 stream tasks + 2 re-logins
    elif name == "empty_404_json":
        assert 404 in e.statuses("/v2/segments")
        assert e.q("SELECT count(*) FROM auvo.segments")[0][0] == 0
    elif name == "duplicate_page":
        assert not e.sandbox.faults.describe(), "both duplicate_page faults were served"
    elif name == "5xx_burst_recovers":
        codes = e.statuses("/v2/")
        assert codes.count(503) == 3 and codes.count(502) == 2 and codes.count(500) == 1
        retries = dict(e.q("SELECT stream, retries FROM sync_meta.sync_runs WHERE day = %s", DAY))
        assert retries["tasks"] >= 3 and retries["customers"] >= 2


def check_the_whole_range_in_one_window_times_out(e: Env) -> None:
    """What the case guards against: the same range as one window exceeds the read timeout."""
    from sync_apis.auvo.hook import AuvoHook
    from sync_apis.http import ApiError, HttpPolicy

    hook = AuvoHook("auvo_api", policy=HttpPolicy(read_timeout=READ_TIMEOUT_S, max_attempts=1))
    (first, _), (_, last) = TaskRange().windows(DAY)[0], TaskRange().windows(DAY)[-1]
    flt = {**taskdate_filter(first, last), "dateLastUpdate": f"{DAY.isoformat()}T00:00:00"}
    with pytest.raises(ApiError, match="ReadTimeout"):
        hook.get("tasks/", {"paramFilter": json.dumps(flt), "page": 1, "pageSize": 100})


@pytest.mark.parametrize("name", list(CASES))
def test_the_dag_survives_the_alternative(env: Env, name: str) -> None:
    case = CASES[name]
    env.sandbox.config.update(case.config)
    for fault in case.faults:
        spec = dict(fault)
        env.sandbox.faults.arm(spec.pop("kind"), **spec)
    env.run(DAY, streams=case.streams, **case.conf)
    assert_matches_truth(env, case.streams, variant=case.variant)
    check_switch_bit(name, env)


# --------------------------------------------------------------------------- cases with a setup


def test_strict_date_last_update_loses_nothing_at_the_window_edges(env: Env) -> None:
    """``dateLastUpdate`` read as "strictly after" (§8.5), with no overlap to hide behind.

    A task updated at exactly 00:00:00 of the run's day and a customer that turns up with exactly
    the watermark's timestamp after the watermark was taken are both inside what the contract
    promises; a client relying on ">=" would skip them in every run.
    """
    env.sandbox.config.update({"date_last_update": "gt"})
    added = env.world.add_entity(
        "tasks",
        {
            "taskDate": "2025-03-12T09:00:00",
            "dateLastUpdate": f"{DAY.isoformat()}T00:00:00",
            "customerId": env.world.customers()[0]["id"],
            "idUserTo": env.world.snapshot("users")[0]["userID"],
            "idUserFrom": env.world.snapshot("users")[0]["userID"],
            "orientation": "editada à meia-noite",
        },
    )
    env.run(DAY, streams=["tasks", "users", "customers"], overlap_minutes=0)
    assert_matches_truth(env, ["tasks", "users", "customers"], overlap_min=0)
    assert env.q("SELECT count(*) FROM auvo.tasks WHERE task_id = %s", added["taskID"])[0][0] == 1

    watermark = env.q("SELECT value FROM sync_meta.watermarks WHERE stream = 'customers'")[0][0]
    late = env.world.add_entity(
        "customers",
        {
            "description": "Cliente Tardio",
            "active": True,
            "dateLastUpdate": watermark.astimezone(local_time("2025-01-01T00:00:00").tzinfo)  # type: ignore[union-attr]
            .replace(tzinfo=None)
            .isoformat(),
        },
    )
    next_day = DAY + timedelta(days=1)
    env.run(next_day, streams=["customers"], overlap_minutes=0)
    assert_matches_truth(env, ["customers"], day=next_day, overlap_min=0)
    assert env.q("SELECT count(*) FROM auvo.customers WHERE customer_id = %s", late["id"])[0][0] == 1


def test_a_429_with_retry_after_under_a_small_budget_is_waited_out(env: Env) -> None:
    """Rate limit as 429 + Retry-After (R's speculation, §6.1/§8.5) at 3 requests per window.

    The sandbox's sliding window frees its first slot a window after the first request. The
    window is shortened from the API's minute to 12 s so the case costs seconds, not a minute;
    the client cannot tell the difference, it only sees the Retry-After it must honour.
    """
    env.sandbox.config.update(
        {
            "rate_limit_status": 429,
            "rate_limit_retry_after": True,
            "rate_limit_per_minute": 3,
            "rate_limit_window_s": 12.0,
        }
    )
    streams = ["users", "teams"]  # login, users, login, teams: the 4th request is the 429
    env.run(DAY, streams=streams)
    assert_matches_truth(env, streams)
    assert 429 in env.statuses("/v2/")
    waited = dict(env.q("SELECT stream, waited_s FROM sync_meta.sync_runs WHERE day = %s", DAY))
    # The wait came from Retry-After (seconds: most of the 12 s window), not from backoff_base_s
    # (0.05 s) — at the API's 60 s window the same wait is tens of seconds.
    assert max(waited.values()) >= 4, waited


def test_short_tokens_that_expire_mid_run_are_renewed(env: Env) -> None:
    """A 30 s token TTL while the sandbox clock moves 8 s per request: every token dies on its
    4th call, in the middle of a listing.

    The client measures the login's 30 s on its own clock, which barely moves, so only the 401
    tells it (§1.3: do not rely on the exact TTL). The world must not change in the sandbox time
    the run spans, or the ground truth would move under the run; that is checked, not assumed.
    """
    streams = ["tasks", "users", "customers"]
    clock = env.sandbox.clock
    clock.set(SANDBOX_NOW + timedelta(minutes=30))
    later = (env.world.tasks_for_day(DAY), env.world.customers(), env.world.snapshot("users"))
    clock.set(SANDBOX_NOW)
    assert later == (env.world.tasks_for_day(DAY), env.world.customers(), env.world.snapshot("users"))

    env.sandbox.config.update({"token_ttl_seconds": 30})
    with clock_ticking_per_request(env.sandbox, timedelta(seconds=8)):
        env.run(DAY, streams=streams)
    assert clock.now() < SANDBOX_NOW + timedelta(minutes=30), "the run outlasted the checked stable span"
    clock.set(SANDBOX_NOW)
    assert_matches_truth(env, streams)
    expired = env.statuses("/v2/").count(401)
    assert expired >= 3, "tokens expired mid-listing"  # the tasks stream alone makes 13 calls
    assert env.statuses("/v2/login").count(200) == len(streams) + expired  # one re-login per 401
