"""The shared token bucket's algorithm, in the real Redis script, with an injected clock.

A fake clock that only moves when the bucket sleeps makes every wait exact: the tests read the
algorithm's decisions (who waits how long), not the machine's speed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from sync_apis.ratelimit import SharedTokenBucket, credential_key

REDIS_URL = os.environ.get("SYNC_APIS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(REDIS_URL)
    yield conn
    conn.close()


@pytest.fixture
def key(client: redis.Redis) -> Iterator[str]:
    name = f"sync_apis:ratelimit:test:{uuid.uuid4().hex}"
    yield name
    client.delete(name)


def bucket(
    client: redis.Redis, key: str, clock: FakeClock, rpm: float = 60, burst: int = 3
) -> SharedTokenBucket:
    return SharedTokenBucket(client, key, rpm, burst=burst, clock=clock, sleep=clock.sleep)


def test_burst_then_one_token_per_interval(client: redis.Redis, key: str) -> None:
    clock = FakeClock()
    pacer = bucket(client, key, clock, rpm=60, burst=3)
    waits = [pacer.acquire() for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]  # the burst
    assert waits[3:] == pytest.approx([1.0, 1.0, 1.0])  # then 60/min = one a second


def test_two_pacers_on_one_key_share_the_tokens(client: redis.Redis, key: str) -> None:
    clock = FakeClock()
    first, second = bucket(client, key, clock), bucket(client, key, clock)
    assert [first.acquire(), second.acquire(), first.acquire()] == [0.0, 0.0, 0.0]
    assert second.acquire() == pytest.approx(1.0)  # the 4th token of a 3-burst, whoever asks
    # Over 60 simulated seconds two users together take at most burst + 60 tokens.
    start = clock.now
    taken = 0
    while clock.now - start < 60:
        (first if taken % 2 else second).acquire()
        taken += 1
    assert taken <= 3 + 60


def test_idle_time_refills_only_up_to_the_burst(client: redis.Redis, key: str) -> None:
    clock = FakeClock()
    pacer = bucket(client, key, clock, rpm=60, burst=3)
    for _ in range(3):
        pacer.acquire()
    clock.now += 3600  # an hour idle: still only 3 tokens, not 3,600
    assert [pacer.acquire() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 1.0])


def test_penalty_seen_by_one_closes_the_bucket_for_all(client: redis.Redis, key: str) -> None:
    clock = FakeClock()
    hit, other = bucket(client, key, clock), bucket(client, key, clock)
    hit.acquire()
    hit.penalize(30.0)
    assert other.acquire() == pytest.approx(30.0 + 1.0)  # closed 30 s, then empty: one interval
    # A shorter penalty never shortens a longer one already in force.
    hit.penalize(20.0)
    other.penalize(5.0)
    assert hit.acquire() == pytest.approx(20.0 + 1.0)


def test_different_credentials_have_their_own_buckets(client: redis.Redis) -> None:
    clock = FakeClock()
    a = credential_key("auvo", "https://api.auvo.com.br", f"key-a-{uuid.uuid4().hex}")
    b = credential_key("auvo", "https://api.auvo.com.br", f"key-b-{uuid.uuid4().hex}")
    try:
        first, second = bucket(client, a, clock, burst=1), bucket(client, b, clock, burst=1)
        assert [first.acquire(), second.acquire()] == [0.0, 0.0]
        assert first.acquire() == pytest.approx(1.0)
    finally:
        client.delete(a, b)


def test_the_key_holds_a_hash_never_the_credential() -> None:
    key = credential_key("auvo", "https://api.auvo.com.br", "secret-api-key-123")
    assert key.startswith("sync_apis:ratelimit:auvo:")
    assert "secret" not in key and "123" not in key
    assert key == credential_key("auvo", "https://api.auvo.com.br", "secret-api-key-123")
    assert key != credential_key("etrac", "https://api.auvo.com.br", "secret-api-key-123")


def test_the_key_is_resolved_lazily_once(client: redis.Redis, key: str) -> None:
    calls: list[int] = []

    def resolve() -> str:
        calls.append(1)
        return key

    clock = FakeClock()
    pacer = SharedTokenBucket(client, resolve, 60, burst=3, clock=clock, sleep=clock.sleep)
    assert calls == []  # building the pacer reads no connection (DAG parse time)
    pacer.acquire()
    pacer.acquire()
    assert calls == [1]
    assert client.exists(key)
