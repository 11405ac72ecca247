"""Fake Auvo list and detail quirks (auvo-api.md §2-§4, §6.3, §8.5 switches), over real HTTP."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime
from typing import Any

import requests

from sandbox.core import SAO_PAULO
from tests.support.start_auvo import StartAuvo

DAY_10 = {"startDate": "2025-03-10T00:00:00", "endDate": "2025-03-10T23:59:59"}
WEEK = {"startDate": "2025-03-03T00:00:00", "endDate": "2025-03-12T23:59:59"}
SNAPSHOT_PATHS = (
    "users", "teams", "taskTypes", "segments", "keywords", "questionnaires", "customerGroups", "equipments",
    "equipmentCategories", "products", "productCategories", "services", "expenseTypes",
)  # fmt: skip


def result(reply: requests.Response) -> dict[str, Any]:
    assert reply.status_code == 200, (reply.status_code, reply.text)
    return dict(reply.json()["result"])


# --------------------------------------------------------------------------- envelope and paging


def test_list_envelope_links_and_paging(auvo: StartAuvo) -> None:
    server, client = auvo()
    first = result(client.get("/tasks/", param_filter=DAY_10, page=1, pageSize=5))
    total = first["pagedSearchReturnData"]["totalItems"]
    assert total == len(server.world.tasks_for_day(datetime(2025, 3, 10).date())) > 5
    assert first["pagedSearchReturnData"] == {"order": 0, "pageSize": 5, "page": 1, "totalItems": total}
    rels = [link["rel"] for link in first["links"]]
    assert rels == ["self", "nextPage"]  # §3.3: no prevPage by default
    assert "Page=2" in first["links"][1]["href"] and "PageSize=5" in first["links"][1]["href"]
    last_page = -(-total // 5)
    last = result(client.get("/tasks", param_filter=DAY_10, page=last_page, pageSize=5))
    assert [link["rel"] for link in last["links"]] == ["self"]
    assert len(last["entityList"]) == total - 5 * (last_page - 1)
    past_end = client.get("/tasks", param_filter=DAY_10, page=last_page + 1, pageSize=5)
    assert past_end.status_code == 404 and past_end.content == b""  # §3.3 quirk 1


def test_empty_window_is_404_and_body_switch(auvo: StartAuvo) -> None:
    server, client = auvo()
    empty = {"startDate": "2019-01-01T00:00:00", "endDate": "2019-01-01T23:59:59"}
    reply = client.get("/tasks", param_filter=empty)
    assert reply.status_code == 404 and reply.content == b""
    server.config.empty_404_body = "json"
    reply = client.get("/tasks", param_filter=empty)
    assert reply.status_code == 404 and reply.json()["message"]


def test_prev_page_link_switch(auvo: StartAuvo) -> None:
    _server, client = auvo(prev_page_link=True)
    second = result(client.get("/tasks", param_filter=DAY_10, page=2, pageSize=3))
    rels = {link["rel"]: link["href"] for link in second["links"]}
    assert set(rels) == {"self", "prevPage", "nextPage"}
    assert "Page=1&" in rels["prevPage"]


def test_case_insensitive_paths_query_names_and_filter_keys(
    auvo: StartAuvo,
) -> None:
    server, client = auvo()
    baseline = result(client.get("/tasks/", param_filter=DAY_10, page=1, pageSize=100))
    headers = {"Authorization": f"Bearer {client.token}"}
    shouty = {"STARTDATE": DAY_10["startDate"], "EndDate": DAY_10["endDate"]}
    reply = requests.get(
        server.base_url + "/v2/Tasks",
        params={"ParamFilter": json.dumps(shouty), "Page": "1", "PAGESIZE": "100", "Order": "Asc"},
        headers=headers,
        timeout=10,
    )
    assert result(reply)["entityList"] == baseline["entityList"]
    for path in ("/TaskTypes", "/tasktypes/", "/taskTypes"):
        assert result(client.get(path, param_filter={}))["pagedSearchReturnData"]["totalItems"] > 0


def test_tasks_and_deleted_tasks_require_start_and_end(
    auvo: StartAuvo,
) -> None:
    _, client = auvo()
    for path in ("/tasks", "/tasks/GetDeletedTasks", "/tasks/getdeletedtasks"):
        for flt in (None, {}, {"startDate": "2025-03-10T00:00:00"}):
            reply = client.get(path, param_filter=flt)
            assert reply.status_code == 400, (path, flt)
            body = reply.json()
            assert set(body) == {"message", "target", "errorCode", "errors"}
            assert "paramFilter is required" in body["message"]
    bad_date = client.get("/tasks", param_filter={"startDate": "10/03/2025", "endDate": "2025-03-10"})
    assert bad_date.status_code == 400 and "startDate" in bad_date.json()
    bad_json = client.get("/tasks", paramFilter="{not json")
    assert bad_json.status_code == 400


def test_window_applies_to_task_date(auvo: StartAuvo) -> None:
    _, client = auvo()
    tasks = client.all("/tasks", param_filter=WEEK)
    assert tasks
    assert all("2025-03-03T00:00:00" <= t["taskDate"] <= "2025-03-12T23:59:59" for t in tasks)
    # creationDate is not what the window filters: many tasks were created before the window.
    assert any(t["creationDate"] < "2025-03-03T00:00:00" for t in tasks)


def test_bare_end_date_whole_day_or_midnight(auvo: StartAuvo) -> None:
    server, client = auvo()
    bare = {"startDate": "2025-03-09", "endDate": "2025-03-10"}
    whole = client.all("/tasks", param_filter=bare)
    assert {t["taskDate"][:10] for t in whole} == {"2025-03-09", "2025-03-10"}
    server.config.bare_end_date = "midnight"
    midnight = client.all("/tasks", param_filter=bare)
    assert {t["taskDate"][:10] for t in midnight} == {"2025-03-09"}


def test_date_last_update_filter_gte_or_gt(auvo: StartAuvo) -> None:
    server, client = auvo()
    tasks = client.all("/tasks", param_filter=WEEK)
    pivot = sorted(t["dateLastUpdate"] for t in tasks)[len(tasks) // 2]
    flt = {**WEEK, "dateLastUpdate": pivot}
    gte = client.all("/tasks", param_filter=flt)
    assert gte and all(t["dateLastUpdate"] >= pivot for t in gte)
    assert any(t["dateLastUpdate"] == pivot for t in gte)
    assert len(gte) == sum(1 for t in tasks if t["dateLastUpdate"] >= pivot)
    server.config.date_last_update = "gt"
    gt = client.all("/tasks", param_filter=flt)
    assert all(t["dateLastUpdate"] > pivot for t in gt)
    assert len(gt) < len(gte)
    customers = client.all("/customers", param_filter={"dateLastUpdate": "2025-03-01T00:00:00"})
    assert customers and all(c["dateLastUpdate"] > "2025-03-01T00:00:00" for c in customers)
    assert len(customers) < len(server.world.customers())


def test_date_last_update_upper_bound_ignored_by_default_honoured_by_switch(auvo: StartAuvo) -> None:
    server, client = auvo()
    tasks = client.all("/tasks", param_filter=WEEK)
    stamps = sorted(t["dateLastUpdate"] for t in tasks)
    low, high = stamps[len(stamps) // 4], stamps[len(stamps) // 2]
    bounded = {**WEEK, "dateLastUpdate": low, "endDateLastUpdate": high}
    # The docs name endDateLastUpdate only for tickets and service orders: by default it is ignored.
    ignored = client.all("/tasks", param_filter=bounded)
    assert len(ignored) == sum(1 for s in stamps if s >= low)
    server.config.update({"date_last_update_until": "honour"})
    honoured = client.all("/tasks", param_filter=bounded)
    assert honoured and all(low <= t["dateLastUpdate"] <= high for t in honoured)
    assert len(honoured) == sum(1 for s in stamps if low <= s <= high) < len(ignored)
    customers = client.all(
        "/customers",
        param_filter={"dateLastUpdate": "2025-01-01T00:00:00", "endDateLastUpdate": "2025-03-01T00:00:00"},
    )
    assert customers and all(
        "2025-01-01T00:00:00" <= c["dateLastUpdate"] <= "2025-03-01T00:00:00" for c in customers
    )


def test_page_size_above_100_clamped_or_rejected(
    auvo: StartAuvo,
) -> None:
    server, client = auvo(tasks_per_day=30)
    clamped = result(client.get("/tasks", param_filter=WEEK, pageSize=500))
    assert clamped["pagedSearchReturnData"]["pageSize"] == 100 and len(clamped["entityList"]) == 100
    big_customers = result(client.get("/customers", param_filter={}, pageSize=500))  # no maximum there (§3.1)
    assert big_customers["pagedSearchReturnData"]["pageSize"] == 500
    server.config.page_size_over_max = "reject"
    assert client.get("/tasks", param_filter=WEEK, pageSize=101).status_code == 400
    assert client.get("/tasks/GetDeletedTasks", param_filter=WEEK, pageSize=101).status_code == 400
    assert client.get("/tasks", param_filter=WEEK, pageSize=100).status_code == 200


def test_order_and_sort_key(auvo: StartAuvo) -> None:
    server, client = auvo()
    asc = client.all("/tasks", param_filter=WEEK, order="asc")
    desc = result(client.get("/tasks", param_filter=WEEK, order="desc", pageSize=100))
    assert [t["taskID"] for t in asc] == sorted(t["taskID"] for t in asc)
    assert desc["pagedSearchReturnData"]["order"] == 1
    assert [t["taskID"] for t in desc["entityList"]] == sorted((t["taskID"] for t in asc), reverse=True)[:100]
    numeric = result(client.get("/tasks", param_filter=WEEK, order="1", pageSize=100))
    assert numeric["entityList"] == desc["entityList"]
    server.config.sort_key = "date"
    by_date = client.all("/tasks", param_filter=WEEK)
    assert [t["taskDate"] for t in by_date] == sorted(t["taskDate"] for t in by_date)
    assert [t["taskID"] for t in by_date] != [t["taskID"] for t in asc]


def test_selectfields_honoured_or_ignored(auvo: StartAuvo) -> None:
    server, client = auvo()
    slim = result(client.get("/tasks", param_filter=DAY_10, selectfields="taskID,TASKDATE"))
    assert all(set(t) == {"taskID", "taskDate"} for t in slim["entityList"])
    equipments = result(client.get("/equipments", param_filter={}, selectFields="id,name,identifier"))
    assert all(set(e) == {"id", "name", "identifier"} for e in equipments["entityList"])
    server.config.selectfields = "ignore"
    full = result(client.get("/tasks", param_filter=DAY_10, selectfields="taskID"))
    assert all("customerId" in t for t in full["entityList"])


def test_users_without_param_filter(auvo: StartAuvo) -> None:
    server, client = auvo()
    assert client.get("/users").status_code == 200
    server.config.users_without_paramfilter = "reject"
    rejected = client.get("/users")
    assert rejected.status_code == 400
    assert rejected.json() == {
        "message": "The paramFilter is required as ParamUserFilter string json.",
        "target": None,
        "errorCode": 0,
        "errors": None,
    }
    assert client.get("/users", param_filter={}).status_code == 200


def test_field_name_variants(auvo: StartAuvo) -> None:
    server, client = auvo()
    real_user = result(client.get("/users", param_filter={}))["entityList"][0]
    real_customer = result(client.get("/customers", param_filter={}))["entityList"][0]
    assert "userID" in real_user and "userId" not in real_user
    assert {"id", "description", "uriAttachments"} <= set(real_customer)
    finished = [t for t in client.all("/tasks", param_filter=WEEK) if t["attachments"]]
    assert finished and isinstance(finished[0]["attachments"][0]["id"], int)
    server.config.field_names = "doc"
    doc_user = result(client.get("/users", param_filter={}))["entityList"][0]
    doc_customer = result(client.get(f"/customers/{real_customer['id']}"))
    assert doc_user["userId"] == real_user["userID"] and "userID" not in doc_user
    assert (
        doc_customer["customerId"] == real_customer["id"]
        and doc_customer["name"] == real_customer["description"]
    )
    assert "uriAnexos" in doc_customer and "id" not in doc_customer
    doc_task = result(client.get(f"/tasks/{finished[0]['taskID']}"))
    assert isinstance(doc_task["attachments"][0]["id"], str)


def test_customer_groups_shape_switch(auvo: StartAuvo) -> None:
    server, client = auvo()
    listed = result(client.get("/customerGroups", param_filter={}))
    assert isinstance(listed["entityList"], list) and listed["entityList"]
    server.config.customer_groups_shape = "bare"
    reply = client.get("/customerGroups", param_filter={})
    assert reply.status_code == 200
    bare = reply.json()["result"]
    assert isinstance(bare, list)
    assert bare == server.world.snapshot("customerGroups")
    group = bare[0]["id"]
    members = client.all(f"/customerGroups/{group}/clients")
    assert members and all(group in c["groupsId"] for c in members)


def test_detail_unknown_and_malformed_ids(auvo: StartAuvo) -> None:
    server, client = auvo()
    task = client.all("/tasks", param_filter=DAY_10)[0]
    detail = result(client.get(f"/tasks/{task['taskID']}/"))
    assert detail["taskID"] == task["taskID"] and "reschedulingHistory" in detail  # detail only (§6.3 item 8)
    assert "reschedulingHistory" not in task
    assert client.get("/tasks/123").status_code == 404
    malformed = client.get("/tasks/abc")
    assert malformed.status_code == 400 and malformed.json() == {"id": ["The value 'abc' is not valid."]}
    product = result(client.get("/products", param_filter={}))["entityList"][0]
    assert result(client.get(f"/products/{product['productId']}")) == product
    assert client.get(f"/products/{uuid.uuid4()}").status_code == 404
    assert client.get("/products/42").status_code == 400
    for path in SNAPSHOT_PATHS:
        first = result(client.get(f"/{path}", param_filter={}))["entityList"][0]
        key = first.get("userID", first.get("productId", first.get("id")))
        assert result(client.get(f"/{path}/{key}")) == first, path
    team = server.world.snapshot("teams")[0]
    members = client.all(f"/teams/{team['id']}/users")
    assert sorted(m["name"] for m in members) == sorted(team["teamUsers"])


def test_unknown_paths_and_methods(auvo: StartAuvo) -> None:
    server, client = auvo()
    assert client.get("/webHooks").status_code == 404
    assert client.get("/tasks/1/2/3").status_code == 404
    assert requests.get(server.base_url + "/api/v2/tasks", timeout=10).status_code == 404
    post = requests.post(
        server.base_url + "/v2/customers",
        json={},
        headers={"Authorization": f"Bearer {client.token}"},
        timeout=10,
    )
    assert post.status_code == 405


def test_every_read_endpoint_lists(auvo: StartAuvo) -> None:
    server, client = auvo()
    for path in (*SNAPSHOT_PATHS, "customers"):
        listed = client.all(f"/{path}", param_filter={})
        assert listed == server.world.snapshot(path), path
    deleted = result(client.get("/tasks/GetDeletedTasks", param_filter=WEEK))
    assert deleted["entityList"] and all(t["taskID"] for t in deleted["entityList"])


def test_value_formats(auvo: StartAuvo) -> None:
    server, client = auvo(tasks_per_day=30)
    tasks = client.all("/tasks", param_filter=WEEK)
    money = re.compile(r"^\d{1,3}(\.\d{3})*,\d{2}$")
    assert all(money.match(t["expense"]) for t in tasks)
    assert any(t["expense"] == "2.500.000,00" for t in tasks)
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")  # offset-less local (§6.3 item 6)
    assert all(stamp.match(t["taskDate"]) and stamp.match(t["dateLastUpdate"]) for t in tasks)
    finished = [t for t in tasks if t["finished"]]
    open_tasks = [t for t in tasks if not t["checkIn"]]
    assert finished and open_tasks
    assert all(t["taskStatus"] == 5 and stamp.match(t["checkOutDate"]) for t in finished)
    assert all(t["checkInDate"] == "" and t["checkOutDate"] == "" for t in open_tasks)
    for t in finished:
        h, m, s = (int(x) for x in t["duration"].split(":"))
        assert abs(float(t["durationDecimal"]) - (h + m / 60 + s / 3600)) < 1e-9
    lines = [p for t in finished for p in t["products"]]
    assert lines and all(uuid.UUID(p["productId"]) for p in lines)
    products = client.all("/products", param_filter={})
    assert all(money.match(p["unitaryCost"]) for p in products)
    services = client.all("/services", param_filter={})
    assert all(str(uuid.UUID(s["id"])) == s["id"] for s in services)
    segments = client.all("/segments", param_filter={})
    assert all(re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", s["registrationDate"]) for s in segments)
    # Right at creation the task is not delivered yet: the two "empty date" spellings (§2).
    task = tasks[0]
    server.clock.set(datetime.fromisoformat(task["creationDate"]).replace(tzinfo=SAO_PAULO))
    fresh = result(client.get(f"/tasks/{task['taskID']}"))
    assert fresh["deliveredDate"] == "0001-01-01T00:00:00" and fresh["visualizedDate"] == ""


def test_expenses_filter_on_expense_date(auvo: StartAuvo) -> None:
    server, client = auvo()
    day = client.all("/expenses", param_filter={"startDate": "2025-03-10", "endDate": "2025-03-10"})
    assert day and all(e["date"].startswith("2025-03-10") for e in day)
    assert day == server.world.expenses_for_day(datetime(2025, 3, 10).date())
    assert all(isinstance(e["amount"], float) for e in day)


def test_max_window_and_latency_switches(auvo: StartAuvo) -> None:
    server, client = auvo(max_task_window_days=2)
    three_days = {"startDate": "2025-03-08T00:00:00", "endDate": "2025-03-10T23:59:59"}
    assert client.get("/tasks", param_filter=three_days).status_code == 400
    assert client.get("/tasks", param_filter=DAY_10).status_code == 200
    server.config.max_task_window_days = None
    server.config.task_latency_s_per_window_day = 0.15
    started = time.monotonic()
    assert client.get("/tasks", param_filter=three_days).status_code == 200
    wide = time.monotonic() - started
    started = time.monotonic()
    assert client.get("/tasks", param_filter=DAY_10).status_code == 200
    narrow = time.monotonic() - started
    assert wide >= 0.44 and narrow < wide - 0.2
