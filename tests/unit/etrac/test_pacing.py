"""e-Track is read unpaced unless an operator sets [sync_apis] etrac_requests_per_minute (issue 11)."""

from __future__ import annotations

import pytest

from sync_apis.etrac.pacing import configured_requests_per_minute

ENV = "AIRFLOW__SYNC_APIS__ETRAC_REQUESTS_PER_MINUTE"


def test_unpaced_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert configured_requests_per_minute() == 0


def test_an_operator_sets_a_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "90")
    assert configured_requests_per_minute() == 90


def test_a_negative_ceiling_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "-5")
    with pytest.raises(ValueError, match="etrac_requests_per_minute must be >= 0"):
        configured_requests_per_minute()


def test_the_dags_param_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Param default is read when the DAG file is parsed, so scheduled runs follow it too."""
    import runpy
    from pathlib import Path

    dag_file = Path(__file__).resolve().parents[3] / "dags" / "etrac_daily.py"
    monkeypatch.delenv(ENV, raising=False)
    assert runpy.run_path(str(dag_file))["dag"].params["requests_per_minute"] == 0
    monkeypatch.setenv(ENV, "60")
    assert runpy.run_path(str(dag_file))["dag"].params["requests_per_minute"] == 60
