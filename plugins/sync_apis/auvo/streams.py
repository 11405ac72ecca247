"""What the Auvo sync fetches, as data: one ``Stream`` per warehouse table.

A stream names its list endpoint, its key, how it is kept current (``Mode``) and the typed
columns it keeps next to ``raw``. ``sync.py`` runs one generic loop over these; adding an
entity means a row here and a table in ``include/sql/auvo/``, and nothing else in the library
(the tests and the sandbox: docs/architecture.md, "Adding an Auvo entity").

Column names are the snake_case of the API field (the warehouse contract: README, "What is synced"). A
column lists the API names it may come under, most common first, because the API drifts
between spellings (``userID``/``userId``, ``description``/``name``; auvo-api.md §6.3 item 4).
A dotted name reads a nested field (``basePoint.latitude``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

SOURCE = "auvo"
SCHEMA = "auvo"

Kind = Literal["bigint", "int", "text", "bool", "float", "numeric", "money", "timestamptz"]


class Mode(StrEnum):
    """How a stream is kept current (the warehouse contract: README, "What is synced")."""

    TASKS = "tasks"  # the run's day by taskDate + dateLastUpdate in the run's window + deletions
    UPDATED_SINCE = "updated_since"  # dateLastUpdate watermark with overlap
    SNAPSHOT = "snapshot"  # full listing; a complete listing marks missing ids deleted
    DAY = "day"  # the run's day by the entity's own date (expenses)


@dataclass(frozen=True)
class Column:
    name: str  # warehouse column
    sources: tuple[str, ...]  # API field names tried in order (dotted = nested)
    kind: Kind


@dataclass(frozen=True)
class Stream:
    name: str  # stream id == table name in schema ``auvo``
    path: str  # list endpoint, relative to the API root
    key: Column
    mode: Mode
    columns: tuple[Column, ...]  # typed columns besides the key
    # Field used for "the run's window" (tasks: taskDate, expenses: date) or the cursor.
    day_field: str | None = None
    cursor_field: str | None = None
    # Auvo documents pageSize ≤ 100 for tasks and others; 100 everywhere is what works (§3.1).
    page_size: int = 100

    @property
    def table(self) -> str:
        return self.name

    @property
    def all_columns(self) -> tuple[str, ...]:
        """Columns in the order rows are built and copied: key, typed columns, raw."""
        return (self.key.name, *(c.name for c in self.columns), "raw")


def c(name: str, kind: Kind, *sources: str) -> Column:
    """A column whose API name is given (or derived from ``name`` when omitted)."""
    return Column(name, sources or (camel(name),), kind)


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def _id_key(entity: str, kind: Kind = "bigint", *sources: str) -> Column:
    return Column(f"{entity}_id", sources or ("id",), kind)


_DESCRIPTION = c("description", "text", "description", "name")

TASKS = Stream(
    name="tasks",
    path="tasks/",
    key=Column("task_id", ("taskID", "taskId", "id"), "bigint"),
    mode=Mode.TASKS,
    day_field="taskDate",
    cursor_field="dateLastUpdate",
    columns=(
        c("external_id", "text"),
        c("id_user_from", "bigint"),
        c("user_from_name", "text"),
        c("id_user_to", "bigint"),
        c("user_to_name", "text"),
        c("customer_id", "bigint"),
        c("customer_external_id", "text"),
        c("customer_description", "text"),
        c("task_type", "bigint"),
        c("task_type_description", "text"),
        c("creation_date", "timestamptz"),
        c("task_date", "timestamptz"),
        c("latitude", "float"),
        c("longitude", "float"),
        c("address", "text"),
        c("orientation", "text"),
        c("report", "text"),
        c("priority", "int"),
        c("delivered_on_smarth_phone", "bool", "deliveredOnSmarthPhone"),
        c("delivered_date", "timestamptz"),
        c("visualized", "bool"),
        c("visualized_date", "timestamptz"),
        c("check_in", "bool"),
        c("check_in_date", "timestamptz"),
        c("check_out", "bool"),
        c("check_out_date", "timestamptz"),
        c("checkin_type", "int"),
        c("finished", "bool"),
        c("task_status", "int"),
        c("inputed_km", "float"),
        c("adopted_km", "float"),
        c("signature_url", "text"),
        c("signature_name", "text"),
        c("signature_document", "text"),
        c("check_in_distance", "float"),
        c("check_out_distance", "float"),
        c("send_satisfaction_survey", "bool"),
        c("send_digital_os", "bool", "sendDigitalOs"),
        c("opened_on_location", "bool"),
        c("survey", "text"),
        c("task_url", "text"),
        c("pendency", "text"),
        c("reason_for_pause", "text"),
        c("financial_category", "text"),
        c("date_last_update", "timestamptz"),
        c("ticket_id", "bigint", "ticketId"),
        c("ticket_title", "text"),
        c("expense", "money"),
        c("duration", "text"),
        c("duration_decimal", "numeric"),
        c("estimated_duration", "text"),
        c("displacement_start", "text"),
    ),
)

CUSTOMERS = Stream(
    name="customers",
    path="customers/",
    key=_id_key("customer", "bigint", "id", "customerId"),
    mode=Mode.UPDATED_SINCE,
    cursor_field="dateLastUpdate",
    columns=(
        c("external_id", "text"),
        _DESCRIPTION,
        c("legal_name", "text"),
        c("cpf_cnpj", "text"),
        c("manager", "text"),
        c("manager_job_position", "text"),
        c("note", "text"),
        c("address", "text"),
        c("adress_complement", "text", "adressComplement"),
        c("latitude", "float"),
        c("longitude", "float"),
        c("maximum_visit_time", "int"),
        c("unit_maximum_time", "int"),
        c("segment_id", "bigint"),
        c("active", "bool"),
        c("creation_date", "timestamptz"),
        c("date_last_update", "timestamptz"),
    ),
)

USERS = Stream(
    name="users",
    path="users/",
    key=Column("user_id", ("userID", "userId", "id"), "bigint"),
    mode=Mode.SNAPSHOT,
    columns=(
        c("external_id", "text"),
        c("name", "text"),
        c("smart_phone_number", "text", "smartPhoneNumber", "smartphoneNumber"),
        c("login", "text"),
        c("email", "text"),
        c("culture", "text"),
        c("job_position", "text"),
        c("user_type_id", "int", "userType.userTypeId", "userTypeId"),
        c("start_work_hour", "text"),
        c("end_work_hour", "text"),
        c("start_lunch_hour", "text"),
        c("end_lunch_hour", "text"),
        c("hour_value", "money"),
        c("picture_url", "text"),
        c("base_point_address", "text", "basePoint.address", "BasePoint.address"),
        c("base_point_latitude", "float", "basePoint.latitude", "BasePoint.latitude"),
        c("base_point_longitude", "float", "basePoint.longitude", "BasePoint.longitude"),
        c("open_task_in_place", "bool"),
        c("grab_gallery_photos", "bool"),
        c("gps_frequency", "int"),
        c("check_in_manual", "bool"),
        c("unavailable_for_tasks", "bool"),
        c("edit_task_after_checkout", "bool"),
        c("inform_start_travel", "bool"),
        c("change_base_point", "bool"),
        c("registration_date", "timestamptz"),
    ),
)


def _simple(name: str, entity: str, path: str, *extra: Column, key: Column | None = None) -> Stream:
    return Stream(
        name=name,
        path=path,
        key=key or _id_key(entity),
        mode=Mode.SNAPSHOT,
        columns=(_DESCRIPTION, *extra) if key is None else extra,
    )


TEAMS = _simple("teams", "team", "teams/", c("creation_date", "timestamptz"))
TASK_TYPES = _simple(
    "task_types",
    "task_type",
    "taskTypes/",
    c("creator_id", "bigint"),
    c("creation_date", "timestamptz"),
    c("standard_time", "text", "standardTime", "standartTime"),
    c("tolerance_time", "text"),
    c("standard_questionnaire_id", "bigint", "standardQuestionnaireId", "standartQuestionnaireId"),
    c("active", "bool"),
    c("send_satisfaction_survey", "bool"),
    c("send_digital_os", "bool", "sendDigitalOs"),
)
SEGMENTS = _simple("segments", "segment", "segments/", c("registration_date", "timestamptz"))
KEYWORDS = _simple("keywords", "keyword", "keywords/", c("registration_date", "timestamptz"))
QUESTIONNAIRES = _simple(
    "questionnaires",
    "questionnaire",
    "questionnaires/",
    c("header", "text"),
    c("footer", "text"),
    c("creation_date", "timestamptz"),
)
CUSTOMER_GROUPS = _simple("customer_groups", "customer_group", "customerGroups/")
EQUIPMENTS = Stream(
    name="equipments",
    path="equipments/",
    key=_id_key("equipment"),
    mode=Mode.SNAPSHOT,
    columns=(
        c("external_id", "text"),
        c("parent_equipment_id", "bigint"),
        c("associated_customer_id", "bigint"),
        c("associated_user_id", "bigint"),
        c("category_id", "bigint"),
        c("name", "text"),
        c("description", "text"),
        c("identifier", "text"),
        c("url_image", "text"),
        c("active", "bool"),
        c("creation_date", "timestamptz"),
        c("expiration_date", "timestamptz"),
        c("warranty_start_date", "timestamptz"),
        c("warranty_end_date", "timestamptz"),
    ),
)
EQUIPMENT_CATEGORIES = _simple(
    "equipment_categories", "equipment_category", "equipmentCategories/", c("external_id", "text")
)
PRODUCTS = Stream(
    name="products",
    path="products/",
    key=Column("product_id", ("productId", "id"), "text"),
    mode=Mode.SNAPSHOT,
    columns=(
        c("code", "text"),
        c("external_id", "text"),
        c("name", "text"),
        c("description", "text"),
        c("category_id", "bigint"),
        c("associated_equipment_id", "bigint"),
        c("unitary_value", "money"),
        c("unitary_cost", "money"),
        c("minimum_stock", "numeric"),
        c("total_stock", "numeric"),
        c("active", "bool"),
        c("image_url", "text"),
    ),
)
PRODUCT_CATEGORIES = _simple("product_categories", "product_category", "productCategories/")
SERVICES = Stream(
    name="services",
    path="services/",
    key=Column("service_id", ("id", "serviceId"), "text"),
    mode=Mode.SNAPSHOT,
    columns=(
        c("title", "text"),
        c("description", "text"),
        c("price", "money"),
        c("active", "bool"),
        c("external_code", "text"),
        c("fiscal_service_id", "text"),
    ),
)
EXPENSE_TYPES = _simple(
    "expense_types",
    "expense_type",
    "expenseTypes/",
    c("creator_id", "bigint"),
    c("creation_date", "timestamptz"),
)
EXPENSES = Stream(
    name="expenses",
    path="expenses/",
    key=_id_key("expense"),
    mode=Mode.DAY,
    day_field="date",
    columns=(
        c("description", "text"),
        c("user_to_id", "bigint"),
        c("user_to_name", "text"),
        c("type_id", "bigint"),
        c("type_name", "text"),
        c("date", "timestamptz"),
        c("attachment_url", "text"),
        c("creation_date", "timestamptz"),
        c("amount", "money"),
    ),
)

# Reference data first: when a run is limited by parallelism, the tables that tasks point at
# are fresh before the tasks themselves.
STREAMS: tuple[Stream, ...] = (
    USERS,
    TEAMS,
    TASK_TYPES,
    SEGMENTS,
    KEYWORDS,
    QUESTIONNAIRES,
    CUSTOMER_GROUPS,
    EQUIPMENT_CATEGORIES,
    EQUIPMENTS,
    PRODUCT_CATEGORIES,
    PRODUCTS,
    SERVICES,
    EXPENSE_TYPES,
    CUSTOMERS,
    EXPENSES,
    TASKS,
)
BY_NAME: dict[str, Stream] = {s.name: s for s in STREAMS}
DELETED_TASKS_PATH = "tasks/GetDeletedTasks"

# How many stream tasks may run at once across *all* runs of the DAG (max_active_tis_per_dag on
# the mapped task). Each task process paces itself at the API budget x 0.9 / this, so the sum
# stays under Auvo's 400 requests/minute per IP even during a backfill with --max-active-runs 3.
STREAM_PARALLELISM = 4


def column_for(stream: Stream, api_field: str) -> str:
    """The warehouse column an API field lands in."""
    for column in (stream.key, *stream.columns):
        if api_field in column.sources:
            return column.name
    raise KeyError(f"{stream.name}: no column for API field {api_field!r}")


def select(names: list[str] | str | None) -> list[str]:
    """Stream names for a run: all when ``names`` is empty; unknown names are an error."""
    if isinstance(names, str):
        names = names.replace(",", " ").split()
    if not names:
        return [s.name for s in STREAMS]
    unknown = sorted(set(names) - BY_NAME.keys())
    if unknown:
        raise ValueError(f"unknown Auvo stream(s) {unknown}; known: {sorted(BY_NAME)}")
    wanted = set(names)
    return [s.name for s in STREAMS if s.name in wanted]
