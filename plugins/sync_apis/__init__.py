"""sync-apis: keep a PostgreSQL warehouse in sync with the Auvo and e-Track APIs.

Imports go one way: ``dags/`` -> ``sync_apis`` -> nothing of ours. Sub-packages per source
(``auvo``, ``etrac``) hold the hook, the stream table and pure parsers; the modules here hold
what both sources share.
"""

from zoneinfo import ZoneInfo

LOCAL_TZ_NAME = "America/Sao_Paulo"

LOCAL_TZ = ZoneInfo(LOCAL_TZ_NAME)
"""The zone itself, the one ``tzinfo`` every module uses (offset-less API times are local here).

A plain ``zoneinfo.ZoneInfo`` (``ZoneInfo`` caches one object per key): values parsed with it
compare and fold exactly like ``datetime(..., tzinfo=ZoneInfo("America/Sao_Paulo"))``.
"""
