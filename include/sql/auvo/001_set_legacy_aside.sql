-- auvo, step 1: move tables left by the old auvo_sync.py (ph2708/sync_apis) out of the way.
--
-- The old script created auvo.users/customers/tasks with a `bigserial id` primary key, the
-- business ids (user_id, customer_id, task_id) as plain, possibly duplicated columns, the record
-- in `data jsonb` and a naive `fetched_at timestamp` (docs/legacy-system.md). Ours have the same
-- names, so an old table is recognised by its shape and moved, unchanged and with all its rows,
-- indexes and sequences, into the schema auvo_legacy. The rows are then copied into the new
-- tables by the DAG's schema task (plugins/sync_apis/auvo/legacy.py: latest record per business
-- id, parsed by the same code as API records), which records each copy in
-- auvo_legacy.adoptions. The originals are kept; nothing is dropped.
--
-- Idempotent: a table that already has our shape is left alone. The advisory lock serialises
-- concurrent runs (a backfill starting three runs at once) applying the schema files.
SELECT pg_advisory_xact_lock(hashtext('sync_apis.schema'));

CREATE SCHEMA IF NOT EXISTS auvo;
CREATE SCHEMA IF NOT EXISTS auvo_legacy;
COMMENT ON SCHEMA auvo_legacy IS
    'Tables of the old Auvo sync script, set aside unchanged by sync_apis; rows copied into auvo';

-- Which legacy tables have been copied across, so each is copied once.
CREATE TABLE IF NOT EXISTS auvo_legacy.adoptions (
    legacy_table    text        PRIMARY KEY,
    target_table    text        NOT NULL,
    rows_in_legacy  bigint      NOT NULL,
    keys_copied     bigint      NOT NULL,
    rows_rejected   bigint      NOT NULL,
    adopted_at      timestamptz NOT NULL DEFAULT now()
);

DO $$
DECLARE
    t text;
    is_ours boolean;
    is_legacy boolean;
    aside text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'customers', 'tasks'] LOOP
        CONTINUE WHEN to_regclass(format('auvo.%I', t)) IS NULL;

        -- Ours: a `raw` column and no surrogate `id`.
        SELECT EXISTS (SELECT 1 FROM information_schema.columns
                        WHERE table_schema = 'auvo' AND table_name = t AND column_name = 'raw')
           AND NOT EXISTS (SELECT 1 FROM information_schema.columns
                            WHERE table_schema = 'auvo' AND table_name = t AND column_name = 'id')
          INTO is_ours;
        CONTINUE WHEN is_ours;

        -- The old script's shape: a surrogate `id` next to `data jsonb` or `fetched_at`.
        SELECT EXISTS (SELECT 1 FROM information_schema.columns
                        WHERE table_schema = 'auvo' AND table_name = t AND column_name = 'id')
           AND EXISTS (SELECT 1 FROM information_schema.columns
                        WHERE table_schema = 'auvo' AND table_name = t
                          AND column_name IN ('data', 'fetched_at'))
          INTO is_legacy;
        IF NOT is_legacy THEN
            RAISE EXCEPTION 'auvo.% has neither the sync_apis shape nor the old script''s; '
                            'refusing to touch it (rename it and re-run)', t;
        END IF;

        aside := t;
        IF to_regclass(format('auvo_legacy.%I', aside)) IS NOT NULL THEN
            -- A second old table of the same name (restored from a dump?): keep both.
            aside := t || '_' || to_char(clock_timestamp(), 'YYYYMMDDHH24MISS');
            EXECUTE format('ALTER TABLE auvo.%I RENAME TO %I', t, aside);
        END IF;
        EXECUTE format('ALTER TABLE auvo.%I SET SCHEMA auvo_legacy', aside);
        RAISE NOTICE 'moved the old script''s auvo.% to auvo_legacy.%', t, aside;
    END LOOP;
END
$$;
