-- sync_apis_reader: the role the data browser (plugins/sync_apis/browser) reads as. SELECT only,
-- on the three warehouse schemas, today's tables and the ones created later by the role that
-- applies these files. Idempotent and safe to run concurrently from several databases (roles are
-- cluster-wide, so the advisory lock below does not cover them; a lost race is ignored).
-- NOLOGIN: an operator who wants a separate login gives it one (ALTER ROLE .. LOGIN PASSWORD ..)
-- and points the connection sync_apis_reader_db at it. Where the applying user may not create
-- roles, nothing happens here and the browser still reads in READ ONLY transactions.
SELECT pg_advisory_xact_lock(hashtext('sync_apis.schema'));

DO $$
DECLARE
    s text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sync_apis_reader') THEN
        IF (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
            BEGIN
                CREATE ROLE sync_apis_reader NOLOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database created it a moment ago
            END;
        ELSE
            RAISE NOTICE 'sync_apis_reader not created: % may not create roles', current_user;
            RETURN;
        END IF;
    END IF;

    -- Schemas that exist now (auvo and e_track appear after this file on a first run: the default
    -- privileges below cover their tables, and the next run grants the schemas themselves).
    FOR s IN SELECT nspname FROM pg_namespace WHERE nspname IN ('auvo', 'e_track', 'sync_meta') LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO sync_apis_reader', s);
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO sync_apis_reader', s);
    END LOOP;
    -- Tables and schemas this role creates from now on.
    ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO sync_apis_reader;
    ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO sync_apis_reader;
END
$$;
