"""Auvo list paging as a small strategy, fed one response at a time (no HTTP in here).

Auvo's list envelope (auvo-api.md §3.2) is ``{"result": {"entityList": [...],
"pagedSearchReturnData": {"pageSize", "page", "totalItems"}, "links": [...]}}``. The last page
is known by any of (§3.3): HTTP 404 (Auvo's "no results"), a short page, ``totalItems`` reached,
no ``nextPage`` link. A page identical to the previous one is a loop, not progress.

``complete`` is the promise that matters for deletions: the listing ended on a stop signal
*and* the number of records received equals what the API said it had. A 404 on page 1 is
never complete: the real API also answers 404 on a gateway hiccup (§3.3, G), and "everything
vanished" must not be concluded from one such answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sync_apis.http import ApiError, Expect, json_kind


class RepeatedPageError(Exception):
    """The server sent the same records as for the previous page."""

    def __init__(self, page: int) -> None:
        super().__init__(f"page {page} repeats page {page - 1}: paging loop, not progress")
        self.page = page


class BadEnvelopeError(ApiError):
    """A 200 whose body is not an Auvo list envelope (the hook checks first: see LIST_ENVELOPE)."""


def envelope_problem(payload: Any) -> str | None:
    """What keeps ``payload`` from being a list envelope (§3.2), or None when it is one.

    ``result`` as a bare array is documented for a few endpoints; ``entityList`` must be an
    array (``[]`` on an empty page): ``null`` or no ``result`` is not "no records", it is not
    the answer that was asked for.
    """
    if not isinstance(payload, dict):
        return f"a JSON {json_kind(payload)} instead of an object"
    if "result" not in payload:
        return f"an object without 'result' (keys: {sorted(map(str, payload))[:8]})"
    result = payload["result"]
    if isinstance(result, list):
        return None
    if not isinstance(result, dict):
        return f"'result' is {json_kind(result)}"
    if not isinstance(result.get("entityList"), list):
        return f"'result.entityList' is {json_kind(result.get('entityList'))}"
    return None


LIST_ENVELOPE = Expect(
    "an Auvo list envelope {'result': {'entityList': [...], 'pagedSearchReturnData': {...}}}",
    envelope_problem,
)


@dataclass
class ListPage:
    number: int
    items: list[Any]
    total_items: int | None
    has_next_link: bool
    reported_page_size: int | None


def read_envelope(payload: Any, number: int) -> ListPage:
    """Pull items, totalItems and the nextPage link out of a 200 list response."""
    problem = envelope_problem(payload)
    if problem is not None:
        raise BadEnvelopeError(f"page {number}: {problem}; expected {LIST_ENVELOPE.description}", status=200)
    result = payload["result"]
    if isinstance(result, list):
        # A few endpoints return ``result`` as a bare array with no paging data (§3.2).
        return ListPage(number, result, len(result), False, None)
    items = result["entityList"]
    paging = result.get("pagedSearchReturnData") or {}
    total = paging.get("totalItems") if isinstance(paging, dict) else None
    size = paging.get("pageSize") if isinstance(paging, dict) else None
    links = result.get("links") or []
    has_next = any(
        isinstance(link, dict) and str(link.get("rel", "")).lower() == "nextpage" for link in links
    )
    return ListPage(
        number,
        items,
        int(total) if isinstance(total, int | float | str) and str(total).isdigit() else None,
        has_next,
        int(size) if isinstance(size, int) and size > 0 else None,
    )


@dataclass
class Paginator:
    """State of one listing. Call ``params()`` for the next request, ``feed()`` with its answer."""

    page_size: int = 100
    page: int = 1
    received: int = 0
    pages: int = 0
    total_items: int | None = None
    done: bool = False
    complete: bool = False
    stop_reason: str = ""
    _previous: str | None = field(default=None, repr=False)

    def params(self) -> dict[str, int]:
        return {"page": self.page, "pageSize": self.page_size}

    @property
    def pages_expected(self) -> int | None:
        if self.total_items is None:
            return None
        return max(1, -(-self.total_items // self.page_size))

    def feed(self, status: int, payload: Any) -> list[Any]:
        """Consume the answer to ``params()``; returns the page's records.

        Raises ``RepeatedPageError`` (state unchanged, so the caller may ask again) when the page
        equals the previous one.
        """
        if self.done:
            raise RuntimeError("listing already finished")
        if status == 404:
            self.pages += 1
            if self.page == 1:
                self.total_items = 0 if self.total_items is None else self.total_items
                return self._stop("404 on page 1 (empty, unconfirmed)", complete=False)
            return self._stop("404 past the last page", complete=self._count_matches())
        if status != 200:
            raise ValueError(f"unexpected status {status} fed to the paginator")

        page = read_envelope(payload, self.page)
        signature = _signature(page.items)
        if page.items and signature == self._previous:
            raise RepeatedPageError(self.page)
        self._previous = signature
        self.pages += 1
        self.received += len(page.items)
        if page.total_items is not None:
            self.total_items = page.total_items
        effective_size = min(self.page_size, page.reported_page_size or self.page_size)

        if not page.items:
            return self._stop("empty page", complete=self._count_matches(), items=page.items)
        if self.total_items is not None and self.received >= self.total_items:
            return self._stop("totalItems reached", complete=self._count_matches(), items=page.items)
        if len(page.items) < effective_size:
            return self._stop("short page", complete=self._count_matches(), items=page.items)
        if not page.has_next_link:
            return self._stop("no nextPage link", complete=self._count_matches(), items=page.items)
        self.page += 1
        return page.items

    def _count_matches(self) -> bool:
        return self.total_items is None or self.received == self.total_items

    def _stop(self, reason: str, *, complete: bool, items: list[Any] | None = None) -> list[Any]:
        self.done = True
        self.complete = complete
        self.stop_reason = reason
        return items or []


def _signature(items: list[Any]) -> str:
    text = json.dumps(items, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
