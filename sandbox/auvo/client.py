"""A deliberately naive client of the fake, for sandbox tests and ground-truth checks.

It is not the project's Auvo hook (that lives in ``plugins/sync_apis/auvo``): no retries, no
backoff; it pages until the API says stop (§3.3) so a test can compare "everything the API
lists" with the world's ground truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import requests

from sandbox.auvo.config import AuvoConfig
from sandbox.core import SandboxServer


class SandboxClient:
    def __init__(self, server: SandboxServer, config: AuvoConfig | None = None) -> None:
        self.root = server.base_url + "/v2"
        self.config: AuvoConfig = config or getattr(server, "config", None) or AuvoConfig()
        self.session = requests.Session()
        self.token: str | None = None

    def login(self) -> str:
        reply = self.session.post(
            self.root + "/login",
            json={"apiKey": self.config.api_key, "apiToken": self.config.api_token},
            timeout=10,
        )
        reply.raise_for_status()
        self.token = str(reply.json()["result"]["accessToken"])
        return self.token

    def get(
        self, path: str, *, param_filter: dict[str, Any] | None = None, **params: Any
    ) -> requests.Response:
        if self.token is None:
            self.login()
        query = dict(params)
        if param_filter is not None:
            query["paramFilter"] = json.dumps(param_filter)
        return self.session.get(
            self.root + path, params=query, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def pages(
        self, path: str, *, param_filter: dict[str, Any] | None = None, page_size: int = 100, **params: Any
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page's entityList until a 404 or a page without a nextPage link."""
        page = 1
        while True:
            reply = self.get(path, param_filter=param_filter, page=page, pageSize=page_size, **params)
            if reply.status_code == 404:
                return
            reply.raise_for_status()
            result = reply.json()["result"]
            yield result["entityList"]
            if not any(link["rel"] == "nextPage" for link in result["links"]):
                return
            page += 1

    def all(
        self, path: str, *, param_filter: dict[str, Any] | None = None, page_size: int = 100, **params: Any
    ) -> list[dict[str, Any]]:
        return [
            r
            for page in self.pages(path, param_filter=param_filter, page_size=page_size, **params)
            for r in page
        ]
