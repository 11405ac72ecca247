"""Auvo API v2 hook: login, bearer token, paging, Auvo's failure quirks.

Knows nothing about tables. Built on providers-http's ``HttpHook`` for the Connection
(``auvo_api``: host ``https://api.auvo.com.br/v2``, login = apiKey, password = apiToken) and on
``sync_apis.http.HttpClient`` for timeouts, retries, backoff and pacing.

- Login is ``POST login/`` with a JSON body, so credentials never appear in a URL (§1.1).
- The token is cached, refreshed shortly before its ``expiration`` and once more on a 401
  (§1.3); every token is registered with Airflow's secret masker. The tasks on one worker share
  it through ``sync_apis.auvo.token_cache`` (one login per worker, not one per stream task).
- ``403 {"error": "Rate limit temporarily exceeded"}`` and 429 are waits, not failures (§6.1);
  the client also paces itself under the per-minute budget so it rarely sees them.
- 404 on a list is "no (more) results" (§3.3), handed to the paginator.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import requests

from sync_apis.api_hook import ApiHook
from sync_apis.auvo.paging import LIST_ENVELOPE, Paginator, RepeatedPageError
from sync_apis.auvo.token_cache import TokenCache, configured_cache, credential_key
from sync_apis.http import (
    ANY_JSON,
    ApiError,
    Expect,
    HttpClient,
    HttpPolicy,
    Pacer,
    Reply,
    RequestStats,
    Verdict,
    mask_secret,
)

log = logging.getLogger(__name__)

DEFAULT_TOKEN_LIFETIME_S = 1800.0  # documented 30 min (§1.3)
MAX_REFRESH_MARGIN_S = 180.0  # refresh ~3 min before expiry (§1.3 says 2-5 min)
REPEATED_PAGE_RETRIES = 2
# A shared token with less left than this is not worth adopting: log in instead.
MIN_SHARED_TOKEN_S = 60.0
# Client timeouts of 60-120 s (§6.3 item 2); retries from 5 s, doubling, ride out a 5xx burst
# without spending the 400/min budget. The DAG's retry Params override them per run.
DEFAULT_POLICY = HttpPolicy(read_timeout=120.0, backoff_base=5.0)


def classify(response: requests.Response, payload: Any) -> Verdict:
    """Auvo's statuses -> what to do. 404 is passed back: on a list it means "no results"."""
    status = response.status_code
    if status < 400 or status == 404:
        return "ok"
    if status == 429 or status >= 500:
        return "retry"
    if status == 403:
        # Only the rate-limit 403 is transient; a bare 403 is a permission problem (§6.1).
        text = json.dumps(payload) if payload is not None else (response.text or "")
        return "retry" if "rate limit" in text.lower() else "fail"
    if status == 401:
        return "reauth"
    return "fail"


def classify_login(response: requests.Response, payload: Any) -> Verdict:
    """Login answers: 400 bad parameters, 401/404 unknown credentials: fail, never re-login."""
    verdict = classify(response, payload)
    if verdict == "reauth" or response.status_code == 404:
        return "fail"
    return verdict


def _login_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("result"), dict):
        return "no 'result' object"
    return None


# A login answer without a result object is a proxy's or gateway's page, retried; a result that
# says "not authenticated" is Auvo's own answer and fails at once (below).
LOGIN_ANSWER = Expect("{'result': {'accessToken': ..., 'expiration': ...}}", _login_problem)


@dataclass
class Listing:
    """One paged listing; iterate ``pages()``, then read ``complete`` and the counters."""

    hook: AuvoHook
    path: str
    param_filter: dict[str, Any]
    paginator: Paginator

    def pages(self) -> Iterator[list[Any]]:
        pg = self.paginator
        while not pg.done:
            repeats = 0
            while True:
                reply = self.hook.get(self.path, self._params(), expect=LIST_ENVELOPE)
                try:
                    items = pg.feed(reply.status, reply.payload)
                    break
                except RepeatedPageError:
                    # A proxy or the API served the previous page again: ask once more, then
                    # give up rather than loop or count the same records twice.
                    repeats += 1
                    if repeats > REPEATED_PAGE_RETRIES:
                        raise ApiError(
                            f"connection {self.hook.auvo_conn_id!r}: GET {self.path}: page {pg.page} "
                            f"keeps repeating page {pg.page - 1}",
                            endpoint=self.path,
                            status=reply.status,
                            connection=self.hook.auvo_conn_id,
                        ) from None
                    log.warning("GET %s: page %d repeats the previous page; asking again", self.path, pg.page)
            yield items

    def _params(self) -> dict[str, Any]:
        # Always send paramFilter, at least {} (§3.1, §6.3 item 3).
        return {
            "paramFilter": json.dumps(self.param_filter, separators=(",", ":")),
            **self.paginator.params(),
        }

    @property
    def complete(self) -> bool:
        return self.paginator.done and self.paginator.complete

    @property
    def total_items(self) -> int | None:
        return self.paginator.total_items


class AuvoHook(ApiHook):
    """Talks to Auvo API v2 through the ``auvo_api`` Connection."""

    conn_name_attr = "auvo_conn_id"
    default_conn_name = "auvo_api"
    conn_type = "http"
    hook_name = "Auvo API v2"

    def __init__(
        self,
        auvo_conn_id: str = default_conn_name,
        *,
        policy: HttpPolicy | None = None,
        pacer: Pacer | None = None,
        logger: logging.Logger | Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        worker_cache: TokenCache | Literal["configured"] | None = "configured",
    ) -> None:
        super().__init__(
            auvo_conn_id,
            method="GET",
            policy=policy or DEFAULT_POLICY,
            pacer=pacer,
            logger=logger or log,
            sleep=sleep,
        )
        self.auvo_conn_id = auvo_conn_id
        self._clock = clock
        self._login_client: HttpClient | None = None
        self._credentials: tuple[str, str] | None = None
        self._token: str | None = None
        self._refresh_at = 0.0
        self._worker_cache = worker_cache
        self.logins = 0

    # -- session --------------------------------------------------------------------------

    def _open(self, session: requests.Session) -> HttpClient:
        """Two clients over the one session: the API's (bearer token, renewed on a 401) and the
        login's (its own reading of answers)."""
        # HttpHook puts login/password on the session as Basic auth; Auvo authenticates by
        # bearer token only, so the apiKey/apiToken must not ride along on every request.
        session.auth = None
        conn = self.get_connection(self.auvo_conn_id)
        api_key, api_token = conn.login or "", conn.password or ""
        if not api_key or not api_token:
            raise ApiError(f"Connection {self.auvo_conn_id!r} needs login (apiKey) and password (apiToken)")
        mask_secret(api_key)
        mask_secret(api_token)
        self._credentials = (api_key, api_token)
        options = self._client_options()
        self._login_client = HttpClient(
            session, self.base_url, self.policy, classify=classify_login, **options
        )
        return HttpClient(
            session, self.base_url, self.policy, classify=classify, reauth=self.login, **options
        )

    @property
    def stats(self) -> RequestStats:
        """What this hook's requests cost so far, logins included (a snapshot)."""
        client = self.client
        assert self._login_client is not None
        return client.stats + self._login_client.stats

    def _closed(self) -> None:
        # Both clients shared the closed session; the token goes with them.
        self._login_client = None
        self._token = None

    # -- auth -----------------------------------------------------------------------------

    def login(self) -> None:
        """A bearer token: this worker's shared one when it is still good, else a new login."""
        _ = self.client
        assert self._credentials is not None
        if self._worker_cache == "configured":
            self._worker_cache = configured_cache()  # read at task time, never at parse time
        cache = self._worker_cache
        if cache is None:
            self._use_token(*self._log_in())
            return
        with cache.locked(credential_key(self.base_url, *self._credentials)) as slot:
            # The token this hook holds is being replaced because it expired or got a 401:
            # another task may already have renewed it, but never hand the same one back.
            shared = slot.usable(not_this=self._token, min_seconds_left=MIN_SHARED_TOKEN_S)
            if shared is not None:
                left = shared.seconds_left(cache.now())
                self._use_token(shared.token, left, margin=0.0)
                self._logger.info("Auvo token shared by this worker's earlier login; valid for %.0f s", left)
                return
            token, lifetime = self._log_in()
            margin = self._use_token(token, lifetime)
            slot.store(token, lifetime - margin)

    def _log_in(self) -> tuple[str, float]:
        """POST the credentials in the body; the token and its lifetime in seconds."""
        assert self._login_client is not None and self._credentials is not None
        api_key, api_token = self._credentials
        self._login_client.session.headers.pop("Authorization", None)
        reply = self._login_client.send(
            "POST", "login/", json={"apiKey": api_key, "apiToken": api_token}, expect=LOGIN_ANSWER
        )
        result = reply.payload["result"]
        if not result.get("accessToken") or result.get("authenticated") is False:
            message = result.get("message")
            raise ApiError(
                f"connection {self.auvo_conn_id!r}: POST /login answered {reply.status} without a token"
                + (f": {message}" if message else ""),
                status=reply.status,
                endpoint="/login",
                api_message=str(message or ""),
                connection=self.auvo_conn_id,
            )
        token = str(result["accessToken"])
        mask_secret(token)
        lifetime = token_lifetime_s(result.get("created"), result.get("expiration"))
        self.logins += 1
        self._logger.info("Auvo login OK; token valid for %.0f s", lifetime)
        return token, lifetime

    def _use_token(self, token: str, lifetime: float, margin: float | None = None) -> float:
        """Send ``token`` from now on; renew it ``margin`` s before it expires. Returns the margin."""
        assert self._login_client is not None
        mask_secret(token)
        if margin is None:
            margin = min(MAX_REFRESH_MARGIN_S, lifetime * 0.1)
        self._token = token
        # Measured on our own monotonic clock: the server's clock and ours need not agree.
        self._refresh_at = self._clock() + lifetime - margin
        self._login_client.session.headers["Authorization"] = f"Bearer {token}"
        return margin

    def _ensure_token(self) -> None:
        if self._token is None or self._clock() >= self._refresh_at:
            self.login()

    # -- requests -------------------------------------------------------------------------

    def get(self, endpoint: str, params: dict[str, Any] | None = None, *, expect: Expect = ANY_JSON) -> Reply:
        client = self.client
        self._ensure_token()
        return client.send("GET", endpoint, params=params, expect=expect)

    def listing(self, path: str, param_filter: dict[str, Any] | None = None, page_size: int = 100) -> Listing:
        return Listing(self, path, dict(param_filter or {}), Paginator(page_size=page_size))


def token_lifetime_s(created: Any, expiration: Any) -> float:
    """``expiration - created`` from the login answer (both local, space-separated)."""
    try:
        start = datetime.fromisoformat(str(created))
        end = datetime.fromisoformat(str(expiration))
    except (TypeError, ValueError):
        return DEFAULT_TOKEN_LIFETIME_S
    seconds = (end - start).total_seconds()
    return seconds if seconds > 0 else DEFAULT_TOKEN_LIFETIME_S
