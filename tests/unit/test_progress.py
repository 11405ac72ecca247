"""Progress lines and summaries: throttled, complete, readable."""

from __future__ import annotations

import logging

from sync_apis.progress import Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_lines_are_throttled_and_the_last_unit_always_logged(caplog) -> None:
    clock = FakeClock()
    log = logging.getLogger("progress-test")
    progress = Progress(
        log,
        "etrac history 2025-03-10",
        total=4,
        unit="plates",
        every_s=10,
        stats=lambda: (2, 3.14),
        clock=clock,
    )
    with caplog.at_level(logging.INFO, logger="progress-test"):
        clock.now = 1
        progress.step(rows=100)  # too soon: silent
        clock.now = 12
        progress.step(rows=1100)  # 10 s passed: a line
        clock.now = 13
        progress.step(rows=0)  # silent
        clock.now = 14
        progress.step(rows=200)  # the last plate: always
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "etrac history 2025-03-10: 2/4 plates, 1,200 rows, 100 rows/s, retries 2, waited 3.1 s",
        "etrac history 2025-03-10: 4/4 plates, 1,400 rows, 100 rows/s, retries 2, waited 3.1 s",
    ]


def test_summary_is_one_line(caplog) -> None:
    clock = FakeClock()
    progress = Progress(logging.getLogger("progress-test"), "auvo tasks", unit="pages", clock=clock)
    progress.step(rows=100)
    clock.now = 2.5
    with caplog.at_level(logging.INFO, logger="progress-test"):
        text = progress.summary(inserted=90, updated=10, api_total=100)
    assert text == "auvo tasks done: 1 pages, 100 rows in 2.5 s, inserted 90, updated 10, api total 100"
    assert caplog.records[-1].getMessage() == text
