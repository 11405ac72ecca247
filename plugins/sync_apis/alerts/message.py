"""What an alert says, built from a task's context: pure functions, no network, no configuration.

A message names the DAG, the run's day, the task (and its map index), the try, the error line
and a link to the task instance's log in the Airflow UI. Its text goes through two filters
before it leaves the process:

- Airflow's own secrets masker (``redact``): every connection password, sensitive extra and
  ``mask_secret``-registered value this process has seen becomes ``***``;
- ``scrub``: shapes that are credentials whoever wrote them — ``user:password@`` in a URL,
  ``?token=…`` query values, ``password=…`` / ``api_key: …`` pairs, ``Bearer …`` headers and
  well-known token formats (GitHub, Slack, AWS, Google, JWT, PEM keys, long hex keys).

Only the exception's class and the first line of its message are sent: tracebacks and later
lines are where response bodies, SQL parameters and headers usually end up.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

Level = Literal["failure", "warning"]

ERROR_LINE_MAX = 300
NO_EXCEPTION = "no exception recorded (the task process was killed, timed out or lost its heartbeat)"
PRODUCT = "sync-apis"

_SENSITIVE_WORD = (
    r"passw(?:or)?d|pwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"authorization|credentials?|signature|session[_-]?id|cookie"
)
# Ordered: the URL rules run first so a "password=" inside a query string is handled once.
_SCRUB_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host -> scheme://***@host
    (re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/\s:@]+(?::[^/\s@]*)?@", re.IGNORECASE), r"\1***@"),
    # ?token=abc&x=1 -> ?token=***&x=1 (only parameters with a sensitive name: try_number stays)
    (
        re.compile(rf"([?&][^=&\s]*(?:{_SENSITIVE_WORD}|key|code|sig)[^=&\s]*=)[^&\s#]+", re.IGNORECASE),
        r"\1***",
    ),
    # Authorization: Bearer abc / Basic abc / Token abc
    (re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE), r"\1 ***"),
    # password=abc, "apiToken": "abc", api_key: abc (not prose such as "password = its API key")
    (
        re.compile(
            rf"""\b([\w.-]*(?:{_SENSITIVE_WORD})[\w.-]*)(["']?(?:=|\s*:\s*)["']?)(?!\*\*\*)([^\s"',;&)}}\]]+)""",
            re.IGNORECASE,
        ),
        r"\1\2***",
    ),
    # Formats that are a credential wherever they appear.
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S), "***"),
    (re.compile(r"\beyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*"), "***"),  # JWT
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), "***"),  # GitHub
    (re.compile(r"\bxox[abeoprs]-[A-Za-z0-9-]{10,}"), "***"),  # Slack
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "***"),  # AWS access key id
    (re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"), "***"),  # Google API key
    (re.compile(r"\b[rs]k_live_[0-9A-Za-z]{10,}"), "***"),  # Stripe
    (re.compile(r"\b[0-9a-fA-F]{32,}\b"), "***"),  # hex keys and digests
)


def scrub(text: str) -> str:
    """``text`` with anything shaped like a credential replaced by ``***``."""
    for pattern, replacement in _SCRUB_RULES:
        text = pattern.sub(replacement, text)
    return text


def redact(text: str) -> str:
    """``text`` through Airflow's secrets masker (the values this process was told are secret)."""
    try:
        # Airflow 3.3 moved the masker here; airflow.sdk.execution_time.secrets_masker is a
        # deprecated alias that points to this module.
        from airflow.sdk._shared.secrets_masker import redact as airflow_redact
    except ImportError:  # outside an Airflow install: scrub() still runs
        return text
    return str(airflow_redact(text))


def clean(text: str) -> str:
    """Both filters: registered secrets first (exact values), then credential shapes."""
    return scrub(redact(text))


def error_line(error: BaseException | str | None) -> str:
    """``ExceptionClass: first line of its message``, cleaned and cut to ERROR_LINE_MAX."""
    if error is None:
        return NO_EXCEPTION
    try:
        message = str(error)
    except Exception:  # an exception whose __str__ fails still has a class to name
        message = ""
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    if isinstance(error, str):  # Airflow passes a string when it only has the message
        line = first
    else:
        line = f"{type(error).__name__}: {first}" if first else type(error).__name__
    line = clean(line)
    return line if len(line) <= ERROR_LINE_MAX else line[: ERROR_LINE_MAX - 1] + "…"


@dataclass(frozen=True)
class RunFacts:
    """Who and what an alert is about, read from a task context (every field may be unknown)."""

    dag_id: str
    day: str
    task: str
    try_line: str
    log_url: str
    run_id: str

    @classmethod
    def from_context(cls, context: Mapping[str, Any] | None) -> RunFacts:
        context = context or {}
        ti = context.get("ti") or context.get("task_instance")
        dag = context.get("dag")
        dag_id = str(getattr(ti, "dag_id", None) or getattr(dag, "dag_id", None) or "?")
        run_id = str(getattr(ti, "run_id", None) or context.get("run_id") or "")
        return cls(
            dag_id=dag_id,
            day=_day(context),
            task=_task(ti, context),
            try_line=_try_line(ti),
            log_url=_log_url(ti, dag_id, run_id),
            run_id=run_id,
        )

    def lines(self) -> list[str]:
        lines = [f"DAG: {self.dag_id}", f"Day: {self.day}"]
        if self.task:
            lines.append(f"Task: {self.task}")
        if self.try_line:
            lines.append(f"Try: {self.try_line}")
        if self.run_id:
            lines.append(f"Run: {self.run_id}")
        return lines


def _day(context: Mapping[str, Any]) -> str:
    """The run's local day; a context without one (or a broken one) must not cost the alert."""
    from sync_apis.run_day import run_day

    try:
        return run_day(context).isoformat()
    except Exception:  # the alert matters more than the day: say it is unknown
        return "unknown"


def _task(ti: Any, context: Mapping[str, Any]) -> str:
    task_id = getattr(ti, "task_id", None) or getattr(context.get("task"), "task_id", None)
    if not task_id:
        return ""
    map_index = getattr(ti, "map_index", None)
    if map_index is None or map_index < 0:
        return str(task_id)
    label = getattr(ti, "rendered_map_index", None)
    return f"{task_id} [map index {map_index}" + (f": {label}]" if label else "]")


def _try_line(ti: Any) -> str:
    try_number = getattr(ti, "try_number", None)
    if not try_number:
        return ""
    max_tries = getattr(ti, "max_tries", None)
    # max_tries counts the retries; the first try is not one of them.
    return f"{try_number} of {max_tries + 1}" if isinstance(max_tries, int) else str(try_number)


def _log_url(ti: Any, dag_id: str, run_id: str) -> str:
    """The task instance's page in the Airflow UI (its log), from ``[api] base_url``.

    Airflow 3's RuntimeTaskInstance has ``log_url`` (base_url + /dags/…/runs/…/tasks/…, with the
    map index and try number); anything else gets the same shape built here.
    """
    try:
        url = getattr(ti, "log_url", None)
    except Exception:  # a property that needs configuration or the server
        url = None
    if url:
        return str(url)
    task_id = getattr(ti, "task_id", None)
    if not (dag_id != "?" and run_id and task_id):
        return ""
    from airflow.sdk import conf

    base = str(conf.get("api", "base_url", fallback="") or "http://localhost:8080/").rstrip("/")
    map_index = getattr(ti, "map_index", None)
    mapped = f"/mapped/{map_index}" if isinstance(map_index, int) and map_index >= 0 else ""
    return f"{base}/dags/{dag_id}/runs/{quote(run_id)}/tasks/{task_id}{mapped}"


@dataclass(frozen=True)
class Alert:
    """One message, whatever the channel: a one-line title and detail lines."""

    level: Level
    title: str
    lines: tuple[str, ...]

    def text(self) -> str:
        return "\n".join((self.title, *self.lines))

    def html(self) -> str:
        """The e-mail body (Airflow's SmtpHook sends HTML): escaped lines, the log as a link."""
        items = []
        for line in self.lines:
            name, _, value = line.partition(": ")
            if name == "Log" and value.startswith(("http://", "https://")):
                link = html.escape(value, quote=True)
                items.append(f'<li>Log: <a href="{link}">{link}</a></li>')
            else:
                items.append(f"<li>{html.escape(line)}</li>")
        return f"<p><b>{html.escape(self.title)}</b></p>\n<ul>\n" + "\n".join(items) + "\n</ul>\n"


def build_alert(
    level: Level, context: Mapping[str, Any] | None, headline: str, details: Sequence[str] = ()
) -> Alert:
    """An alert about the run in ``context``; ``headline`` and ``details`` are cleaned too."""
    facts = RunFacts.from_context(context)
    where = " ".join(part for part in (facts.dag_id, facts.day, facts.task) if part)
    title = f"[{PRODUCT}] {level.upper()} {where}: {clean(headline)}"
    lines = [*facts.lines(), *(clean(d) for d in details)]
    if facts.log_url:
        lines.append(f"Log: {facts.log_url}")
    # The whole text once more through the masker: a secret can hide in a map-index label.
    return Alert(level=level, title=redact(title), lines=tuple(redact(line) for line in lines))


def failure_alert(context: Mapping[str, Any]) -> Alert:
    """The alert for a task that failed for good (its last try)."""
    error = context.get("exception")
    return build_alert("failure", context, "task failed", [f"Error: {error_line(error)}"])


WebhookFormat = Literal["text", "teams"]
WEBHOOK_FORMATS: tuple[str, ...] = ("text", "teams")


def webhook_payload(alert: Alert, fmt: WebhookFormat = "text") -> dict[str, Any]:
    """The JSON body for an incoming webhook.

    ``text`` is ``{"text": …}`` and nothing else: Slack and Google Chat incoming webhooks and
    Teams' (retiring) Office 365 "Incoming Webhook" connector all accept it, and Google Chat
    rejects unknown fields. ``teams`` is the Adaptive Card that Teams' Workflows webhooks ("When
    a Teams webhook request is received") require, carrying the same text.
    """
    if fmt == "teams":
        body = [{"type": "TextBlock", "text": alert.title, "weight": "Bolder", "wrap": True}]
        body += [{"type": "TextBlock", "text": line, "wrap": True, "spacing": "None"} for line in alert.lines]
        card = {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.4",
            "body": body,
        }
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }
    return {"text": alert.text()}
