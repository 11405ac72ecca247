-- The schema lock, taken before asking whether a legacy table was adopted (legacy_adopted.sql),
-- so two runs applying the schema at once cannot both copy it (held until the adoption commits).
SELECT pg_advisory_xact_lock(hashtext('sync_apis.schema'))
