-- Data quality, auvo_daily: every table's key is present and unique.
-- (The primary keys already enforce it; this check proves it for tables adopted or edited by
-- hand, and is the template for the same check on sources without constraints.)
-- SQLCheckOperator fails the task if any column of this one row is false.
-- The columns are generated: one parts/auvo_key_ok.sql ("<table>_keys_ok") per stream of
-- sync_apis/auvo/streams.py (sync_apis.auvo.checks.keys_sql).
SELECT
{columns};
