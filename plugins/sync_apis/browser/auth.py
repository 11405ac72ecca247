"""Who may see data: any authenticated Airflow user, checked by Airflow's own token code.

Plugin apps are public unless a route depends on Airflow's security helpers. JSON routes use
``requires_authenticated()`` (401 without a valid Bearer token or ``_token`` cookie). Pages use
``page_user``: the same check, but an anonymous browser is sent to Airflow's login
(``/api/v2/auth/login``, which knows the configured auth manager) with ``next`` = the page, so
it comes back after logging in.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlparse

from airflow.api_fastapi.core_api.security import bearer_scheme, get_user, requires_authenticated
from airflow.configuration import conf
from fastapi import Depends, HTTPException, Request, status
from fastapi.params import Depends as DependsParam
from fastapi.responses import RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials

_BEARER = Depends(bearer_scheme)


class LoginRequiredError(Exception):
    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def login_url(next_url: str) -> str:
    base_path = urlparse(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")
    return f"{base_path}/api/v2/auth/login?{urlencode({'next': next_url})}"


def login_redirect(_request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, LoginRequiredError)
    return RedirectResponse(login_url(exc.next_url), status_code=status.HTTP_307_TEMPORARY_REDIRECT)


async def page_user(request: Request, bearer: HTTPAuthorizationCredentials | None = _BEARER) -> Any:
    try:
        return await get_user(request, None, bearer)
    except HTTPException as exc:
        # No token, an expired one or one this server did not sign: log in (again).
        if exc.status_code in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN):
            raise LoginRequiredError(str(request.url)) from None
        raise


def api_user() -> DependsParam:
    return Depends(requires_authenticated())
