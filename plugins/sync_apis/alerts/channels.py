"""Sending one alert through the configured channels, each bounded in time and never raising.

- webhook: a JSON POST through Airflow's ``HttpHook`` on the configured HTTP connection (its
  ``host`` is the whole webhook URL; ``login``/``password`` give Basic auth, extras become headers,
  as for any HTTP connection). The URL is registered with the secrets masker first: Slack and
  Teams put the credential in the path, Google Chat in the query, and requests' connection errors
  quote the URL.
- e-mail: Airflow's ``SmtpHook`` (apache-airflow-providers-smtp, already a pinned runtime
  dependency) on the configured SMTP connection, so host, port, TLS/SSL, login and ``from_email``
  are set exactly as Airflow documents them. ``SmtpNotifier`` is not used: it renders subject and
  body as Jinja templates, and an error message containing ``{{`` would be evaluated or break it.

Each channel runs in its own daemon thread and gets ``timeout_s``: an SMTP server that accepts
the connection and then hangs, or a webhook that never answers, costs the task that many seconds
and is then abandoned. The outcome of every channel is logged, and a failure is never raised —
the task's own failure is what Airflow must record.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from sync_apis.alerts.message import Alert, clean, webhook_payload
from sync_apis.alerts.settings import AlertSettings
from sync_apis.http import mask_secret

log = logging.getLogger(__name__)

SENT = "sent"
# A webhook path or query shorter than this is not a credential (and masking "/" would blank logs).
_MIN_SECRET_PART = 12


def send_webhook(alert: Alert, settings: AlertSettings) -> None:
    from airflow.providers.http.hooks.http import HttpHook

    hook = HttpHook(method="POST", http_conn_id=settings.webhook_conn_id)
    url = hook.url_from_endpoint(None)
    mask_webhook_url(url)
    hook.run(
        endpoint=None,
        json=webhook_payload(alert, settings.webhook_format),
        headers={"Content-Type": "application/json; charset=utf-8"},
        # Twice the deadline: a hung webhook is reported as timed out by run_with_deadline, and the
        # abandoned thread still ends on its own.
        extra_options={"timeout": 2 * settings.timeout_s, "check_response": True},
    )


def mask_webhook_url(url: str) -> None:
    """Register the webhook URL, and its path and query, as secrets for Airflow's log masking."""
    parts = urlsplit(url)
    mask_secret(url)
    for part in (parts.path, parts.query):
        if len(part) >= _MIN_SECRET_PART:
            mask_secret(part)


def send_email(alert: Alert, settings: AlertSettings) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=settings.smtp_conn_id) as hook:
        hook.send_email_smtp(
            to=list(settings.email_to),
            subject=alert.title,
            html_content=alert.html(),
            from_email=settings.email_from,  # None: the connection's from_email extra
        )


def run_with_deadline(jobs: Mapping[str, Callable[[], None]], timeout_s: float) -> dict[str, str]:
    """Run the jobs in parallel daemon threads; wait at most ``timeout_s`` for all of them.

    Returns ``{name: "sent" | "failed: <cleaned error line>" | "timed out after N s"}``.
    """
    outcomes: dict[str, str] = {}
    lock = threading.Lock()

    def runner(name: str, job: Callable[[], None]) -> None:
        try:
            job()
            outcome = SENT
        except Exception as exc:  # a broken channel must not become the task's error
            outcome = f"failed: {describe(exc)}"
        with lock:
            outcomes[name] = outcome

    threads = [
        threading.Thread(target=runner, args=(name, job), name=f"sync-apis-alert-{name}", daemon=True)
        for name, job in jobs.items()
    ]
    deadline = time.monotonic() + timeout_s
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        return {name: outcomes.get(name, f"timed out after {timeout_s:g} s") for name in jobs}


def describe(exc: BaseException) -> str:
    """A channel's error in one cleaned line (requests quotes URLs, smtplib the server's reply)."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return clean(f"{type(exc).__name__}: {first}"[:300])


def deliver(alert: Alert, settings: AlertSettings) -> dict[str, str]:
    """Send ``alert`` through every configured channel; log and return each channel's outcome."""
    jobs: dict[str, Callable[[], None]] = {}
    if settings.webhook_enabled:
        jobs[f"webhook {settings.webhook_conn_id!r}"] = lambda: send_webhook(alert, settings)
    if settings.email_enabled:
        jobs[f"e-mail {settings.smtp_conn_id!r} to {', '.join(settings.email_to)}"] = lambda: send_email(
            alert, settings
        )
    if problem := settings.half_configured():
        log.warning("%s", problem)
    if not jobs:
        log.info(
            "%s alert not sent: alerts are off (set [sync_apis] alert_webhook_conn_id and/or "
            "alert_smtp_conn_id + alert_email_to to turn them on)",
            alert.level,
        )
        return {}
    outcomes = run_with_deadline(jobs, settings.timeout_s)
    for channel, outcome in outcomes.items():
        if outcome == SENT:
            log.info("%s alert sent: %s", alert.level, channel)
        else:
            log.warning("%s alert NOT sent by %s: %s", alert.level, channel, outcome)
    return outcomes
