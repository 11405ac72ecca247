"""Failure alerts from a real failing run: etrac_daily with ``dag.test()`` against an e-Track API
that rejects the credentials (and echoes them, with a token, in its error), alerts configured
through ``AIRFLOW__SYNC_APIS__*`` and Airflow connections to a local webhook receiver and a
local SMTP server (aiosmtpd).
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pendulum
import pytest

from tests.support.http_receiver import HttpReceiver, Reply
from tests.support.smtp_sink import SmtpSink, free_port

FAKE_LOGIN = "alerts-ops@example.com"
FAKE_PASSWORD = "Zq7-fake-etrac-key-58213"
GITHUB_TOKEN = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SESSION_TOKEN = "Sx81kfZ0qPq7Lm"
# The e-Track error quotes the key it was given and two tokens: none may reach a person.
API_ERROR = f"Chave {FAKE_PASSWORD} recusada; token={SESSION_TOKEN} sessao {GITHUB_TOKEN}"
SECRETS = [FAKE_PASSWORD, GITHUB_TOKEN, SESSION_TOKEN]
WEBHOOK_PATH = "/services/T0001/B0002/webhook-path-secret-77"
BASE_URL = "http://airflow.example.test:8080"
RECIPIENTS = ["ops@example.com", "oncall@example.com"]
# A recent local day: the e-Track DAG may refuse days beyond the API's 90-day retention.
DAY = pendulum.now("America/Sao_Paulo").date() - timedelta(days=3)


@pytest.fixture
def rejecting_etrac() -> Iterator[HttpReceiver]:
    with HttpReceiver(Reply.json(401, {"erro": API_ERROR, "code_header": "401"})) as api:
        yield api


@pytest.fixture
def webhook() -> Iterator[HttpReceiver]:
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def http_conn(url: str) -> str:
    return json.dumps({"conn_type": "http", "host": url})


def smtp_conn(port: int) -> str:
    extra = {"disable_ssl": True, "disable_tls": True, "from_email": "airflow@example.test", "retry_limit": 0}
    return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": extra})


@pytest.fixture
def failing_etrac_run(
    monkeypatch: pytest.MonkeyPatch, warehouse_url: Any, rejecting_etrac: HttpReceiver, run_dag: Callable
) -> Callable[[], Any]:
    """Run etrac_daily for DAY against the rejecting API; returns the DagRun."""
    monkeypatch.setenv("AIRFLOW_CONN_SYNC_APIS_DB", warehouse_url.airflow_conn_json())
    monkeypatch.setenv(
        "AIRFLOW_CONN_ETRAC_API",
        json.dumps(
            {
                "conn_type": "http",
                "host": f"{rejecting_etrac.base_url}/monitoramento",
                "login": FAKE_LOGIN,
                "password": FAKE_PASSWORD,
            }
        ),
    )
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", BASE_URL)

    def run() -> Any:
        dag_run = run_dag("etrac_daily", DAY)
        states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
        assert states["latest"] == "failed", states
        assert rejecting_etrac.requests, "the e-Track API was never called: the failure is not the one tested"
        return dag_run

    return run


def configure_alerts(monkeypatch: pytest.MonkeyPatch, *, webhook_url: str, smtp_port: int) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ALERT_WEBHOOK", http_conn(webhook_url))
    monkeypatch.setenv("AIRFLOW_CONN_ALERT_SMTP", smtp_conn(smtp_port))
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_WEBHOOK_CONN_ID", "alert_webhook")
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_SMTP_CONN_ID", "alert_smtp")
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_EMAIL_TO", ", ".join(RECIPIENTS))
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_TIMEOUT_S", "10")


def assert_names_the_failure(text: str, run_id: str) -> None:
    assert "etrac_daily" in text
    assert DAY.isoformat() in text
    assert "Task: latest" in text
    assert "Try: 1 of 1" in text
    # The error line: the exception class and the API's answer, its secrets replaced.
    assert "Error: ApiError: e-Track rejected the credentials of connection 'etrac_api'" in text
    assert "answered HTTP 401: Chave *** recusada; token=*** sessao ***" in text
    from urllib.parse import quote

    assert f"Log: {BASE_URL}/dags/etrac_daily/runs/{quote(run_id)}/tasks/latest?try_number=1" in text
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"secrets in the alert: {leaked}"


def test_failed_task_alerts_by_webhook_and_email(
    monkeypatch: pytest.MonkeyPatch, failing_etrac_run: Callable, webhook: HttpReceiver, smtp_sink: SmtpSink
) -> None:
    configure_alerts(monkeypatch, webhook_url=webhook.base_url + WEBHOOK_PATH, smtp_port=smtp_sink.port)

    dag_run = failing_etrac_run()

    # One alert per failed task: latest failed; the tasks after it are upstream_failed, not failed.
    assert [r.path for r in webhook.requests] == [WEBHOOK_PATH]
    post = webhook.requests[0]
    assert post.method == "POST"
    assert post.headers["Content-Type"].startswith("application/json")
    payload = post.json()
    assert set(payload) == {"text"}, "Slack, Teams connectors and Google Chat take {'text': ...} only"
    assert payload["text"].startswith(
        f"[sync-apis] FAILURE etrac_daily {DAY.isoformat()} latest: task failed"
    )
    assert_names_the_failure(payload["text"], dag_run.run_id)

    assert len(smtp_sink.mails) == 1
    mail = smtp_sink.mails[0]
    assert mail.rcpt_tos == RECIPIENTS
    assert mail.mail_from == "airflow@example.test"
    assert mail.subject == payload["text"].splitlines()[0]
    body = mail.body("html")
    assert_names_the_failure(html.unescape(re.sub(r"<[^>]+>", "", body)), dag_run.run_id)
    assert '<a href="http://airflow.example.test:8080/dags/etrac_daily/runs/' in body


def test_unconfigured_alerts_send_nothing(
    monkeypatch: pytest.MonkeyPatch,
    failing_etrac_run: Callable,
    webhook: HttpReceiver,
    smtp_sink: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The connections exist, but [sync_apis] names none of them: alerts are off.
    monkeypatch.setenv("AIRFLOW_CONN_ALERT_WEBHOOK", http_conn(webhook.base_url + WEBHOOK_PATH))
    monkeypatch.setenv("AIRFLOW_CONN_ALERT_SMTP", smtp_conn(smtp_sink.port))
    with caplog.at_level(logging.INFO, logger="sync_apis.alerts"):
        failing_etrac_run()

    assert webhook.requests == []
    assert smtp_sink.mails == []
    off = [r.getMessage() for r in caplog.records if "alerts are off" in r.getMessage()]
    assert len(off) == 1, [r.getMessage() for r in caplog.records if r.name.startswith("sync_apis.alerts")]


@pytest.mark.parametrize(
    ("webhook_reply", "webhook_outcome"),
    [
        (Reply(500, b"internal error"), "failed: AirflowException: 500:"),
        (Reply(delay_s=60), "timed out after 3 s"),
    ],
    ids=["webhook-500", "webhook-hangs"],
)
def test_broken_channels_leave_the_task_failure_intact(
    monkeypatch: pytest.MonkeyPatch,
    failing_etrac_run: Callable,
    webhook: HttpReceiver,
    caplog: pytest.LogCaptureFixture,
    webhook_reply: Reply,
    webhook_outcome: str,
) -> None:
    webhook.reply = webhook_reply
    # The mail server is down: nothing listens on its port.
    configure_alerts(monkeypatch, webhook_url=webhook.base_url + WEBHOOK_PATH, smtp_port=free_port())
    monkeypatch.setenv("AIRFLOW__SYNC_APIS__ALERT_TIMEOUT_S", "3")

    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="sync_apis.alerts"):
        dag_run = failing_etrac_run()  # asserts latest failed, after calling the API
    elapsed = time.monotonic() - started

    assert len(webhook.requests) == 1, "the webhook was tried once"
    latest = next(ti for ti in dag_run.get_task_instances() if ti.task_id == "latest")
    assert (latest.state, latest.try_number) == ("failed", 1)
    # A hanging webhook costs the task its 3 s, not the 60 s it would hang.
    assert elapsed < 45, f"the run took {elapsed:.0f} s"
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("sync_apis.alerts")]
    webhook_line = next(line for line in lines if "NOT sent by webhook 'alert_webhook'" in line)
    assert webhook_outcome in webhook_line
    email_line = next(line for line in lines if "NOT sent by e-mail 'alert_smtp'" in line)
    assert "ConnectionRefusedError" in email_line
    assert not any(WEBHOOK_PATH in line for line in lines), lines


def test_warning_alert_from_task_code(
    monkeypatch: pytest.MonkeyPatch, airflow_db: Any, webhook: HttpReceiver, smtp_sink: SmtpSink
) -> None:
    """``alert_warning`` (for empty days and the like) goes the same way as failure alerts."""
    from types import SimpleNamespace

    from sync_apis.alerts import alert_warning

    configure_alerts(monkeypatch, webhook_url=webhook.base_url + WEBHOOK_PATH, smtp_port=smtp_sink.port)
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", BASE_URL)
    day = pendulum.datetime(2025, 3, 10, tz="America/Sao_Paulo")
    ti = SimpleNamespace(dag_id="auvo_daily", task_id="sync_stream", run_id="scheduled__x", map_index=2)
    ti.rendered_map_index = "tasks"
    ti.try_number, ti.max_tries = 1, 3
    context = {"ti": ti, "logical_date": day, "data_interval_start": day}

    outcomes = alert_warning(context, "0 rows for 2025-03-10", ["the previous 7 days had 412 a day"])

    assert outcomes == {
        "webhook 'alert_webhook'": "sent",
        f"e-mail 'alert_smtp' to {', '.join(RECIPIENTS)}": "sent",
    }
    text = webhook.requests[0].json()["text"]
    assert (
        text.splitlines()[0] == "[sync-apis] WARNING auvo_daily 2025-03-10 sync_stream [map index 2: tasks]: "
        "0 rows for 2025-03-10"
    )
    assert "the previous 7 days had 412 a day" in text
    assert f"Log: {BASE_URL}/dags/auvo_daily/runs/scheduled__x/tasks/sync_stream/mapped/2" in text
    assert smtp_sink.mails[0].subject == text.splitlines()[0]


def callbacks(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def test_every_task_of_both_dags_alerts_on_failure(dagbag: Any) -> None:
    from sync_apis.alerts import on_task_failure

    for dag_id in ("auvo_daily", "etrac_daily"):
        dag = dagbag.get_dag(dag_id)
        missing = [t.task_id for t in dag.tasks if on_task_failure not in callbacks(t.on_failure_callback)]
        assert not missing, f"{dag_id}: tasks without the failure alert: {missing}"


def test_test_alert_command_reaches_both_channels(
    monkeypatch: pytest.MonkeyPatch, airflow_db: Any, webhook: HttpReceiver, smtp_sink: SmtpSink
) -> None:
    """``python -m sync_apis.alerts`` (the README's check), with the webhook connection created
    the way the UI does (in the metadata database) and the SMTP one in the environment."""
    import os
    import subprocess
    import sys

    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    from tests.support.airflow_env import REPO

    configure_alerts(monkeypatch, webhook_url="http://unused.invalid", smtp_port=smtp_sink.port)
    monkeypatch.delenv("AIRFLOW_CONN_ALERT_WEBHOOK")
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == "alert_webhook").delete()
        session.add(
            Connection(conn_id="alert_webhook", conn_type="http", host=webhook.base_url + WEBHOOK_PATH)
        )

    result = subprocess.run(
        [sys.executable, "-m", "sync_apis.alerts"],
        env={**os.environ, "PYTHONPATH": str(REPO / "plugins")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "webhook 'alert_webhook': sent" in result.stdout
    assert f"e-mail 'alert_smtp' to {', '.join(RECIPIENTS)}: sent" in result.stdout
    assert webhook.requests[0].json()["text"].startswith("[sync-apis] TEST alert from ")
    assert smtp_sink.mails[0].subject.startswith("[sync-apis] TEST alert from ")
    assert smtp_sink.mails[0].rcpt_tos == RECIPIENTS
