"""Secrets generated once per checkout and kept under .local, so restarts keep sessions and data.

- the Fernet key encrypts connection passwords in the metadata DB: losing it makes them unreadable;
- the JWT secret and the api secret key must be shared by the api-server, scheduler and workers;
- the admin password is what the newcomer types into the login page.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ADMIN_USER = "admin"


@dataclass(frozen=True)
class Secrets:
    fernet_key: str
    jwt_secret: str
    api_secret_key: str


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def load_or_create_secrets(path: Path) -> Secrets:
    data: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    generated = {
        # Same format as cryptography's Fernet.generate_key(): urlsafe base64 of 32 random bytes.
        "fernet_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "jwt_secret": secrets.token_urlsafe(32),
        "api_secret_key": secrets.token_urlsafe(32),
    }
    missing = {key: value for key, value in generated.items() if not data.get(key)}
    if missing:
        data.update(missing)
        write_private(path, json.dumps(data, indent=2) + "\n")
    return Secrets(data["fernet_key"], data["jwt_secret"], data["api_secret_key"])


def load_or_create_admin_password(passwords_file: Path) -> str:
    """SimpleAuthManager reads {"user": "password"} from this file and only generates missing users,
    so writing it ourselves gives a stable password we can print before the api-server starts."""
    data: dict[str, str] = json.loads(passwords_file.read_text() or "{}") if passwords_file.exists() else {}
    if not data.get(ADMIN_USER):
        data[ADMIN_USER] = secrets.token_urlsafe(12)
        write_private(passwords_file, json.dumps(data) + "\n")
    return data[ADMIN_USER]
