"""Tasks: a seeded event timeline per task, evaluated at the sandbox clock's now.

Each local day from ``origin`` on has a seeded number of tasks (fewer at weekends). A task's whole
life is drawn once from ``rng(seed, "task", task_id)`` as a ``TaskPlan`` that does not depend on
now: created (before its ``taskDate``), delivered to the phone, visualized, maybe rescheduled
(``taskDate`` moves by up to ``max_reschedule_days``), displacement, check-in, check-out
(finished, ``taskStatus`` 5) or a pause (status 6), or deleted. ``render_task(plan, now)`` shows
the task as the API would at ``now``: every event that already happened is applied and
``dateLastUpdate`` is the latest of them, so each visible change bumps it (what an incremental
consumer relies on, auvo-api.md §7).

Field shapes follow §5.1 and the real payloads: offset-less local timestamps, ``""`` for
``checkInDate``/``visualizedDate`` before the event and ``0001-01-01T00:00:00`` for
``deliveredDate`` (§2), ``expense`` as a pt-BR string, ``durationDecimal`` as a decimal string,
product lines keyed by GUID ``productId`` and service lines by GUID ``id``.
``reschedulingHistory`` only appears on the detail (§6.3 item 8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sandbox.auvo import names
from sandbox.auvo.customers import Customer, customer_created, customer_record
from sandbox.auvo.formats import ZERO_DATE, decimal_string, guid, hms, money_br, rng, ts
from sandbox.auvo.snapshots import Ctx, int_id, person_name, product_guid, service_guid

TASK_ID_BASE = 70_000_000
MAX_TASKS_PER_DAY = 999  # the id scheme keeps day * 1000 + n


@dataclass(frozen=True)
class TaskPlan:
    """The seeded life of one task; None means "never happens"."""

    task_id: int
    created: datetime
    task_date: datetime  # as first scheduled
    delivered: datetime
    visualized: datetime
    rescheduled: datetime | None
    new_task_date: datetime | None
    displacement: datetime | None
    check_in: datetime | None
    check_out: datetime | None
    paused: datetime | None
    deleted: datetime | None
    user_to: int  # user index
    user_from: int
    customer: int  # customer index (-1 = no customer)
    task_type: int  # task type index (-1 = none)

    @property
    def final_task_date(self) -> datetime:
        return self.new_task_date or self.task_date

    def task_date_at(self, now: datetime) -> datetime:
        if self.rescheduled is not None and self.rescheduled <= now and self.new_task_date is not None:
            return self.new_task_date
        return self.task_date


def task_id_for(ctx: Ctx, day: date, n: int) -> int:
    return TASK_ID_BASE + (day - ctx.origin).days * 1000 + n + 1


def tasks_on_day(ctx: Ctx, day: date) -> int:
    """How many tasks are first scheduled on ``day`` (0 before origin)."""
    if day < ctx.origin:
        return 0
    r = rng(ctx.seed, "tasks", "count", day.isoformat())
    weekday_factor = {5: 0.5, 6: 0.2}.get(day.weekday(), 1.0)
    n = round(ctx.config.tasks_per_day * weekday_factor * r.uniform(0.7, 1.3))
    return max(0, min(MAX_TASKS_PER_DAY, n))


def _minutes(r_value: float) -> timedelta:
    return timedelta(minutes=int(r_value))


def plan_task(ctx: Ctx, day: date, n: int) -> TaskPlan:
    cfg = ctx.config
    task_id = task_id_for(ctx, day, n)
    r = rng(ctx.seed, "task", task_id)
    task_date = datetime(day.year, day.month, day.day, r.randint(7, 17), r.choice((0, 15, 30, 45)))
    lead = timedelta(hours=r.uniform(1, max(1.0, cfg.task_lead_days * 24)))
    created = (task_date - lead).replace(microsecond=0)
    delivered = created + _minutes(r.uniform(1, 20))
    visualized = delivered + _minutes(r.uniform(5, 120))

    rescheduled = new_date = None
    if r.random() < cfg.reschedule_rate and cfg.max_reschedule_days > 0:
        rescheduled = created + (task_date - created) * r.uniform(0.2, 0.9)
        rescheduled = rescheduled.replace(microsecond=0)
        shift = r.randint(1, cfg.max_reschedule_days) * r.choice((-1, 1))
        candidate = task_date + timedelta(days=shift)
        if candidate <= rescheduled + timedelta(hours=1):  # never reschedule into the past
            candidate = task_date + timedelta(days=abs(shift))
        new_date = candidate
    final = new_date or task_date

    deleted = displacement = check_in = check_out = paused = None
    roll = r.random()
    if roll < cfg.delete_rate:
        deleted = (created + (final + timedelta(hours=12) - created) * r.uniform(0.1, 0.95)).replace(
            microsecond=0
        )
        if rescheduled is not None and deleted <= rescheduled:
            deleted = rescheduled + timedelta(minutes=5)
    elif roll < cfg.delete_rate + (1 - cfg.delete_rate) * cfg.finish_rate:
        check_in = final + _minutes(r.uniform(-15, 90))
        displacement = check_in - _minutes(r.uniform(10, 60))
        check_out = check_in + _minutes(r.uniform(30, 240))
    elif r.random() < 0.3:
        check_in = final + _minutes(r.uniform(-15, 90))
        displacement = check_in - _minutes(r.uniform(10, 60))
        paused = check_in + _minutes(r.uniform(20, 90))
    users_n = max(1, cfg.users)
    return TaskPlan(
        task_id=task_id,
        created=created,
        task_date=task_date,
        delivered=delivered,
        visualized=visualized,
        rescheduled=rescheduled,
        new_task_date=new_date,
        displacement=displacement,
        check_in=check_in,
        check_out=check_out,
        paused=paused,
        deleted=deleted,
        user_to=r.randrange(users_n),
        user_from=0 if r.random() < 0.7 else r.randrange(users_n),
        customer=r.randrange(cfg.customers) if cfg.customers and r.random() < 0.95 else -1,
        task_type=r.randrange(cfg.task_types) if cfg.task_types and r.random() < 0.9 else -1,
    )


def plans_for_day(ctx: Ctx, day: date) -> list[TaskPlan]:
    return [plan_task(ctx, day, n) for n in range(tasks_on_day(ctx, day))]


def _happened(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now


def last_event(plan: TaskPlan, now: datetime) -> datetime:
    """The latest visible change at ``now``: the task's generated ``dateLastUpdate``."""
    events = [
        plan.created,
        plan.delivered,
        plan.visualized,
        plan.rescheduled,
        plan.displacement,
        plan.check_in,
        plan.check_out,
        plan.paused,
    ]
    return max(e for e in events if e is not None and e <= now)


def render_task(ctx: Ctx, plan: TaskPlan, now: datetime, *, detail: bool) -> dict[str, Any]:
    """The task as served at ``now`` (the caller checks created <= now and not deleted)."""
    # Every draw happens unconditionally and in a fixed order, so a field never changes just
    # because another event happened (only the events themselves change what is shown).
    r = rng(ctx.seed, "task-fields", plan.task_id)
    fin = rng(ctx.seed, "task-finish", plan.task_id)
    checked_in = _happened(plan.check_in, now)
    checked_out = _happened(plan.check_out, now)
    paused = _happened(plan.paused, now)
    displaced = _happened(plan.displacement, now)
    if checked_out:
        status = 5
    elif paused:
        status = 6
    elif checked_in:
        status = 3
    elif displaced:
        status = 2
    else:
        status = 1
    task_date = plan.task_date_at(now)

    customer: dict[str, Any] | None = None
    if plan.customer >= 0:
        customer = customer_record(
            ctx, Customer(plan.customer, customer_created(ctx, plan.customer), None, None)
        )

    duration_s = 0
    if checked_out and plan.check_in is not None and plan.check_out is not None:
        duration_s = int((plan.check_out - plan.check_in).total_seconds())
    external_id = f"OS-{plan.task_id % 100000}" if r.random() < 0.3 else ""
    orientation = r.choice(("Verificar vazamento.", "Levar escada.", "Falar com o zelador.", ""))
    priority = r.randint(1, 3)
    equipments = (
        [int_id("equipments", r.randrange(ctx.config.equipments))]
        if ctx.config.equipments and r.random() < 0.3
        else []
    )
    keyword_ids = [
        int_id("keywords", k) for k in r.sample(range(ctx.config.keywords), min(ctx.config.keywords, 1))
    ]
    task_url = f"https://app.auvo.com.br/informacoes/tarefa/{guid(r)}"
    products = _product_lines(ctx, fin, plan)
    services = _service_lines(ctx, fin, plan)
    expense: float = fin.choice((0, 0, 0, 35.5, 120, 2_500_000))
    report = fin.choice(names.REPORTS)
    attachments = _attachments(fin, plan)
    questionnaires = _questionnaires(ctx, fin, plan) if ctx.config.questionnaires else []
    check_in_distance = fin.randrange(0, 300)
    check_out_distance = fin.randrange(0, 300)
    if not checked_out:
        products, services, expense, report, attachments, questionnaires = [], [], 0, "", [], []
    total_products = round(sum(p["totalValue"] for p in products), 2)
    total_services = round(sum(s["totalValue"] for s in services), 2)
    task_type_desc = names.TASK_TYPES[plan.task_type % len(names.TASK_TYPES)] if plan.task_type >= 0 else ""
    if plan.task_type >= len(names.TASK_TYPES):
        task_type_desc = f"{task_type_desc} {plan.task_type // len(names.TASK_TYPES) + 1}"
    record: dict[str, Any] = {
        "taskID": plan.task_id,
        "externalId": external_id,
        "idUserFrom": int_id("users", plan.user_from),
        "userFromName": person_name(ctx.seed, "users", plan.user_from),
        "idUserTo": int_id("users", plan.user_to),
        "userToName": person_name(ctx.seed, "users", plan.user_to),
        "customerId": customer["id"] if customer else 0,
        "customerExternalId": customer["externalId"] if customer else "",
        "customerDescription": customer["description"] if customer else "",
        "taskType": int_id("taskTypes", plan.task_type) if plan.task_type >= 0 else 0,
        "taskTypeDescription": task_type_desc,
        "creationDate": ts(plan.created),
        "taskDate": ts(task_date),
        "latitude": customer["latitude"] if customer else 0.0,
        "longitude": customer["longitude"] if customer else 0.0,
        "address": customer["address"] if customer else "",
        "orientation": orientation,
        "priority": priority,
        "deliveredOnSmarthPhone": _happened(plan.delivered, now),  # sic (§2)
        "deliveredDate": ts(plan.delivered if _happened(plan.delivered, now) else None, ZERO_DATE),
        "finished": checked_out,
        "report": report,
        "visualized": _happened(plan.visualized, now),
        "visualizedDate": ts(plan.visualized if _happened(plan.visualized, now) else None),
        "checkIn": checked_in,
        "checkInDate": ts(plan.check_in if checked_in else None),
        "checkOut": checked_out,
        "checkOutDate": ts(plan.check_out if checked_out else None),
        "checkinType": 1,
        "taskStatus": status,
        "equipmentsId": equipments,
        "keyWords": [str(k) for k in keyword_ids],
        "keyWordsDescriptions": [
            names.KEYWORDS[(k - int_id("keywords", 0)) % len(names.KEYWORDS)] for k in keyword_ids
        ],
        "inputedKm": 0.0,
        "adoptedKm": 0.0,
        "attachments": attachments,
        "questionnaires": questionnaires,
        "signatureUrl": f"https://auvo.example/sign/{plan.task_id}.png" if checked_out else "",
        "signatureName": customer["manager"] if checked_out and customer else "",
        "signatureDocument": "",
        "checkInDistance": check_in_distance if checked_in else 0,
        "checkOutDistance": check_out_distance if checked_out else 0,
        "sendSatisfactionSurvey": False,
        "survey": "",
        "taskUrl": task_url,
        "pendency": "",
        "dateLastUpdate": ts(last_event(plan, now)),
        "ticketId": 0,
        "ticketTitle": "",
        "expense": money_br(expense),
        "duration": hms(duration_s),
        "durationDecimal": decimal_string(duration_s),
        "estimatedDuration": "01:00:00",
        "displacementStart": ts(plan.displacement if displaced else None),
        "reasonForPause": "Aguardando peça" if paused else "",
        "openedOnLocation": checked_in,
        "sendDigitalOs": False,
        "financialCategory": "",
        "products": products,
        "services": services,
        "additionalCosts": [],
        "summary": {
            "totalProducts": total_products,
            "totalServices": total_services,
            "totalAdditionalCosts": 0.0,
            "totalValue": round(total_products + total_services, 2),
            "discount": {"value": 0.0, "type": "Valor"},
        },
        "timeControl": [],
    }
    if detail:
        history = []
        if _happened(plan.rescheduled, now) and plan.rescheduled is not None:
            history.append(
                {
                    "idUser": int_id("users", plan.user_from),
                    "userName": person_name(ctx.seed, "users", plan.user_from),
                    "oldScheduledDate": ts(plan.task_date),
                    "newScheduledDate": ts(plan.new_task_date),
                    "registerDate": ts(plan.rescheduled),
                }
            )
        record["reschedulingHistory"] = history
    return record


def _product_lines(ctx: Ctx, r: Any, plan: TaskPlan) -> list[dict[str, Any]]:
    if not ctx.config.products:
        return []
    lines = []
    for _ in range(r.randrange(0, 3)):
        i = r.randrange(ctx.config.products)
        qty = r.randint(1, 4)
        unit = round(r.uniform(5, 250), 2)
        lines.append(
            {
                "productId": product_guid(ctx.seed, i),
                "code": str(int_id("products", i)),
                "name": names.PRODUCT_NAMES[i % len(names.PRODUCT_NAMES)],
                "description": "",
                "quantity": qty,
                "unitaryValue": unit,
                "totalValue": round(unit * qty, 2),
                "userResponsible": person_name(ctx.seed, "users", plan.user_to),
                "userResponsibleCode": int_id("users", plan.user_to),
                "dateRegister": ts(plan.check_out),
                "dateEdit": ts(plan.check_out),
                "discount": {"value": 0.0, "type": "Valor"},
            }
        )
    return lines


def _service_lines(ctx: Ctx, r: Any, plan: TaskPlan) -> list[dict[str, Any]]:
    if not ctx.config.services:
        return []
    wanted = r.random() < 0.5
    i = r.randrange(ctx.config.services)
    unit = round(r.uniform(80, 600), 2)
    if not wanted:
        return []
    return [
        {
            "id": service_guid(ctx.seed, i),
            "name": names.SERVICE_NAMES[i % len(names.SERVICE_NAMES)],
            "quantity": 1,
            "unitaryValue": unit,
            "totalValue": unit,
            "userResponsible": person_name(ctx.seed, "users", plan.user_to),
            "userResponsibleCode": int_id("users", plan.user_to),
            "dateRegister": ts(plan.check_out),
            "dateEdit": ts(plan.check_out),
            "discount": {"value": 0.0, "type": "Valor"},
        }
    ]


def _attachments(r: Any, plan: TaskPlan) -> list[dict[str, Any]]:
    return [
        {
            "id": plan.task_id * 10 + k,  # an int in real data (§6.3 item 4)
            "url": f"https://auvo.example/att/{plan.task_id}/{k}.png",
            "attachmentType": 1,
            "subtitle": "",
            "extension": ".png",
            "description": "Foto do serviço",
        }
        for k in range(r.randrange(0, 3))
    ]


def _questionnaires(ctx: Ctx, r: Any, plan: TaskPlan) -> list[dict[str, Any]]:
    wanted = r.random() < 0.5
    q = r.randrange(ctx.config.questionnaires)
    reply = [r.choice(("Sim", "Não", "120")) for _ in range(2)]
    if not wanted:
        return []
    qid = int_id("questionnaires", q)
    return [
        {
            "itemId": plan.task_id * 10,
            "questionnaireId": qid,
            "questionnaireDescription": names.QUESTIONNAIRES[q % len(names.QUESTIONNAIRES)],
            "answers": [
                {
                    "questionId": qid * 10 + k,
                    "questionDescription": names.QUESTIONS[k],
                    "replyId": plan.task_id * 100 + k,
                    "reply": reply[k],
                    "replyDate": ts(plan.check_out),
                }
                for k in range(2)
            ],
        }
    ]
