"""`make run` / `make stop`: the local sync-apis stack (Airflow 3, embedded PostgreSQL, sandbox APIs).

Usage: .venv/bin/python scripts/devstack.py {run,stop,status}
       .venv/bin/python scripts/devstack.py {env,shell,airflow ARGS...,psql ARGS...}   (while `make run` runs)
"""

import sys

# Checked before importing anything that needs 3.11 so an old interpreter gets a sentence, not a traceback.
if sys.version_info < (3, 11):  # noqa: UP036 - the point is to catch older interpreters
    sys.exit(
        f"devstack: Python 3.11+ is required, this is {sys.version.split()[0]} ({sys.executable}). "
        "Run it through `make run`, which uses .venv."
    )

from devstack.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
