#!/usr/bin/env bash
# One-time setup of the docker-compose stack, run by the airflow-init service after the image
# entrypoint has migrated the metadata database. Every step keeps what already exists, so each
# `docker compose up` runs it again without failing or changing anything.
#
# Reads from the environment (docker-compose.yaml takes them from .env):
#   AIRFLOW_ADMIN_USER, AIRFLOW_ADMIN_PASSWORD, AIRFLOW_ADMIN_EMAIL,
#   AIRFLOW_ADMIN_FIRSTNAME, AIRFLOW_ADMIN_LASTNAME
# tests/integration/test_fab_auth.py runs this very file against a real api-server.
set -euo pipefail

: "${AIRFLOW_ADMIN_USER:?}" "${AIRFLOW_ADMIN_PASSWORD:?}" "${AIRFLOW_ADMIN_EMAIL:?}"

# The placeholder of .env.example would be a published admin password.
if [[ "${AIRFLOW_ADMIN_PASSWORD}" == "change-me-admin" ]]; then
  echo "AIRFLOW_ADMIN_PASSWORD is still the example value from .env.example: set your own in .env" >&2
  exit 1
fi

# The UI admin (FAB auth manager). `airflow users create` leaves an existing user untouched and
# exits 0, so the .env password only counts for the first start; change it later in the UI
# (Security > Users) or with `airflow users reset-password`. The password goes on the command line
# as with the image's own _AIRFLOW_WWW_USER_CREATE: it is never echoed, and Airflow masks
# --password in its audit log. Unlike the entrypoint (`|| true`), a failure here stops the stack.
airflow users create \
  --role Admin \
  --username "${AIRFLOW_ADMIN_USER}" \
  --password "${AIRFLOW_ADMIN_PASSWORD}" \
  --email "${AIRFLOW_ADMIN_EMAIL}" \
  --firstname "${AIRFLOW_ADMIN_FIRSTNAME:-Airflow}" \
  --lastname "${AIRFLOW_ADMIN_LASTNAME:-Admin}"

# The pool that throttles e-Track API tasks (AIRFLOW__SYNC_APIS__ETRAC_POOL), 4 slots: as many as
# [sync_apis] etrac_api_parallelism. Raise both together when you add workers (README).
airflow pools get etrac_api >/dev/null 2>&1 || airflow pools set etrac_api 4 "e-Track API calls of sync-apis"
