"""Alert messages, their cleaning of secrets, the configuration and the time bound (no network)."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest

from sync_apis.alerts.channels import deliver, run_with_deadline
from sync_apis.alerts.message import (
    ERROR_LINE_MAX,
    NO_EXCEPTION,
    Alert,
    build_alert,
    error_line,
    failure_alert,
    scrub,
    webhook_payload,
)
from sync_apis.alerts.settings import DEFAULT_TIMEOUT_S, AlertSettings

DAY_START = pendulum.datetime(2025, 3, 10, tz="America/Sao_Paulo")


def task_instance(**overrides: Any) -> SimpleNamespace:
    fields = {
        "dag_id": "etrac_daily",
        "task_id": "history",
        "run_id": "scheduled__2025-03-10T03:00:00+00:00",
        "map_index": 3,
        "rendered_map_index": "ABC1D23..XYZ9876 (10 plates)",
        "try_number": 4,
        "max_tries": 3,
        "log_url": "http://airflow.example/dags/etrac_daily/runs/r/tasks/history/mapped/3?try_number=4",
    }
    return SimpleNamespace(**{**fields, **overrides})


def context(**overrides: Any) -> dict[str, Any]:
    return {
        "ti": task_instance(),
        "logical_date": DAY_START,
        "data_interval_start": DAY_START,
        "exception": RuntimeError("boom"),
        **overrides,
    }


# --------------------------------------------------------------------------- the error line


def test_error_line_is_class_and_first_line() -> None:
    error = ValueError("bad plate 'XYZ'\nTraceback-ish detail\nresponse body: {...}")
    assert error_line(error) == "ValueError: bad plate 'XYZ'"


def test_error_line_without_message_or_exception() -> None:
    assert error_line(KeyError()) == "KeyError"
    assert error_line(None) == NO_EXCEPTION
    assert error_line("  \n  Task received SIGTERM\nmore") == "Task received SIGTERM"


def test_error_line_of_an_exception_that_cannot_be_printed() -> None:
    class UnprintableError(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert error_line(UnprintableError()) == "UnprintableError"


def test_error_line_is_cut() -> None:
    line = error_line(RuntimeError("x" * 1000))
    assert len(line) == ERROR_LINE_MAX
    assert line.startswith("RuntimeError: xxx") and line.endswith("…")


def test_error_line_hides_values_registered_with_airflows_masker() -> None:
    from airflow.sdk.log import mask_secret

    mask_secret("unit-test-registered-secret-93")
    line = error_line(RuntimeError("login with unit-test-registered-secret-93 refused"))
    assert line == "RuntimeError: login with *** refused"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        (
            "GET https://user:hunter22@api.example.com/v2/x failed",
            "GET https://***@api.example.com/v2/x failed",
        ),
        (
            "POST https://chat.googleapis.com/v1/spaces/S/messages?key=AIzaSyD-abc&token=Zz9_abc failed",
            "POST https://chat.googleapis.com/v1/spaces/S/messages?key=***&token=*** failed",
        ),
        ("Authorization: Bearer abc.def-ghi_123", "Authorization: *** ***"),
        ("header Bearer abc.def-ghi_123 rejected", "header Bearer *** rejected"),
        ("password=s3cr3t, user=bob", "password=***, user=bob"),
        ('{"apiToken": "f00-bar-baz", "page": 2}', '{"apiToken": "***", "page": 2}'),
        ("api_key: k-123456 rejected", "api_key: *** rejected"),
        ("token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 expired", "token *** expired"),
        ("slack xoxb-1234567890-abcdefghij said no", "slack *** said no"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature here", "jwt *** here"),
        ("aws AKIAIOSFODNN7EXAMPLE denied", "aws *** denied"),
        ("key 0123456789abcdef0123456789abcdef used", "key *** used"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "***"),
    ],
)
def test_scrub_replaces_credential_shapes(raw: str, cleaned: str) -> None:
    assert scrub(raw) == cleaned


@pytest.mark.parametrize(
    "harmless",
    [
        "Log: http://airflow.example/dags/etrac_daily/runs/manual__2025-03-10T03%3A00%3A00%2B00%3A00"
        "/tasks/latest?try_number=2",
        "e-Track rejected the credentials of connection 'etrac_api' (login = the platform e-mail, "
        "password = its API key); check the connection.",
        "POST /ultimas-posicoes answered HTTP 401",
        "run 01a24618-498c-771c-9929-18d06fabe66d failed",
    ],
)
def test_scrub_keeps_what_a_person_needs(harmless: str) -> None:
    assert scrub(harmless) == harmless


# --------------------------------------------------------------------------- the message


def test_failure_alert_names_dag_day_task_try_error_and_log() -> None:
    alert = failure_alert(context(exception=ConnectionError("API down; token=abc123xyz")))

    assert alert.level == "failure"
    assert alert.title == (
        "[sync-apis] FAILURE etrac_daily 2025-03-10 history [map index 3: ABC1D23..XYZ9876 (10 plates)]: "
        "task failed"
    )
    assert alert.lines == (
        "DAG: etrac_daily",
        "Day: 2025-03-10",
        "Task: history [map index 3: ABC1D23..XYZ9876 (10 plates)]",
        "Try: 4 of 4",
        "Run: scheduled__2025-03-10T03:00:00+00:00",
        "Error: ConnectionError: API down; token=***",
        "Log: http://airflow.example/dags/etrac_daily/runs/r/tasks/history/mapped/3?try_number=4",
    )


def test_failure_alert_without_day_or_exception_still_says_what_it_knows() -> None:
    # A callback from the dag-processor (task killed from outside) has no exception; a context
    # that lost its dates must not cost the alert.
    ti = task_instance(map_index=-1, rendered_map_index=None, try_number=1, max_tries=0)
    alert = failure_alert({"ti": ti})
    text = alert.text()
    assert "Day: unknown" in text
    assert "Task: history\n" in text
    assert "Try: 1 of 1" in text
    assert f"Error: {NO_EXCEPTION}" in text


def test_log_link_is_built_when_the_task_instance_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/")
    ti = task_instance(log_url=None, run_id="manual__2025-03-10T03:00:00+00:00")
    alert = build_alert("warning", {"ti": ti, "data_interval_start": DAY_START}, "0 rows")
    assert alert.lines[-1] == (
        "Log: https://airflow.example.com/dags/etrac_daily/runs/"
        "manual__2025-03-10T03%3A00%3A00%2B00%3A00/tasks/history/mapped/3"
    )


def test_warning_alert_cleans_its_own_text_too() -> None:
    alert = build_alert("warning", context(), "0 rows (password=hunter22)", ["seen with api_key=k-99999"])
    assert alert.title.endswith(": 0 rows (password=***)")
    assert "seen with api_key=***" in alert.lines


def test_email_body_escapes_and_links() -> None:
    alert = Alert(
        "failure", "[sync-apis] FAILURE x", ("Error: ValueError: <b>&</b>", "Log: http://a/b?c=1&d=2")
    )
    body = alert.html()
    assert "<li>Error: ValueError: &lt;b&gt;&amp;&lt;/b&gt;</li>" in body
    assert '<li>Log: <a href="http://a/b?c=1&amp;d=2">http://a/b?c=1&amp;d=2</a></li>' in body


def test_webhook_payloads() -> None:
    alert = Alert("failure", "title", ("DAG: d", "Log: http://x"))
    assert webhook_payload(alert) == {"text": "title\nDAG: d\nLog: http://x"}
    teams = webhook_payload(alert, "teams")
    attachment = teams["attachments"][0]
    assert teams["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    texts = [block["text"] for block in attachment["content"]["body"]]
    assert texts == ["title", "DAG: d", "Log: http://x"]


# --------------------------------------------------------------------------- configuration


def test_settings_from_airflow_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_WEBHOOK_CONN_ID", "chat")
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_WEBHOOK_FORMAT", "Teams")
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_SMTP_CONN_ID", "mail")
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_EMAIL_TO", " a@example.com; b@example.com ,")
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_TIMEOUT_S", "7.5")
    settings = AlertSettings.from_airflow_config()
    assert settings == AlertSettings(
        webhook_conn_id="chat",
        webhook_format="teams",
        smtp_conn_id="mail",
        email_to=("a@example.com", "b@example.com"),
        email_from=None,
        timeout_s=7.5,
    )
    assert settings.webhook_enabled and settings.email_enabled


def test_settings_default_to_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("WEBHOOK_CONN_ID", "WEBHOOK_FORMAT", "SMTP_CONN_ID", "EMAIL_TO", "EMAIL_FROM", "TIMEOUT_S"):
        monkeypatch.delenv(f"AIRFLOW__SYNC_APIS__ALERT_{key}", raising=False)
    settings = AlertSettings.from_airflow_config()
    assert settings == AlertSettings()
    assert not settings.webhook_enabled and not settings.email_enabled
    assert settings.timeout_s == DEFAULT_TIMEOUT_S


def test_bad_values_fall_back_with_a_warning(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_WEBHOOK_FORMAT", "discord")
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_TIMEOUT_S", "soon")
    with caplog.at_level(logging.WARNING, logger="sync_apis.alerts"):
        settings = AlertSettings.from_airflow_config()
    assert (settings.webhook_format, settings.timeout_s) == ("text", DEFAULT_TIMEOUT_S)
    assert len(caplog.records) == 2


def test_unconfigured_is_one_info_line_and_nothing_else(caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="sync_apis.alerts"):
        outcomes = deliver(Alert("failure", "t", ()), AlertSettings())
    assert outcomes == {}
    assert [(r.levelname, "alerts are off" in r.getMessage()) for r in caplog.records] == [("INFO", True)]


def test_half_configured_email_is_named(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="sync_apis.alerts"):
        deliver(Alert("failure", "t", ()), AlertSettings(smtp_conn_id="mail"))
    messages = [r.getMessage() for r in caplog.records]
    assert any("alert_email_to is empty" in m for m in messages), messages


# --------------------------------------------------------------------------- the time bound


def test_run_with_deadline_reports_each_job_and_does_not_wait_for_a_hung_one() -> None:
    def hang() -> None:
        time.sleep(5)

    def broken() -> None:
        raise OSError("connect to https://user:pw-123456@mail.example failed")

    started = time.monotonic()
    outcomes = run_with_deadline({"ok": lambda: None, "hung": hang, "broken": broken}, timeout_s=0.5)
    elapsed = time.monotonic() - started

    assert elapsed < 2, f"waited {elapsed:.1f} s for a hung channel"
    assert outcomes == {
        "ok": "sent",
        "hung": "timed out after 0.5 s",
        "broken": "failed: OSError: connect to https://***@mail.example failed",
    }


def test_settings_fall_back_to_airflow_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # Where the environment is fixed (docker-compose), alerts are switched on from the UI.
    monkeypatch.delenv("AIRFLOW__SYNC_APIS__ALERT_WEBHOOK_CONN_ID", raising=False)
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_SMTP_CONN_ID", "mail_from_config")
    monkeypatch.setenv("AIRFLOW_VAR_SYNC_APIS_ALERT_WEBHOOK_CONN_ID", "chat_from_variable")
    monkeypatch.setenv("AIRFLOW_VAR_SYNC_APIS_ALERT_SMTP_CONN_ID", "mail_from_variable")
    settings = AlertSettings.from_airflow_config()
    assert settings.webhook_conn_id == "chat_from_variable"
    assert settings.smtp_conn_id == "mail_from_config", "the configuration wins over a Variable"
