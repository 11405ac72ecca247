"""Connection ids, overridable at run time by Airflow Variables.

The ids are fixed by the warehouse contract (``auvo_api``, ``etrac_api``, ``sync_apis_db``); an
installation that already has connections under other names sets the Variables
``sync_apis_auvo_api_conn_id`` / ``sync_apis_etrac_api_conn_id`` / ``sync_apis_sync_apis_db_conn_id``.
Only call these inside tasks: a Variable lookup at parse time would hit the database every
time the DAG file is parsed.
"""

from __future__ import annotations

from typing import Literal

ConnName = Literal["auvo_api", "etrac_api", "sync_apis_db"]


# Operators' conn_id fields are templated: the Variable is read when the task runs, not at parse time.
WAREHOUSE_CONN_TEMPLATE = "{{ var.value.get('sync_apis_sync_apis_db_conn_id', 'sync_apis_db') }}"


def variable_name(name: ConnName) -> str:
    return f"sync_apis_{name}_conn_id"


def conn_id(name: ConnName) -> str:
    from airflow.sdk import Variable

    return str(Variable.get(variable_name(name), default=name))
