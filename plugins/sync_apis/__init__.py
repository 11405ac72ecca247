"""sync-apis: keep a PostgreSQL warehouse in sync with the Auvo and e-Track APIs.

Imports go one way: ``dags/`` -> ``sync_apis`` -> nothing of ours. Sub-packages per source
(``auvo``, ``etrac``) hold the hook, the stream table and pure parsers; the modules here hold
what both sources share.
"""

LOCAL_TZ_NAME = "America/Sao_Paulo"
