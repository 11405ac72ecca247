"""``sync_apis.loop.prefetched``: the next answer is fetched while the caller loads this one."""

from __future__ import annotations

import threading
import time

import pytest

from sync_apis.loop import prefetched


def test_answers_come_in_order_each_with_its_key() -> None:
    assert list(prefetched(["a", "b", "c"], str.upper)) == [("a", "A"), ("b", "B"), ("c", "C")]
    assert list(prefetched([], str.upper)) == []


def test_the_next_fetch_runs_while_the_caller_works_and_never_more_than_one_ahead() -> None:
    started: list[str] = []
    threads: set[int] = set()

    def fetch(key: str) -> str:
        threads.add(threading.get_ident())
        started.append(key)
        return key

    seen = []
    for key, _answer in prefetched(["a", "b", "c", "d"], fetch):
        time.sleep(0.05)  # the caller's parse and COPY; the next fetch finishes meanwhile
        seen.append((key, list(started)))
    # While "a" is loaded, "b" has been fetched already, and nothing beyond it.
    assert seen == [
        ("a", ["a", "b"]),
        ("b", ["a", "b", "c"]),
        ("c", ["a", "b", "c", "d"]),
        ("d", ["a", "b", "c", "d"]),
    ]
    # One thread, not the caller's: a hook's session is never used by two threads at once.
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_the_wait_overlaps_the_work() -> None:
    def fetch(key: int) -> int:
        time.sleep(0.1)  # the API composing its answer
        return key

    began = time.perf_counter()
    for _ in prefetched(list(range(5)), fetch):
        time.sleep(0.1)  # the loader's work on the previous answer
    elapsed = time.perf_counter() - began
    # Sequential would be 5 x (0.1 + 0.1) = 1.0 s; overlapped about 0.6 s.
    assert elapsed < 0.9, elapsed


def test_a_failed_fetch_raises_at_its_turn_after_the_answers_before_it() -> None:
    def fetch(key: str) -> str:
        if key == "c":
            raise ConnectionError("reset by peer")
        return key

    got = []
    with pytest.raises(ConnectionError, match="reset by peer"):
        for key, _ in prefetched(["a", "b", "c", "d"], fetch):
            got.append(key)
    assert got == ["a", "b"]


def test_a_caller_that_stops_early_leaves_no_fetch_running() -> None:
    calls: list[str] = []

    def fetch(key: str) -> str:
        time.sleep(0.05)
        calls.append(key)
        return key

    answers = prefetched(["a", "b", "c", "d"], fetch)
    assert next(answers) == ("a", "a")
    answers.close()  # what a failing loader does when its frame unwinds
    time.sleep(0.15)
    assert calls == ["a", "b"]  # the fetch under way finished; none was started after it
