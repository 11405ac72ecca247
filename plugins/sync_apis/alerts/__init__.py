"""Failure alerts (and other warnings) to a person: e-mail and/or an incoming webhook.

``on_task_failure`` is every sync-apis task's ``on_failure_callback`` (through
``dag_defaults.DEFAULT_ARGS``). It is a *task-level* callback on purpose. In Airflow 3 it runs in
the task's own process right after the last try fails (retries do not call it), with the
exception, the try number, the map index and the task instance's log URL in its context; a task
killed from outside (heartbeat lost, OOM) gets the same callback from the dag-processor, only
without the exception. A DAG-level ``on_failure_callback`` would run in the dag-processor once per
run with just a reason string ("task_failure") and the last task instance: no error to show.

Channels and recipients come from ``[sync_apis]`` configuration read when an alert is sent
(see ``settings``); with none configured an alert is one info line in the task log. Sending never
raises and is bounded in time (see ``channels``), so a broken mail server cannot hide or delay
the task's own failure.

For other warnings (an empty day, a suspicious count) call ``alert_warning(context, message)``
from task code: same channels, same configuration, same cleaning of secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sync_apis.alerts.message import Alert, build_alert, failure_alert

log = logging.getLogger(__name__)


def notify(alert: Alert) -> dict[str, str]:
    """Send a built alert through the configured channels; returns each channel's outcome."""
    from sync_apis.alerts.channels import deliver
    from sync_apis.alerts.settings import AlertSettings

    return deliver(alert, AlertSettings.from_airflow_config())


def on_task_failure(context: Mapping[str, Any]) -> None:
    """``on_failure_callback``: tell a person which DAG, day and task failed, why, and where the log is."""
    try:
        notify(failure_alert(context))
    except Exception:  # never let the alert replace the task's own error in Airflow's records
        log.exception("failure alert could not be built or sent")


def alert_warning(
    context: Mapping[str, Any] | None, message: str, details: Sequence[str] = ()
) -> dict[str, str]:
    """A warning about the run in ``context`` (e.g. "0 rows, the previous 7 days had 4 000 a day").

    ``message`` becomes the title, ``details`` extra lines; the DAG, day, task and log link are
    added from ``context``. Returns each channel's outcome ({} when alerts are off); never raises.
    """
    try:
        return notify(build_alert("warning", context, message, details))
    except Exception:
        log.exception("warning alert could not be built or sent")
        return {}


__all__ = ["Alert", "alert_warning", "notify", "on_task_failure"]
