"""The deterministic Auvo world: determinism, evolution over time, mutations, ground truth."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import requests

from sandbox.core import SAO_PAULO
from tests.support.sandboxes import SANDBOX_NOW
from tests.support.start_auvo import StartAuvo

ALL_TIME = {"startDate": "2000-01-01T00:00:00", "endDate": "2099-12-31T23:59:59"}
SNAPSHOT_KINDS = (
    "users", "teams", "taskTypes", "segments", "keywords", "questionnaires", "customerGroups", "equipments",
    "equipmentCategories", "products", "productCategories", "services", "expenseTypes",
)  # fmt: skip


def window(day: date, days: int = 1) -> dict[str, str]:
    end = day + timedelta(days=days - 1)
    return {"startDate": f"{day}T00:00:00", "endDate": f"{end}T23:59:59"}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SAO_PAULO)


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_world_other_seed_other_world(
    auvo: StartAuvo,
) -> None:
    a, client_a = auvo()
    b, client_b = auvo()
    c, client_c = auvo(seed=8)
    span = window(date(2025, 3, 3), 14)
    assert client_a.all("/tasks", param_filter=span) == client_b.all("/tasks", param_filter=span)
    assert client_a.all("/customers", param_filter={}) == client_b.all("/customers", param_filter={})
    for kind in SNAPSHOT_KINDS:
        assert a.world.snapshot(kind) == b.world.snapshot(kind), kind
    assert client_a.all("/tasks", param_filter=span) != client_c.all("/tasks", param_filter=span)
    assert a.world.customers() != c.world.customers()


def test_state_depends_only_on_now(auvo: StartAuvo) -> None:
    server, _ = auvo()
    day = date(2025, 3, 14)  # tomorrow: tasks still being created, none done yet
    before = server.world.tasks_for_day(day)
    server.clock.advance(timedelta(days=3))
    assert server.world.tasks_for_day(day) != before  # the world moved on ...
    server.clock.set(SANDBOX_NOW)
    assert server.world.tasks_for_day(day) == before  # ... and is the same again at the same now
    fresh, _ = auvo()
    assert fresh.world.tasks_for_day(day) == before  # no hidden state from having been evaluated later


# --------------------------------------------------------------------------- evolution


def test_tasks_are_created_rescheduled_finished_and_deleted_over_time(
    auvo: StartAuvo,
) -> None:
    early = datetime(2025, 3, 6, 12, 0, tzinfo=SAO_PAULO)
    server, client = auvo(now=early, tasks_per_day=20)
    span = window(date(2025, 3, 6), 6)
    then = {t["taskID"]: t for t in client.all("/tasks", param_filter=span)}
    then_deleted = {t["taskID"] for t in client.all("/tasks/GetDeletedTasks", param_filter=span)}
    assert all(t["creationDate"] <= "2025-03-06T12:00:00" for t in then.values())
    server.clock.set(SANDBOX_NOW)
    client.login()  # a week later the token has long expired (§1.3)
    now = {t["taskID"]: t for t in client.all("/tasks", param_filter=span)}
    deleted = {t["taskID"]: t for t in client.all("/tasks/GetDeletedTasks", param_filter=span)}

    created = [t for k, t in now.items() if k not in then]
    assert created and all("2025-03-06T12:00:00" < t["creationDate"] < t["taskDate"] for t in created)

    finished = [t for k, t in now.items() if k in then and t["finished"] and not then[k]["finished"]]
    assert finished
    for task in finished:
        assert task["taskStatus"] == 5 and task["checkIn"] and task["checkOut"]
        assert task["checkInDate"] <= task["checkOutDate"] <= task["dateLastUpdate"]
        assert task["dateLastUpdate"] > then[task["taskID"]]["dateLastUpdate"]

    moved = [k for k, t in now.items() if k in then and t["taskDate"] != then[k]["taskDate"]]
    assert moved
    detail = client.get(f"/tasks/{moved[0]}").json()["result"]
    history = detail["reschedulingHistory"]
    assert history[0]["oldScheduledDate"] == then[moved[0]]["taskDate"]
    assert history[0]["newScheduledDate"] == detail["taskDate"]

    gone = set(deleted) - then_deleted
    assert gone and not gone & set(now)
    for task_id in gone:
        assert "2025-03-06T12:00:00" < deleted[task_id]["dateLastUpdate"] <= "2025-03-13T12:00:00"
        assert client.get(f"/tasks/{task_id}").status_code == 404
    truth = [
        t
        for t in server.world.deleted_tasks(early, SANDBOX_NOW)
        if span["startDate"] <= t["taskDate"] <= span["endDate"]
    ]
    assert truth == sorted((t for t in deleted.values() if t["taskID"] in gone), key=lambda t: t["taskID"])


def test_customers_are_added_and_edited_over_time(
    auvo: StartAuvo,
) -> None:
    server, _ = auvo()
    before = {c["id"]: c for c in server.world.customers()}
    server.clock.advance(timedelta(days=14))
    after = {c["id"]: c for c in server.world.customers()}
    assert set(before) < set(after)  # new customers, none lost
    edited = [k for k in before if after[k]["dateLastUpdate"] > before[k]["dateLastUpdate"]]
    assert edited
    for key in edited:
        changed = {f for f in after[key] if after[key][f] != before[key][f]} - {"dateLastUpdate"}
        assert "note" in changed and changed <= {"note", "phoneNumber", "email", "manager", "contacts"}
    untouched = [k for k in before if k not in edited]
    assert untouched and all(after[k] == before[k] for k in untouched)


def test_snapshot_kinds_lose_one_and_gain_one(auvo: StartAuvo) -> None:
    server, _ = auvo(snapshot_churn_days=5)
    before = {kind: server.world.snapshot(kind) for kind in SNAPSHOT_KINDS}
    server.clock.advance(timedelta(days=5))
    for kind in SNAPSHOT_KINDS:
        key = "userID" if kind == "users" else "productId" if kind == "products" else "id"
        old = {r[key] for r in before[kind]}
        new = {r[key] for r in server.world.snapshot(kind)}
        assert len(old - new) == 1 and len(new - old) == 1, kind


# --------------------------------------------------------------------------- ground truth


def test_ground_truth_equals_what_paging_yields(
    auvo: StartAuvo,
) -> None:
    server, client = auvo()
    world = server.world
    for offset in range(4):
        day = date(2025, 3, 10) + timedelta(days=offset)
        assert client.all("/tasks", param_filter=window(day), page_size=7) == world.tasks_for_day(day)
        expenses = client.all(
            "/expenses", param_filter={"startDate": str(day), "endDate": str(day)}, page_size=3
        )
        assert expenses == world.expenses_for_day(day)
    assert client.all("/customers", param_filter={}, page_size=9) == world.customers()
    for kind in SNAPSHOT_KINDS:
        assert client.all(f"/{kind}", param_filter={}, page_size=4) == world.snapshot(kind), kind
    since = datetime(2025, 3, 11, 0, 0)
    updated = client.all("/tasks", param_filter={**ALL_TIME, "dateLastUpdate": since.isoformat()})
    assert updated == world.tasks_updated_between(since, SANDBOX_NOW + timedelta(seconds=1))
    deleted = client.all(
        "/tasks/GetDeletedTasks", param_filter={**ALL_TIME, "dateLastUpdate": since.isoformat()}
    )
    assert deleted and deleted == world.deleted_tasks(since, SANDBOX_NOW + timedelta(seconds=1))
    some = world.tasks_for_day(date(2025, 3, 11))[0]
    assert client.get(f"/tasks/{some['taskID']}").json()["result"] == world.task(some["taskID"])


# --------------------------------------------------------------------------- mutations


def test_python_mutations_bump_date_last_update(
    auvo: StartAuvo,
) -> None:
    server, client = auvo()
    world = server.world
    day = date(2025, 3, 11)
    task_id, other_id = (t["taskID"] for t in world.tasks_for_day(day)[:2])
    server.clock.advance(timedelta(minutes=10))
    stamp = "2025-03-13T12:10:00"
    updated = world.update_task(task_id, orientation="Trocar filtro", taskDate=datetime(2025, 3, 20, 9, 0))
    assert updated["orientation"] == "Trocar filtro" and updated["dateLastUpdate"] == stamp
    assert task_id not in {t["taskID"] for t in client.all("/tasks", param_filter=window(day))}
    moved = client.all("/tasks", param_filter=window(date(2025, 3, 20)))
    assert task_id in {t["taskID"] for t in moved}
    since = client.all("/tasks", param_filter={**ALL_TIME, "dateLastUpdate": stamp})
    assert [t["taskID"] for t in since] == [task_id]

    world.delete_task(other_id)
    assert client.get(f"/tasks/{other_id}").status_code == 404
    deleted = client.all("/tasks/GetDeletedTasks", param_filter={**ALL_TIME, "dateLastUpdate": stamp})
    assert [(t["taskID"], t["dateLastUpdate"]) for t in deleted] == [(other_id, stamp)]

    customer = world.customers()[0]
    changed = world.update_customer(customer["id"], description="Cliente Renomeado")
    assert changed["description"] == "Cliente Renomeado" and changed["dateLastUpdate"] == stamp
    listed = client.all("/customers", param_filter={"dateLastUpdate": stamp})
    assert [c["id"] for c in listed] == [customer["id"]]

    user = world.snapshot("users")[-1]
    world.remove_entity("users", user["userID"])
    added = world.add_entity("users", {"name": "Nova Técnica", "externalId": ""})
    ids = {u["userID"] for u in client.all("/users", param_filter={})}
    assert user["userID"] not in ids and added["userID"] in ids
    assert client.get(f"/users/{user['userID']}").status_code == 404

    with pytest.raises(KeyError):
        world.update_task(123, orientation="x")


def test_admin_routes_mutate_and_report(auvo: StartAuvo) -> None:
    server, client = auvo()
    admin = server.base_url + "/_sandbox/auvo"
    task = server.world.tasks_for_day(date(2025, 3, 12))[0]
    reply = requests.post(f"{admin}/tasks/{task['taskID']}", json={"orientation": "via curl"}, timeout=10)
    assert reply.status_code == 200 and reply.json()["orientation"] == "via curl"
    assert client.get(f"/tasks/{task['taskID']}").json()["result"]["orientation"] == "via curl"
    assert requests.delete(f"{admin}/tasks/{task['taskID']}", timeout=10).status_code == 200
    assert client.get(f"/tasks/{task['taskID']}").status_code == 404
    product = server.world.snapshot("products")[0]
    assert requests.delete(f"{admin}/Products/{product['productId']}", timeout=10).status_code == 200
    assert product["productId"] not in {p["productId"] for p in client.all("/products", param_filter={})}
    created = requests.post(
        f"{admin}/teams", json={"description": "Equipe Nova", "teamUsers": []}, timeout=10
    )
    assert created.status_code == 201
    assert created.json() in client.all("/teams", param_filter={})
    truth = requests.get(f"{admin}/truth/tasks", params={"day": "2025-03-12"}, timeout=10).json()
    assert truth == server.world.tasks_for_day(date(2025, 3, 12))
    assert requests.post(f"{admin}/tasks/1", json={"x": 1}, timeout=10).status_code == 404


def test_config_is_settable_over_http(auvo: StartAuvo) -> None:
    server, client = auvo()
    url = server.base_url + "/_sandbox/auvo/config"
    assert requests.get(url, timeout=10).json()["field_names"] == "real"
    reply = requests.post(url, json={"field_names": "doc", "token_ttl_seconds": 60}, timeout=10)
    assert reply.status_code == 200 and sorted(reply.json()["changed"]) == [
        "field_names",
        "token_ttl_seconds",
    ]
    assert server.config.field_names == "doc"
    assert "userId" in client.get("/users", param_filter={}).json()["result"]["entityList"][0]
    assert requests.post(url, json={"no_such_switch": 1}, timeout=10).status_code == 400
    requests.post(url, json={"seed": 99}, timeout=10)
    assert server.world.customers() != auvo()[0].world.customers()  # the world follows the seed
    requests.post(url, json={"admin_config_writable": False}, timeout=10)
    assert requests.post(url, json={"field_names": "real"}, timeout=10).status_code == 403
