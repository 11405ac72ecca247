"""One Auvo login per worker, not one per stream task.

Every Auvo stream task runs in its own process, and each used to log in: 16 logins for a
default day, 47 % of its requests (issue 11). A bearer token is valid for ~30 min (auvo-api.md
§1.3), far longer than a task, so the tasks of a run — and the runs of a backfill — on one machine
share it through a small file cache:

- one file per credential, named by a hash of (base URL, apiKey, apiToken): the name reveals
  nothing, and a changed Connection never picks up the old account's token;
- in a directory only the worker's user can read (0700, files 0600), encrypted with Airflow's
  Fernet key when one is configured (``[core] fernet_key``), so the token is never in XCom, the
  metadata database, the warehouse or a log;
- read and renewed under an exclusive ``flock``: stream tasks that start together wait for the
  first one's login instead of all logging in;
- a token the caller has just seen fail (a 401) or expire is never handed back: the caller logs
  in and the new token replaces it.

``[sync_apis] auvo_token_cache = false`` turns it off (every hook logs in itself, as before);
``[sync_apis] auvo_token_cache_dir`` moves it (default: ``<tmp>/sync-apis-<uid>``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENABLED_OPTION = "auvo_token_cache"
DIR_OPTION = "auvo_token_cache_dir"


@dataclass(frozen=True)
class CachedToken:
    token: str
    expires_at: float  # wall clock (time.time()): the cache outlives any one process

    def seconds_left(self, now: float) -> float:
        return self.expires_at - now


def credential_key(base_url: str, api_key: str, api_token: str) -> str:
    """A file name for one account at one URL that reveals neither secret."""
    digest = hashlib.sha256("\0".join((base_url.rstrip("/"), api_key, api_token)).encode())
    return digest.hexdigest()[:32]


class TokenCache:
    """Bearer tokens shared by the processes of one machine (see the module docstring)."""

    def __init__(
        self,
        directory: Path,
        *,
        encrypt: Callable[[bytes], bytes] = lambda b: b,
        decrypt: Callable[[bytes], bytes] = lambda b: b,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self._encrypt = encrypt
        self._decrypt = decrypt
        self._clock = clock

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[TokenSlot]:
        """Exclusive access to one credential's token for a read-then-maybe-login."""
        self._ensure_private_dir()
        lock_path = self.directory / f"{key}.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield TokenSlot(self, key)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def now(self) -> float:
        return self._clock()

    def read(self, key: str) -> CachedToken | None:
        try:
            blob = (self.directory / f"{key}.token").read_bytes()
            data = json.loads(self._decrypt(blob))
            return CachedToken(str(data["token"]), float(data["expires_at"]))
        except Exception:
            # Missing, damaged, or written under another Fernet key (cryptography's InvalidToken):
            # as good as absent, the caller logs in and overwrites it.
            return None

    def write(self, key: str, entry: CachedToken) -> None:
        self._ensure_private_dir()
        blob = self._encrypt(json.dumps({"token": entry.token, "expires_at": entry.expires_at}).encode())
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(tmp, self.directory / f"{key}.token")  # readers see the old or the new file
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _ensure_private_dir(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = self.directory.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise PermissionError(
                f"Auvo token cache {self.directory} must be a directory only this user can access "
                f"(owner uid {info.st_uid}, mode {oct(info.st_mode & 0o777)}); fix it or set "
                f"[sync_apis] {DIR_OPTION}"
            )


@dataclass
class TokenSlot:
    """One credential's entry while its lock is held."""

    cache: TokenCache
    key: str

    def usable(self, *, not_this: str | None, min_seconds_left: float) -> CachedToken | None:
        """The stored token, unless it is the one the caller just saw fail or it expires too soon."""
        entry = self.cache.read(self.key)
        if entry is None or entry.token == not_this:
            return None
        if entry.seconds_left(self.cache.now()) < min_seconds_left:
            return None
        return entry

    def store(self, token: str, lifetime_s: float) -> None:
        self.cache.write(self.key, CachedToken(token, self.cache.now() + lifetime_s))


def default_directory() -> Path:
    return Path(tempfile.gettempdir()) / f"sync-apis-{os.getuid()}"


def configured_cache() -> TokenCache | None:
    """The cache ``[sync_apis]`` asks for, or None when it is turned off."""
    from airflow.configuration import conf

    if not conf.getboolean("sync_apis", ENABLED_OPTION, fallback=True):
        return None
    directory = conf.get("sync_apis", DIR_OPTION, fallback="") or ""
    encrypt, decrypt = _fernet_pair()
    return TokenCache(Path(directory) if directory else default_directory(), encrypt=encrypt, decrypt=decrypt)


def _fernet_pair() -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]:
    """Airflow's Fernet when ``[core] fernet_key`` is set; identity otherwise (0600 file only)."""
    from airflow.configuration import conf

    key = conf.get("core", "fernet_key", fallback="") or ""
    if not key:
        return (lambda b: b), (lambda b: b)
    from cryptography.fernet import Fernet, MultiFernet

    fernet: Any = MultiFernet([Fernet(part.encode()) for part in key.split(",")])
    return fernet.encrypt, fernet.decrypt
