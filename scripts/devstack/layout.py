"""Where the local stack keeps its state: everything lives under one directory (`.local/` by default)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Layout:
    repo: Path
    local: Path

    @classmethod
    def from_env(cls, repo: Path = REPO_ROOT, env: dict[str, str] | None = None) -> Layout:
        env = dict(os.environ) if env is None else env
        # Configurable so tests (and people with two checkouts) can keep separate state.
        local = Path(env.get("SYNC_APIS_LOCAL_DIR") or repo / ".local").expanduser().resolve()
        return cls(repo=repo, local=local)

    @property
    def airflow_home(self) -> Path:
        return self.local / "airflow"

    @property
    def pgdata(self) -> Path:
        return self.local / "pg"

    @property
    def logs(self) -> Path:
        return self.local / "logs"

    @property
    def pids(self) -> Path:
        return self.local / "pids"

    @property
    def secrets_file(self) -> Path:
        return self.local / "secrets.json"

    @property
    def passwords_file(self) -> Path:
        return self.local / "simple_auth_manager_passwords.json"

    @property
    def stack_file(self) -> Path:
        """What the running stack looks like (UI address), for `status` and 'already running'."""
        return self.local / "stack.json"

    @property
    def bootstrap_dir(self) -> Path:
        """One marker per DAG whose first-run bootstrap (unpause + backfill) is done."""
        return self.local / "bootstrapped"

    @property
    def dags(self) -> Path:
        return self.repo / "dags"

    @property
    def plugins(self) -> Path:
        return self.repo / "plugins"

    @property
    def python(self) -> Path:
        # The interpreter running us is the project's venv one (make run guarantees it).
        return Path(sys.executable)

    @property
    def airflow(self) -> Path:
        return Path(sys.executable).parent / "airflow"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def pid(self, name: str) -> Path:
        return self.pids / f"{name}.pid"

    def make_dirs(self) -> None:
        for path in (self.local, self.airflow_home, self.logs, self.pids, self.bootstrap_dir):
            path.mkdir(parents=True, exist_ok=True)

    def show(self, path: Path) -> str:
        """A path as the user should read it: relative to the repo when inside it."""
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
