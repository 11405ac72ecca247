"""The surface both API hooks share: one ``HttpClient`` over one session, what it cost, ``close``.

``AuvoHook`` and ``EtracHook`` are Airflow ``HttpHook``s: the connection (host, login, password)
comes from Airflow, and the session from ``HttpHook.get_conn``. Each source says only how its
client is built from that session (``_open``: its credentials, its ``classify``); the session is
opened on first use, never at DAG parse time, and reused for every request of the hook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import requests
from airflow.providers.http.hooks.http import HttpHook

from sync_apis.http import HttpClient, HttpPolicy, Pacer, RequestStats


class ApiHook(HttpHook):
    """An API's hook: ``client`` (built on first use), ``stats``, ``close``."""

    def __init__(
        self,
        conn_id: str,
        *,
        method: str,
        policy: HttpPolicy,
        pacer: Pacer | None = None,
        logger: logging.Logger | Any | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(method=method, http_conn_id=conn_id)
        self.policy = policy
        self.pacer = pacer
        self._logger: Any = logger  # None: the hook's own Airflow logger (self.log)
        self._sleep = sleep
        self._client: HttpClient | None = None

    @property
    def client(self) -> HttpClient:
        """The HttpClient over the hook's one session, built on first use."""
        if self._client is None:
            self._client = self._open(self.get_conn())  # get_conn also sets self.base_url
        return self._client

    @property
    def stats(self) -> RequestStats:
        """What this hook's requests cost so far (a snapshot: requests, retries, waits)."""
        return self.client.stats.copy()

    def close(self) -> None:
        """Close the HTTP session; the next request opens a new one."""
        if self._client is not None:
            self._client.session.close()
            self._client = None
            self._closed()

    def _open(self, session: requests.Session) -> HttpClient:
        """The source's client over ``session``: its credentials and its reading of answers."""
        raise NotImplementedError

    def _closed(self) -> None:
        """Forget what belonged to the closed session (a source's login state)."""

    def _client_options(self) -> dict[str, Any]:
        """The HttpClient arguments every client of the hook takes from it."""
        options: dict[str, Any] = {
            "logger": self._logger or self.log,
            "pacer": self.pacer,
            "connection": self.http_conn_id,
        }
        if self._sleep is not None:
            options["sleep"] = self._sleep
        return options
