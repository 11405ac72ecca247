"""Auvo-specific admin routes under ``/_sandbox/auvo/`` (the core keeps log, faults and clock).

So a person with curl can reproduce each quirk and change the world between two sync runs:

- ``GET  /_sandbox/auvo``                      this route list
- ``GET  /_sandbox/auvo/config``               the live config
- ``POST /_sandbox/auvo/config``               ``{"field": value, ...}``: set any AuvoConfig field
  (only while ``admin_config_writable``; unknown names -> 400)
- ``POST /_sandbox/auvo/tokens/expire``        every issued token behaves as expired
- ``POST|PATCH /_sandbox/auvo/{kind}/{id}``    ``{"field": value}``: ``world.update_entity``
- ``DELETE /_sandbox/auvo/{kind}/{id}``        ``world.remove_entity`` (tasks: ``delete_task``)
- ``POST /_sandbox/auvo/{kind}``               a record: ``world.add_entity``
- ``GET  /_sandbox/auvo/truth/tasks?day=YYYY-MM-DD``            ``world.tasks_for_day``
- ``GET  /_sandbox/auvo/truth/task/{id}``                      ``world.task``
- ``GET  /_sandbox/auvo/truth/deleted?since=..&until=..``      ``world.deleted_tasks``
- ``GET  /_sandbox/auvo/truth/updated?since=..&until=..``      ``world.tasks_updated_between``
- ``GET  /_sandbox/auvo/truth/expenses?day=YYYY-MM-DD``        ``world.expenses_for_day``
- ``GET  /_sandbox/auvo/truth/{kind}``                         ``world.customers`` / ``world.snapshot``

``kind`` is an API path name in any case (``tasks``, ``customers``, ``taskTypes``, ...).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sandbox.auvo.auth import TokenStore
from sandbox.auvo.config import AuvoConfig
from sandbox.auvo.world import AuvoWorld, canonical_kind
from sandbox.core import ADMIN_PREFIX, Request, Response

PREFIX = f"{ADMIN_PREFIX}/auvo"


class AuvoAdmin:
    def __init__(self, config: AuvoConfig, world: AuvoWorld, tokens: TokenStore) -> None:
        self.config = config
        self.world = world
        self.tokens = tokens

    def __call__(self, req: Request) -> Response:
        if not req.path_lower.startswith(PREFIX):
            return Response.json({"error": f"unknown admin route {req.path}"}, status=404)
        parts = [p for p in req.path[len(PREFIX) :].split("/") if p]
        try:
            return self._dispatch(req, parts)
        except KeyError as exc:
            return Response.json({"error": f"not found: {exc}"}, status=404)
        except (ValueError, TypeError) as exc:
            return Response.json({"error": str(exc)}, status=400)

    def _dispatch(self, req: Request, parts: list[str]) -> Response:
        method = req.method
        head = parts[0].lower() if parts else ""
        if not parts and method == "GET":
            return Response.json({"routes": (__doc__ or "").split("\n\n")[1]})
        if head == "config":
            return self._config(req)
        if head == "tokens" and parts[1:] == ["expire"] and method == "POST":
            return Response.json({"revoked": self.tokens.revoke_all()})
        if head == "truth" and method == "GET":
            return self._truth(req, parts[1:])
        kind = canonical_kind(parts[0])
        if len(parts) == 2 and method in ("POST", "PATCH"):
            return Response.json(self.world.update_entity(kind, parts[1], **_body(req)))
        if len(parts) == 2 and method == "DELETE":
            self.world.remove_entity(kind, parts[1])
            return Response.json({"removed": parts[1], "kind": kind})
        if len(parts) == 1 and method == "POST":
            return Response.json(self.world.add_entity(kind, _body(req)), status=201)
        return Response.json({"error": f"unknown admin route {method} {req.path}"}, status=404)

    def _config(self, req: Request) -> Response:
        if req.method == "GET":
            return Response.json(self.config.to_json())
        if req.method != "POST":
            return Response.json({"error": "use GET or POST"}, status=405)
        if not self.config.admin_config_writable:
            return Response.json(
                {"error": "config is read-only (admin_config_writable is false)"}, status=403
            )
        try:
            changed = self.config.update(_body(req))
        except KeyError as exc:
            return Response.json({"error": f"unknown config field {exc}"}, status=400)
        return Response.json({"changed": changed, "config": self.config.to_json()})

    def _truth(self, req: Request, parts: list[str]) -> Response:
        what = parts[0].lower() if parts else ""
        payload: Any
        if what == "tasks":
            payload = self.world.tasks_for_day(_day(req.arg("day")))
        elif what == "task" and len(parts) == 2:
            payload = self.world.task(int(parts[1]))
        elif what == "deleted":
            payload = self.world.deleted_tasks(_moment(req.arg("since")), _moment(req.arg("until")))
        elif what == "updated":
            payload = self.world.tasks_updated_between(_moment(req.arg("since")), _moment(req.arg("until")))
        elif what == "expenses":
            payload = self.world.expenses_for_day(_day(req.arg("day")))
        elif what == "customers":
            payload = self.world.customers()
        else:
            payload = self.world.snapshot(canonical_kind(parts[0]))
        return Response.json(payload)


def _body(req: Request) -> dict[str, Any]:
    body = req.json()
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _day(text: str | None) -> date:
    if not text:
        raise ValueError("day=YYYY-MM-DD is required")
    return date.fromisoformat(text)


def _moment(text: str | None) -> datetime:
    if not text:
        raise ValueError("since/until (ISO timestamps, local when offset-less) are required")
    return datetime.fromisoformat(text)
