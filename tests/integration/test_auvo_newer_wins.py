"""A run that fetched earlier but writes later never overwrites what a newer run wrote.

Concurrent backfill runs interleave freely: run A (day 10) fetches, is slow to finish, and run B
(the clock's day) fetches *after the world changed* and writes first. Here the order is forced,
not hoped for: the sandbox answers A's first request of each stream with the world as it was,
then holds the answer until B is done. The load loop runs for real (the same ``sync_stream``
the DAG's tasks call) against a real PostgreSQL; the world's ground truth decides.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import psycopg
import pytest

from sync_apis.auvo import sync
from sync_apis.auvo.hook import AuvoHook
from sync_apis.auvo.task_range import TaskRange
from sync_apis.http import HttpPolicy
from sync_apis.sql_files import sql_files
from sync_apis.warehouse import RunInfo, run_schema_files

OLD_DAY = date(2025, 3, 10)
TODAY = date(2025, 3, 13)  # the pinned clock's day: changes made now are in its window
STREAMS = ("users", "customers", "tasks")
RANGE = TaskRange(30, 30)  # the sandbox world's whole history lies within


@pytest.fixture
def wh(warehouse_url):
    with psycopg.connect(warehouse_url.url, autocommit=True) as conn:
        run_schema_files(conn, sql_files("sync_meta") + sql_files("auvo"))
        yield conn


@pytest.fixture
def hook(auvo_sandbox, monkeypatch):
    conn = {"conn_type": "http", "host": auvo_sandbox.base_url + "/v2"}
    conn |= {"login": "sandbox-api-key", "password": "sandbox-api-token"}
    monkeypatch.setenv("AIRFLOW_CONN_AUVO_API", json.dumps(conn))
    return lambda: AuvoHook("auvo_api", policy=HttpPolicy(backoff_base=0.05, max_attempts=3))


def sync_one(url: str, hook: AuvoHook, stream: str, day: date, run_id: str) -> sync.StreamResult:
    run = RunInfo("auvo", stream, day, run_id, "auvo_daily", "sync_stream")
    with psycopg.connect(url) as conn:
        return sync.sync_stream(conn, hook, stream, sync.window_for(day, 10, RANGE), run)


@contextmanager
def first_answers_held(
    server: Any, paths: set[str]
) -> Iterator[tuple[threading.Event, threading.Semaphore, dict[str, Any]]]:
    """The first request to each of ``paths`` is answered from the world as it is *now*, but the
    answer is held until ``release`` is set; ``held`` is released once per held answer, whose
    records are kept in ``served`` by path."""
    app, pending, served = server.app, set(paths), {}
    release, held, lock = threading.Event(), threading.Semaphore(0), threading.Lock()

    def holding(req: Any) -> Any:
        with lock:
            hold = req.path_lower in pending
            pending.discard(req.path_lower)
        response = app(req)
        if hold:
            served[req.path_lower] = json.loads(response.body)["result"]["entityList"]
            held.release()
            release.wait(60)
        return response

    server.app = holding
    try:
        yield release, held, served
    finally:
        release.set()
        server.app = app


def test_an_old_fetch_written_after_a_newer_run_changes_nothing(auvo_sandbox, warehouse_url, wh, hook):
    world = auvo_sandbox.world
    url = warehouse_url.url
    errors: list[BaseException] = []
    results: dict[str, sync.StreamResult] = {}

    def run_a(stream: str) -> None:
        try:
            results[stream] = sync_one(url, hook(), stream, OLD_DAY, "old-day")
        except BaseException as exc:
            errors.append(exc)

    for stream in STREAMS:  # what the warehouse held before: every record the test touches
        sync_one(url, hook(), stream, OLD_DAY, "before")
    on_old_day = [t["taskID"] for t in world.tasks_for_day(OLD_DAY)]
    edited, deleted = on_old_day[0], on_old_day[1]
    # The customer A's updated-since listing holds: the newest, the one the watermark is at.
    customer = max(world.customers(), key=lambda c: c["dateLastUpdate"])["id"]
    users = world.snapshot("users")
    renamed, removed = users[1]["userID"], users[2]["userID"]

    with first_answers_held(auvo_sandbox, {f"/v2/{s}" for s in STREAMS}) as (release, held, served):
        threads = [threading.Thread(target=run_a, args=(s,)) for s in STREAMS]
        for t in threads:
            t.start()
        for _ in STREAMS:
            assert held.acquire(timeout=30), "run A's first answers were served"
        # The world moves on after A's first answers; B sees the new state and writes first.
        world.update_task(edited, orientation="Trocar o compressor")
        world.delete_task(deleted)
        world.update_customer(customer, description="Cliente Renomeado")
        world.update_entity("users", renamed, name="Nome Novo")
        world.remove_entity("users", removed)
        added = world.add_entity("users", {"name": "Pessoa Nova", "login": "nova"})
        for stream in STREAMS:
            sync_one(url, hook(), stream, TODAY, "today")
        release.set()
        for t in threads:
            t.join(timeout=120)
    assert not errors, errors

    # Users: A's snapshot is older than what B wrote: skipped, recorded as such.
    live = dict(wh.execute("SELECT user_id, raw FROM auvo.users WHERE deleted_at IS NULL").fetchall())
    assert live == {u["userID"]: u for u in world.snapshot("users")}
    assert live[renamed]["name"] == "Nome Novo" and added["userID"] in live
    assert wh.execute(
        "SELECT deleted_at IS NOT NULL FROM auvo.users WHERE user_id = %s", (removed,)
    ).fetchone()[0]
    status, error = wh.execute(
        "SELECT status, error FROM sync_meta.sync_runs WHERE run_id = 'old-day' AND stream = 'users'"
    ).fetchone()
    assert status == "skipped" and "newer snapshot" in error and "run today" in error
    assert results["users"].summary.rows_inserted == results["users"].summary.rows_updated == 0

    # Customers and tasks: the stamp decides, row by row; A still wrote what only it had seen.
    customers = dict(wh.execute("SELECT customer_id, raw FROM auvo.customers").fetchall())
    assert customers == {c["id"]: c for c in world.customers()}
    old_customer = next(c for c in served["/v2/customers"] if c["id"] == customer)
    assert old_customer != customers[customer], "A really fetched an older version"
    tasks = dict(wh.execute("SELECT task_id, raw FROM auvo.tasks WHERE deleted_at IS NULL").fetchall())
    assert tasks[edited]["orientation"] == "Trocar o compressor"
    assert {edited, deleted} <= {t["taskID"] for t in served["/v2/tasks"]}, "A fetched both alive"
    assert tasks[edited] == next(t for t in world.tasks_for_day(OLD_DAY) if t["taskID"] == edited)
    assert deleted not in tasks, "the old live version resurrected a task a newer run saw deleted"
    on_day = {t["taskID"]: t for t in world.tasks_for_day(OLD_DAY)}
    assert {k: v for k, v in tasks.items() if k in on_old_day} == on_day
    runs = dict(
        wh.execute("SELECT stream, status FROM sync_meta.sync_runs WHERE run_id = 'old-day'").fetchall()
    )
    assert runs == {"users": "skipped", "customers": "success", "tasks": "success"}
