-- e_track, step 1: move tables left by the old collector (ph2708/sync_apis) out of the way.
--
-- The old collector created e_track.terminals/positions/trips/routes with naive `timestamp`
-- columns, bigserial `id`s and no unique key on trips (docs/legacy-system.md). Ours have the
-- same names, so an old table is recognised by its shape and moved, unchanged and with all its
-- rows, indexes and sequences, into the schema e_track_legacy. 003 copies its rows into the
-- new tables; the originals are kept there (nothing is dropped).
--
-- Idempotent: a table that already has our shape is left alone. The advisory lock serialises
-- concurrent runs (a backfill starting three runs at once) applying the schema files.
SELECT pg_advisory_xact_lock(hashtext('sync_apis.schema'));

CREATE SCHEMA IF NOT EXISTS e_track;
CREATE SCHEMA IF NOT EXISTS e_track_legacy;
COMMENT ON SCHEMA e_track_legacy IS
    'Tables of the old e-Track collector, set aside unchanged by sync_apis; rows copied into e_track';

-- Which tables have already been copied across (003), so a big legacy table is copied once.
CREATE TABLE IF NOT EXISTS e_track_legacy.adoptions (
    legacy_table  text        PRIMARY KEY,
    target_table  text        NOT NULL,
    rows_in_legacy bigint     NOT NULL,
    rows_copied   bigint      NOT NULL,
    rows_skipped  bigint      NOT NULL,
    adopted_at    timestamptz NOT NULL DEFAULT now()
);

DO $$
DECLARE
    t text;
    is_ours boolean;
    is_legacy boolean;
    aside text;
BEGIN
    FOREACH t IN ARRAY ARRAY['terminals', 'positions', 'trips', 'routes'] LOOP
        CONTINUE WHEN to_regclass(format('e_track.%I', t)) IS NULL;

        -- Ours: a synced_at column and no surrogate id (every new table has the first, none the second).
        SELECT EXISTS (SELECT 1 FROM information_schema.columns
                        WHERE table_schema = 'e_track' AND table_name = t AND column_name = 'synced_at')
           AND NOT EXISTS (SELECT 1 FROM information_schema.columns
                            WHERE table_schema = 'e_track' AND table_name = t AND column_name = 'id')
          INTO is_ours;
        CONTINUE WHEN is_ours;

        -- The old collector's shapes: an `id` column, naive timestamps, or (terminals) the
        -- `data`/`data_atualizacao` pair.
        SELECT EXISTS (SELECT 1 FROM information_schema.columns
                        WHERE table_schema = 'e_track' AND table_name = t
                          AND (column_name IN ('id', 'data_atualizacao', 'created_at')
                               OR data_type = 'timestamp without time zone'))
          INTO is_legacy;
        IF NOT is_legacy THEN
            RAISE EXCEPTION 'e_track.% has neither the sync_apis shape nor the old collector''s; '
                            'refusing to touch it (rename it and re-run)', t;
        END IF;

        aside := t;
        IF to_regclass(format('e_track_legacy.%I', aside)) IS NOT NULL THEN
            -- A second old table of the same name (restored from a dump?): keep both.
            aside := t || '_' || to_char(clock_timestamp(), 'YYYYMMDDHH24MISS');
        END IF;
        IF aside <> t THEN
            EXECUTE format('ALTER TABLE e_track.%I RENAME TO %I', t, aside);
        END IF;
        EXECUTE format('ALTER TABLE e_track.%I SET SCHEMA e_track_legacy', aside);
        RAISE NOTICE 'moved the old collector''s e_track.% to e_track_legacy.%', t, aside;
    END LOOP;
END
$$;
