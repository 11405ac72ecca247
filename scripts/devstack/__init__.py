"""The local development stack behind `make run` (see scripts/devstack.py)."""
