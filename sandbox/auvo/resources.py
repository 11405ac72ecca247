"""The read endpoints the fake serves (auvo-api.md §4), by lower-cased path segment."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.auvo.query import DOCUMENTED_MAX_PAGE_SIZE


@dataclass(frozen=True)
class Resource:
    kind: str  # canonical kind (world / variants)
    link_name: str  # how the API's own HATEOAS links spell the path (§2: `Tasks`, `Customers`)
    key: str  # key field, real-data variant
    guid_key: bool = False
    date_field: str | None = None  # sort key when sort_key="date" (§8.5)
    max_page_size: int | None = None  # documented maximum (§3.1)


RESOURCES: dict[str, Resource] = {
    r.kind.lower(): r
    for r in (
        Resource("tasks", "Tasks", "taskID", date_field="taskDate", max_page_size=DOCUMENTED_MAX_PAGE_SIZE),
        Resource("customers", "Customers", "id", date_field="creationDate"),
        Resource("users", "Users", "userID", date_field="registrationDate"),
        Resource("teams", "Teams", "id", date_field="creationDate"),
        Resource("taskTypes", "TaskTypes", "id", date_field="creationDate"),
        Resource("segments", "Segments", "id", date_field="registrationDate"),
        Resource("keywords", "Keywords", "id"),
        Resource("questionnaires", "Questionnaires", "id", date_field="creationDate"),
        Resource("customerGroups", "CustomerGroups", "id"),
        Resource("equipments", "Equipments", "id", date_field="creationDate"),
        Resource("equipmentCategories", "EquipmentCategories", "id"),
        Resource("products", "Products", "productId", guid_key=True),
        Resource("productCategories", "ProductCategories", "id"),
        Resource("services", "Services", "id", guid_key=True),
        Resource("expenseTypes", "ExpenseTypes", "id", date_field="creationDate"),
        Resource("expenses", "Expenses", "id", date_field="date"),
    )
}
DELETED_TASKS = Resource(
    "tasks", "Tasks/GetDeletedTasks", "taskID", date_field="taskDate", max_page_size=DOCUMENTED_MAX_PAGE_SIZE
)
