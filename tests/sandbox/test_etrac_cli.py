"""``python -m sandbox`` serves both fakes, prints where and how to log in, and stops on SIGTERM."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from sandbox.etrac import DEFAULT_EMAIL, DEFAULT_KEY

REPO = Path(__file__).resolve().parents[2]


def start(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--auvo-port", "0", "--etrac-port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while not any(line.startswith("clock:") for line in seen):
        try:
            seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        except queue.Empty:
            proc.kill()
            raise AssertionError(f"sandbox did not start: {seen}") from None
    proc.lines = lines  # type: ignore[attr-defined]
    return proc, seen


def stop(proc: subprocess.Popen[str]) -> list[str]:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    rest: list[str] = []
    while not proc.lines.empty():  # type: ignore[attr-defined]
        rest.append(proc.lines.get())  # type: ignore[attr-defined]
    return rest


def test_serves_both_fakes_until_sigterm() -> None:
    proc, banner = start(
        "--seed",
        "5",
        "--vehicles",
        "12",
        "--now",
        "2025-03-13T12:00:00",
        "--etrac-option",
        "order=desc",
        "--etrac-date-format",
        "iso_space",
    )
    try:
        text = "".join(banner)
        etrac = re.search(r"e-Track sandbox: (http://127\.0\.0\.1:\d+)/monitoramento", text)
        auvo = re.search(r"Auvo sandbox: +(http://127\.0\.0\.1:\d+)/v2", text)
        assert etrac and auvo, text
        assert DEFAULT_EMAIL in text and DEFAULT_KEY in text and "sandbox-api-key" in text
        base = etrac.group(1)
        r = requests.post(
            f"{base}/monitoramento/ultimas-posicoes", auth=(DEFAULT_EMAIL, DEFAULT_KEY), timeout=30
        )
        items = r.json()["retorno"]
        assert len(items) == 12
        assert re.match(r"^2025-03-13 \d{2}:\d{2}:\d{2}$", items[0]["data_transmissao"])
        config = requests.get(f"{base}/_sandbox/etrac/config", timeout=10).json()
        assert (config["seed"], config["order"], config["date_format"]) == (5, "desc", "iso_space")
        assert requests.get(f"{auvo.group(1)}/_sandbox/log", timeout=10).status_code == 200
    finally:
        if proc.poll() is None:
            rest = stop(proc)
            assert any("sandbox stopped" in line for line in rest)


def test_errors_as_200_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETRAC_FAKE_ERRORS_AS_200", "1")
    proc, banner = start("--no-auvo")
    try:
        base = re.search(r"(http://127\.0\.0\.1:\d+)/monitoramento", "".join(banner))
        assert base and "Auvo sandbox" not in "".join(banner)
        r = requests.post(f"{base.group(1)}/monitoramento/ultimas-posicoes", timeout=10)
        assert r.status_code == 200 and r.json()["code_header"] == "401"
    finally:
        stop(proc)


def test_help_lists_ports_sizes_and_every_switch() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sandbox", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 0
    for flag in (
        "--auvo-port",
        "--etrac-port",
        "--host",
        "--seed",
        "--vehicles",
        "--now",
        "--etrac-errors-as-200",
        "--etrac-long-window",
        "--etrac-drive-fix-interval-s",
        "--etrac-option",
        "--auvo-option",
        "--auvo-seed",
    ):
        assert flag in out.stdout, flag


def test_bad_option_is_a_usage_error() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sandbox", "--etrac-order", "sideways"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 2 and "sideways" in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "sandbox", "--etrac-option", "nope=1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 2 and "nope" in out.stderr
