"""Login and bearer tokens (auvo-api.md §1).

Tokens look like the RS256 JWT of the doc's sample (§1.2: ``iss="Auvo_Api_Publica"``,
``aud="Usuario_Api"``, ``exp - iat`` = the TTL) but are opaque to the server: it only remembers
each token's expiry, measured on the sandbox clock, so a test expires one by advancing the clock.
The payload deliberately leaves out the apiKey/apiToken claims the real token carries: a sandbox
token should not teach anyone to leak credentials.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import uuid
from datetime import datetime, timedelta


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenStore:
    """Issued tokens and their expiry instants (naive local sandbox time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, datetime] = {}

    def issue(self, now: datetime, ttl: timedelta) -> tuple[str, datetime]:
        expires = now + ttl
        iat = int(now.timestamp())
        header = {"alg": "RS256", "typ": "JWT"}
        payload = {
            "unique_name": "sandbox",
            "jti": str(uuid.uuid4()),
            "nbf": iat,
            "iat": iat,
            "exp": iat + int(ttl.total_seconds()),
            "iss": "Auvo_Api_Publica",
            "aud": "Usuario_Api",
        }
        token = ".".join(
            (
                _b64(json.dumps(header).encode()),
                _b64(json.dumps(payload).encode()),
                _b64(secrets.token_bytes(64)),
            )
        )
        with self._lock:
            self._expiry[token] = expires
        return token, expires

    def issued(self) -> list[str]:
        """Every token handed out so far (tests look for them where secrets must never be)."""
        with self._lock:
            return list(self._expiry)

    def valid(self, token: str, now: datetime) -> bool:
        with self._lock:
            expires = self._expiry.get(token)
        return expires is not None and now < expires

    def revoke(self, token: str) -> None:
        """Make a token behave as expired from now on (``expire_token`` fault, admin route)."""
        with self._lock:
            self._expiry.pop(token, None)

    def revoke_all(self) -> int:
        with self._lock:
            count = len(self._expiry)
            self._expiry.clear()
        return count


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
