-- Whether a legacy table was adopted already, asked under the schema lock so two runs applying
-- the schema at once cannot both copy it (the lock is held until the adoption commits).
SELECT pg_advisory_xact_lock(hashtext('sync_apis.schema'));
