"""Where alerts go, read when an alert is sent (never at parse time).

Each key comes from ``[sync_apis]`` in airflow.cfg or ``AIRFLOW__SYNC_APIS__<KEY>`` in the
environment, else from the Airflow Variable ``sync_apis_<key>`` (so alerts can be switched on
from the UI where the deployment's environment is fixed, as in docker-compose):

- ``alert_webhook_conn_id`` — an HTTP connection whose ``host`` is the full incoming-webhook URL;
- ``alert_webhook_format`` — ``text`` (default: ``{"text": …}``) or ``teams`` (an Adaptive Card);
- ``alert_smtp_conn_id`` + ``alert_email_to`` — an SMTP connection and comma-separated recipients;
- ``alert_email_from`` — the sender, else the SMTP connection's ``from_email`` extra;
- ``alert_timeout_s`` — how long one alert may take in all, per channel (default 20 s).

The connections themselves hold the secrets (webhook URL, SMTP password); the configuration only
names them, so it can live in plain environment variables.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from sync_apis.alerts.message import WEBHOOK_FORMATS, WebhookFormat

SECTION = "sync_apis"
DEFAULT_TIMEOUT_S = 20.0

log = logging.getLogger(__name__)


def variable(name: str) -> str:
    """An Airflow Variable, or "" when it is unset or Variables cannot be reached from here."""
    try:
        from airflow.sdk import Variable

        return str(Variable.get(name, default="") or "").strip()
    except Exception:  # a dag-processor or CLI without Variables: the configuration still counts
        log.debug("Variable %s could not be read", name, exc_info=True)
        return ""


@dataclass(frozen=True)
class AlertSettings:
    webhook_conn_id: str = ""
    webhook_format: WebhookFormat = "text"
    smtp_conn_id: str = ""
    email_to: tuple[str, ...] = ()
    email_from: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_airflow_config(cls) -> AlertSettings:
        from airflow.sdk import conf

        def get(key: str) -> str:
            return str(conf.get(SECTION, key, fallback="") or "").strip() or variable(f"{SECTION}_{key}")

        fmt = get("alert_webhook_format").lower() or "text"
        if fmt not in WEBHOOK_FORMATS:
            log.warning(
                "[%s] alert_webhook_format = %r is not one of %s; sending 'text'",
                SECTION,
                fmt,
                ", ".join(WEBHOOK_FORMATS),
            )
            fmt = "text"
        try:
            timeout = float(get("alert_timeout_s") or DEFAULT_TIMEOUT_S)
        except ValueError:
            log.warning("[%s] alert_timeout_s is not a number; using %g s", SECTION, DEFAULT_TIMEOUT_S)
            timeout = DEFAULT_TIMEOUT_S
        return cls(
            webhook_conn_id=get("alert_webhook_conn_id"),
            webhook_format=cast(WebhookFormat, fmt),
            smtp_conn_id=get("alert_smtp_conn_id"),
            email_to=tuple(
                a.strip() for a in get("alert_email_to").replace(";", ",").split(",") if a.strip()
            ),
            email_from=get("alert_email_from") or None,
            timeout_s=max(timeout, 1.0),
        )

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_conn_id and self.email_to)

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_conn_id)

    def half_configured(self) -> str | None:
        """What is missing when e-mail is configured by half (so nothing would be sent)."""
        if self.smtp_conn_id and not self.email_to:
            return f"[{SECTION}] alert_smtp_conn_id is set but alert_email_to is empty: no e-mail is sent"
        if self.email_to and not self.smtp_conn_id:
            return f"[{SECTION}] alert_email_to is set but alert_smtp_conn_id is empty: no e-mail is sent"
        return None
