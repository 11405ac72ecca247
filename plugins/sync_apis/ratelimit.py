"""One request budget per API and credential, shared by every process and machine.

Auvo allows 400 requests/minute per account (auvo-api.md §6.1). A per-process ``TokenBucket``
holds that only while one process talks to Auvo; with Celery workers on two machines each one
paces itself and together they double the rate. ``SharedTokenBucket`` keeps the bucket in Redis
instead, so every hook of every worker draws from the same tokens.

Why Redis and not the warehouse PostgreSQL (advisory lock + table): a token is taken before
*every* request, hundreds of times a minute per worker. In Redis that is one round trip running
one Lua script, atomic by construction, nothing written to disk that matters, and the key expires
by itself. In PostgreSQL each token would be a transaction with a row lock on one hot row (and
WAL, vacuum and connection-pool pressure on the warehouse the loads need). Users who scale out
with Celery already run Redis as the broker, so it adds no new service.

The bucket's key is ``sync_apis:ratelimit:<api>:<sha256(host, login)[:16]>``: one budget per
account, and the key never contains the credential itself.

Configuration (``[sync_apis]`` in airflow.cfg or ``AIRFLOW__SYNC_APIS__*``):

- ``rate_limit_redis_url``: the Redis holding the buckets (e.g. the Celery broker's URL). Unset:
  no shared budget, each process keeps its own pacer (the behaviour before scaling out).
- ``auvo_budget_per_minute`` (default 400) and ``etrac_budget_per_minute`` (default 0 = off,
  e-Track documents no limit): the account's budget; the bucket hands out ``SAFETY`` of it.

A 403/429 rate-limit answer seen by any process is reported with ``penalize``: the bucket is
emptied and closed for the ``Retry-After`` (or the backoff the client chose), so every other
process waits too instead of spending its own attempts on the same limit.

Timestamps are the callers' wall clocks (``time.time``): machines in one deployment are
NTP-synchronised to well under the bucket's granularity (one token = 0.15 s at 400/min).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from sync_apis.http import Pacer, bucket_shape

log = logging.getLogger(__name__)

CONFIG_SECTION = "sync_apis"
REDIS_URL_OPTION = "rate_limit_redis_url"
DEFAULT_BUDGETS = {"auvo": 400, "etrac": 0}
SAFETY = 0.9  # the share of the account's budget handed out: room for clock skew and logins by hand
KEY_PREFIX = "sync_apis:ratelimit"

# Refill, then take one token or say how long until one is there. ARGV: rate (tokens/s),
# capacity, now (s). Returns the wait in seconds as a string (a Lua number would be truncated
# to an integer on its way back). A closed bucket (``blocked_until`` in the future) waits for it.
_ACQUIRE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'blocked_until')
local tokens = tonumber(state[1]) or capacity
local updated = tonumber(state[2]) or now
local blocked = tonumber(state[3]) or 0
if now < blocked then
  return tostring(blocked - now)
end
if now > updated then
  tokens = math.min(capacity, tokens + (now - updated) * rate)
  updated = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(updated))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""

# Empty the bucket and close it until ARGV[2] (s); never shortens an earlier, longer closure.
_PENALIZE = """
local now = tonumber(ARGV[1])
local until_ = tonumber(ARGV[2])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until')) or 0
if until_ > blocked then
  redis.call('HSET', KEYS[1], 'blocked_until', tostring(until_), 'tokens', '0', 'updated', tostring(until_))
end
redis.call('EXPIRE', KEYS[1], 3600)
return 1
"""


def credential_key(api: str, *parts: str) -> str:
    """The Redis key of one account's bucket: a hash of the identifying parts, never the parts."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"{KEY_PREFIX}:{api}:{digest}"


class SharedTokenBucket:
    """A ``Pacer`` whose tokens live in Redis: ``requests_per_minute`` across all its users.

    ``key`` may be a callable, resolved on the first ``acquire`` (the hook reads its Connection
    only when it sends its first request, never at DAG parse time).
    """

    def __init__(
        self,
        client: Any,
        key: str | Callable[[], str],
        requests_per_minute: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # The same shape as the per-process TokenBucket.
        self.rate, self.capacity = bucket_shape(requests_per_minute, burst)
        self._client = client
        self._key = key
        self._clock = clock
        self._sleep = sleep
        self._acquire = client.register_script(_ACQUIRE)
        self._penalize = client.register_script(_PENALIZE)

    @property
    def key(self) -> str:
        if callable(self._key):
            self._key = self._key()
        return self._key

    def acquire(self) -> float:
        waited = 0.0
        while True:
            wait = float(self._acquire(keys=[self.key], args=[self.rate, self.capacity, self._clock()]))
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait

    def penalize(self, seconds: float) -> None:
        """A rate-limit answer was seen: every user of the bucket waits ``seconds`` from now."""
        now = self._clock()
        self._penalize(keys=[self.key], args=[now, now + max(0.0, seconds)])


# --------------------------------------------------------------------------- configuration


def _option(name: str, fallback: str) -> str:
    from airflow.sdk import conf

    return str(conf.get(CONFIG_SECTION, name, fallback=fallback) or "")


def budget_per_minute(api: str) -> float:
    """``[sync_apis] <api>_budget_per_minute``: the account's budget; 0 = no shared budget."""
    value = float(_option(f"{api}_budget_per_minute", str(DEFAULT_BUDGETS.get(api, 0))))
    if value < 0:
        raise ValueError(f"[{CONFIG_SECTION}] {api}_budget_per_minute must be >= 0, got {value}")
    return value


_clients: dict[str, Any] = {}


def redis_client(url: str) -> Any:
    """One client (one connection pool) per URL and process."""
    if url not in _clients:
        import redis

        _clients[url] = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
    return _clients[url]


def connection_identity(conn_id: str) -> Callable[[], str]:
    """The bucket key of an Airflow connection's account (host + login, hashed), resolved lazily."""

    def resolve() -> str:
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(conn_id)
        return f"{connection.host or ''}\x00{connection.login or ''}"

    return resolve


def pacer_for(api: str, *, conn_id: str, fallback: Pacer | None) -> Pacer | None:
    """The pacer a hook of ``api`` on ``conn_id`` uses: the shared bucket when Redis and a budget
    are configured, else ``fallback`` (the per-process pacer, or None for unpaced)."""
    url = _option(REDIS_URL_OPTION, "")
    budget = budget_per_minute(api) if url else 0.0
    if not url or budget <= 0:
        return fallback
    identity = connection_identity(conn_id)
    return SharedTokenBucket(redis_client(url), lambda: credential_key(api, identity()), budget * SAFETY)
