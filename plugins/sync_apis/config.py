"""Connection ids, overridable at run time by Airflow Variables.

The ids are fixed by the warehouse contract (``auvo_api``, ``etrac_api``, ``sync_apis_db``); an
installation that already has connections under other names sets the Variables
``sync_apis_auvo_api_conn_id`` / ``sync_apis_etrac_api_conn_id`` / ``sync_apis_sync_apis_db_conn_id``.
Never call these at parse time: a Variable lookup there would hit the database every time the
DAG file is parsed. ``conn_id`` is for task code (the Task SDK), ``server_conn_id`` for code that
runs in the api-server (the data browser), where there is no task to ask.
"""

from __future__ import annotations

from typing import Literal

ConnName = Literal["auvo_api", "etrac_api", "sync_apis_db"]


def variable_name(name: ConnName) -> str:
    return f"sync_apis_{name}_conn_id"


# Operators' conn_id fields are templated: the Variable is read when the task runs, not at parse time.
WAREHOUSE_CONN_TEMPLATE = f"{{{{ var.value.get('{variable_name('sync_apis_db')}', 'sync_apis_db') }}}}"


def conn_id(name: ConnName) -> str:
    from airflow.sdk import Variable

    return str(Variable.get(variable_name(name), default=name))


def server_conn_id(name: ConnName) -> str:
    from airflow.models.variable import Variable

    return str(Variable.get(variable_name(name), default_var=name))
