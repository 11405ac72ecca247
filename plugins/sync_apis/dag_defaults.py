"""What every sync-apis DAG file shares: default_args, the daily timetable, the run's-day macro,
the Asset of a warehouse table and the SQL check operator.

DAG-facing (imported by ``dags/`` only; the ``dag_`` prefix says so and
``tests/integrity/test_imports.py`` keeps library modules from importing it). Parse-time cheap:
no database driver, no Variable or Connection lookup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pendulum
from airflow.providers.common.sql.operators.sql import SQLCheckOperator
from airflow.sdk import DAG, Asset, Param, get_current_context, task
from jinja2 import pass_context

from sync_apis import LOCAL_TZ_NAME
from sync_apis.alerts import on_task_failure
from sync_apis.config import WAREHOUSE_CONN_TEMPLATE
from sync_apis.localday import day_bounds
from sync_apis.run_day import run_day
from sync_apis.sql_files import SQL_DIR
from sync_apis.timetable import LocalDayTimetable

OWNER = "sync-apis"

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    # API outages are usually short: 3 retries at 1, 2, 4 min (capped at 30) ride them out
    # without hammering the API, and a real failure still shows red within ~10 minutes.
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=2),
    # After the last try only; e-mail/webhook as configured in [sync_apis] (off by default).
    "on_failure_callback": on_task_failure,
}

DEFAULT_RUN_AT = "01:05"
# Without a start_date the timetable never proposes a run, so the daily sync would silently never
# happen. It is set far back on purpose: Airflow runs no task of a manual run (`dags test`, a UI
# trigger) whose logical date precedes the start date, and reports the empty run as a success.
# catchup=False keeps the scheduler from walking through the years in between.
START_DATE = pendulum.datetime(2000, 1, 1, tz=LOCAL_TZ_NAME)
CONFIG_SECTION = "sync_apis"


def run_at_for(dag_id: str) -> str:
    """The local time a DAG's daily run becomes due.

    Read from Airflow's own configuration, so operators change it without touching code:
    ``[sync_apis] etrac_daily_run_at = 02:30`` in airflow.cfg, or the environment variable
    ``AIRFLOW__SYNC_APIS__ETRAC_DAILY_RUN_AT=02:30``. Parse-time safe: no database access.
    """
    from airflow.sdk import conf

    return str(conf.get(CONFIG_SECTION, f"{dag_id}_run_at", fallback=DEFAULT_RUN_AT))


def daily_timetable(dag_id: str) -> LocalDayTimetable:
    return LocalDayTimetable(run_at=run_at_for(dag_id), timezone=LOCAL_TZ_NAME)


def daily_dag(dag_id: str, *, description: str, tag: str, doc_md: str | None, **extra: Any) -> DAG:
    """A sync DAG: one local day per run, due daily at ``[sync_apis] <dag_id>_run_at``; with
    ``<dag_id>_enabled = False`` it has no schedule (manual runs and backfills still work).
    ``extra``: the source's own DAG arguments (its Params, ``max_active_runs``)."""
    from airflow.sdk import conf

    enabled = conf.getboolean(CONFIG_SECTION, f"{dag_id}_enabled", fallback=True)
    return DAG(
        dag_id=dag_id,
        description=description,
        schedule=daily_timetable(dag_id) if enabled else None,
        start_date=START_DATE,
        catchup=False,
        default_args=DEFAULT_ARGS,
        tags=[OWNER, tag],
        doc_md=doc_md,
        template_searchpath=[str(SQL_DIR)],
        user_defined_macros=MACROS,
        **extra,
    )


@task
def schema_sync_meta() -> str:
    """Both DAGs' first task: the bookkeeping schema (``include/sql/sync_meta/``)."""
    from sync_apis.dag_tasks import apply_schema

    return apply_schema(get_current_context(), "sync_meta")


@dataclass(frozen=True)
class TemplateDay:
    """The run's day as templates see it: ``{{ run_day() }}`` renders ``2025-03-10``;
    ``{{ run_day().start }}`` / ``{{ run_day().end }}`` its local bounds as ISO timestamps
    (``2025-03-10T00:00:00-03:00``), so SQL never spells the zone out."""

    day: date

    def __str__(self) -> str:
        return self.day.isoformat()

    @property
    def start(self) -> str:
        return day_bounds(self.day)[0].isoformat()

    @property
    def end(self) -> str:
        return day_bounds(self.day)[1].isoformat()


# The one macro for the run's day, so SQL checks and operator fields name it exactly as task code
# does (``sync_apis.run_day.run_day``) — including runs triggered without a logical date, where
# ``data_interval_start`` does not exist. ``pass_context`` hands it the template's context.
@pass_context
def _run_day_macro(context: Any) -> TemplateDay:
    return TemplateDay(run_day(context))


MACROS: dict[str, Any] = {"run_day": _run_day_macro}

# The bound parameters every SQL check receives (``%(day_start)s::timestamptz`` in the files).
RUN_DAY_PARAMETERS: dict[str, str] = {
    "run_id": "{{ run_id }}",
    "day": "{{ run_day() }}",
    "day_start": "{{ run_day().start }}",
    "day_end": "{{ run_day().end }}",
}


def table_asset(schema: str, table: str) -> Asset:
    """The Asset of one warehouse table. The URI follows the Postgres provider's scheme
    (``postgres://host:port/database/schema/table``) with a fixed logical host, so it names the
    table, not the connection it is reached through (which may differ per installation)."""
    return Asset(
        name=f"{schema}.{table}", uri=f"postgres://warehouse:5432/sync_apis/{schema}/{table}", group=schema
    )


def retry_params(
    api: str, *, backoff_base_s: float, read_timeout_s: float, max_attempts: int = 6
) -> dict[str, Param]:
    """The HTTP retry Params every sync DAG takes, with its API's defaults; a task turns them into
    its hook's policy with ``sync_apis.dag_tasks.http_policy``."""
    return {
        "backoff_base_s": Param(
            backoff_base_s, type="number", minimum=0, description="First retry wait (jittered, doubling)."
        ),
        "max_attempts": Param(
            max_attempts, type="integer", minimum=1, description="HTTP attempts per request."
        ),
        "read_timeout_s": Param(
            read_timeout_s, type="number", minimum=1, description=f"Seconds to wait for one {api} answer."
        ),
    }


class ParamCheck(SQLCheckOperator):
    """A data-quality check on the warehouse: fails when any column of its one row is false.

    ``sql`` is a file under ``include/sql`` or, with ``build``, the text a library function
    returns when the task runs (checks generated from a stream table; building them needs the
    database driver, too slow to import at parse time). Its bound ``parameters`` are rendered:
    ``RUN_DAY_PARAMETERS`` plus any given.
    """

    template_fields = (*SQLCheckOperator.template_fields, "parameters")

    def __init__(
        self,
        *,
        task_id: str,
        sql: str | None = None,
        build: Callable[[], str] | None = None,
        parameters: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if (sql is None) == (build is None):
            raise ValueError(f"{task_id}: give exactly one of sql= and build=")
        super().__init__(
            task_id=task_id,
            conn_id=WAREHOUSE_CONN_TEMPLATE,
            sql=sql or f"-- built when the task runs, by {build.__module__}.{build.__qualname__}",  # type: ignore[union-attr]
            parameters={**RUN_DAY_PARAMETERS, **(parameters or {})},
            **kwargs,
        )
        self.build = build

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        if self.build is not None:
            self.sql = self.build()
        super().render_template_fields(context, jinja_env)


__all__ = [
    "DEFAULT_ARGS",
    "MACROS",
    "RUN_DAY_PARAMETERS",
    "START_DATE",
    "ParamCheck",
    "TemplateDay",
    "daily_timetable",
    "retry_params",
    "run_at_for",
    "table_asset",
]
