"""The declarative stream table: complete, consistent, and named the way the contract says."""

from __future__ import annotations

import re

import pytest

from sync_apis.auvo import streams
from sync_apis.auvo.streams import BY_NAME, STREAMS, Mode

CONTRACT = {
    "tasks",
    "customers",
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
    "expenses",
}


def test_every_entity_of_the_warehouse_contract_is_a_stream():
    streams = {s.name for s in STREAMS}
    # A new entity extends the warehouse contract on purpose: name it here, beside its stream.
    assert streams == CONTRACT, (
        f"streams not in the contract: {sorted(streams - CONTRACT)} (a new entity: add it to CONTRACT "
        f"in this file and to README's 'What is synced'); "
        f"contract tables without a stream: {sorted(CONTRACT - streams)}"
    )


def test_modes_follow_the_contract():
    assert BY_NAME["tasks"].mode is Mode.TASKS
    assert BY_NAME["customers"].mode is Mode.UPDATED_SINCE
    assert BY_NAME["expenses"].mode is Mode.DAY
    snapshots = CONTRACT - {"tasks", "customers", "expenses"}
    assert {s.name for s in STREAMS if s.mode is Mode.SNAPSHOT} == snapshots


@pytest.mark.parametrize("stream", STREAMS, ids=lambda s: s.name)
def test_keys_are_entity_id_and_guid_text_for_products_services(stream):
    singular = {"categories": "category"}
    entity = stream.name
    for plural, single in singular.items():
        entity = entity.replace(plural, single)
    entity = entity.removesuffix("s")
    assert stream.key.name == f"{entity}_id"
    assert stream.key.kind == ("text" if stream.name in ("products", "services") else "bigint")


@pytest.mark.parametrize("stream", STREAMS, ids=lambda s: s.name)
def test_columns_are_snake_case_and_unique(stream):
    names = stream.all_columns
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)
    assert names[-1] == "raw"
    assert not {"synced_at", "deleted_at"} & set(names)


def test_snake_case_of_the_api_name():
    assert streams.camel("date_last_update") == "dateLastUpdate"
    assert streams.camel("id_user_to") == "idUserTo"


def test_select_limits_and_rejects_unknown_names():
    assert streams.select([]) == [s.name for s in STREAMS]
    assert streams.select(["tasks", "users"]) == ["users", "tasks"]  # table order kept
    assert streams.select("tasks, users") == ["users", "tasks"]
    with pytest.raises(ValueError, match="unknown Auvo stream"):
        streams.select(["taks"])
