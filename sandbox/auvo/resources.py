"""The read endpoints the fake serves (auvo-api.md §4), by lower-cased path segment."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.auvo.query import DOCUMENTED_MAX_PAGE_SIZE
from sandbox.auvo.snapshots import SNAPSHOT_KINDS, KindSpec


@dataclass(frozen=True)
class Resource:
    kind: str  # canonical kind (world / variants)
    link_name: str  # how the API's own HATEOAS links spell the path (§2: `Tasks`, `Customers`)
    key: str  # key field, real-data variant
    guid_key: bool = False
    date_field: str | None = None  # sort key when sort_key="date" (§8.5)
    max_page_size: int | None = None  # documented maximum (§3.1)


def _snapshot(spec: KindSpec) -> Resource:
    """A snapshot kind's endpoint, from the one place that describes the kind."""
    return Resource(spec.kind, spec.kind[0].upper() + spec.kind[1:], spec.key, spec.guid_key, spec.date_field)


RESOURCES: dict[str, Resource] = {
    r.kind.lower(): r
    for r in (
        Resource("tasks", "Tasks", "taskID", date_field="taskDate", max_page_size=DOCUMENTED_MAX_PAGE_SIZE),
        Resource("customers", "Customers", "id", date_field="creationDate"),
        *(_snapshot(spec) for spec in SNAPSHOT_KINDS.values()),
        Resource("expenses", "Expenses", "id", date_field="date"),
    )
}
DELETED_TASKS = Resource(
    "tasks", "Tasks/GetDeletedTasks", "taskID", date_field="taskDate", max_page_size=DOCUMENTED_MAX_PAGE_SIZE
)
