-- e_track, step 3: copy the old collector's rows (set aside by 001) into the new tables.
--
-- Each legacy table is copied once (recorded in e_track_legacy.adoptions) and kept afterwards.
-- Columns are matched by name; the old naive `timestamp` values are local America/Sao_Paulo
-- time and become timestamptz; values of another type are cast tolerantly (an unreadable one
-- becomes NULL rather than failing the adoption). Trips, which had no unique key there, are
-- deduplicated on (placa, data_inicio_conducao), the most recent row (highest id) winning.
-- Rows lacking a key value cannot enter the new tables: they stay in the legacy table and are
-- counted in adoptions.rows_skipped.
SELECT pg_advisory_xact_lock(hashtext('sync_apis.schema'));

CREATE OR REPLACE FUNCTION e_track_legacy.to_float(v text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    s text := regexp_replace(coalesce(v, ''), '[^0-9,.\-]', '', 'g');
BEGIN
    IF s = '' THEN
        RETURN NULL;
    END IF;
    IF position(',' IN s) > 0 THEN
        s := replace(replace(s, '.', ''), ',', '.');  -- Brazilian "1.234,5"
    END IF;
    RETURN s::double precision;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION e_track_legacy.try_cast(v text, target regtype) RETURNS text
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    result text;
BEGIN
    IF v IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT ($1::%s)::text', target) INTO result USING v;
    RETURN result;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$fn$;

-- Copy one legacy table into its target. `overrides` maps target column -> SQL expression over
-- the legacy row aliased `l`; other target columns are taken from same-named legacy columns.
CREATE OR REPLACE FUNCTION e_track_legacy.copy_rows(legacy regclass, target regclass, overrides jsonb)
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
    col record;
    legacy_type text;
    expr text;
    cols text[] := '{}';
    exprs text[] := '{}';
    required text[] := '{}';
    order_by text := '';
    copied bigint;
BEGIN
    FOR col IN
        SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
               a.attnotnull AND NOT a.atthasdef AS needs_value
          FROM pg_attribute a
         WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'synced_at'
         ORDER BY a.attnum
    LOOP
        SELECT format_type(a.atttypid, a.atttypmod) INTO legacy_type
          FROM pg_attribute a
         WHERE a.attrelid = legacy AND a.attname = col.name AND a.attnum > 0 AND NOT a.attisdropped;
        IF overrides ? col.name THEN
            expr := overrides ->> col.name;
        ELSIF legacy_type IS NULL THEN
            CONTINUE;  -- not in the old table: the column's default
        ELSIF legacy_type = col.type THEN
            expr := format('l.%I', col.name);
        ELSIF col.type = 'timestamp with time zone' AND legacy_type = 'timestamp without time zone' THEN
            expr := format('(l.%I AT TIME ZONE %L)', col.name, 'America/Sao_Paulo');
        ELSIF col.type = 'timestamp with time zone' THEN
            expr := format('(e_track_legacy.try_cast(l.%I::text, %L)::timestamp AT TIME ZONE %L)',
                           col.name, 'timestamp', 'America/Sao_Paulo');
        ELSIF col.type = 'double precision' AND legacy_type IN ('integer', 'bigint', 'smallint', 'numeric', 'real') THEN
            expr := format('l.%I::double precision', col.name);
        ELSIF col.type = 'double precision' THEN
            expr := format('e_track_legacy.to_float(l.%I::text)', col.name);
        ELSIF col.type = 'text' THEN
            expr := format('l.%I::text', col.name);
        ELSE
            expr := format('e_track_legacy.try_cast(l.%I::text, %L)::%s', col.name, col.type, col.type);
        END IF;
        cols := cols || quote_ident(col.name);
        exprs := exprs || expr;
        IF col.needs_value THEN
            required := required || format('(%s) IS NOT NULL', expr);
        END IF;
    END LOOP;

    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = legacy AND attname = 'id' AND NOT attisdropped) THEN
        order_by := ' ORDER BY l.id DESC';  -- first row inserted wins: the most recent one
    END IF;

    EXECUTE format(
        'INSERT INTO %s (%s) SELECT %s FROM %s AS l WHERE %s%s ON CONFLICT DO NOTHING',
        target, array_to_string(cols, ', '), array_to_string(exprs, ', '), legacy,
        CASE WHEN cardinality(required) = 0 THEN 'true' ELSE array_to_string(required, ' AND ') END,
        order_by);
    GET DIAGNOSTICS copied = ROW_COUNT;
    RETURN copied;
END
$fn$;

DO $$
DECLARE
    legacy record;
    base text;
    overrides jsonb;
    total bigint;
    copied bigint;
    has_col text[];
    known text[];
BEGIN
    FOR legacy IN
        SELECT c.oid::regclass AS rel, c.relname AS name
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'e_track_legacy' AND c.relkind IN ('r', 'p')
           AND c.relname ~ '^(terminals|positions|trips|routes)(_[0-9]{14})?$'
           AND NOT EXISTS (SELECT 1 FROM e_track_legacy.adoptions a WHERE a.legacy_table = c.relname)
         -- terminals first, as the old positions referenced them
         ORDER BY array_position(ARRAY['terminals', 'positions', 'trips', 'routes'],
                                 split_part(c.relname, '_', 1)), c.relname
    LOOP
        base := split_part(legacy.name, '_', 1);
        SELECT array_agg(attname::text) INTO has_col
          FROM pg_attribute WHERE attrelid = legacy.rel AND attnum > 0 AND NOT attisdropped;
        overrides := '{}'::jsonb;
        IF base = 'terminals' AND 'data' = ANY (has_col) THEN
            overrides := jsonb_build_object('raw', 'COALESCE(to_jsonb(l.data), ''{}''::jsonb)');
        ELSIF base = 'positions' AND 'raw' = ANY (has_col) THEN
            -- extra = only the fields our parser does not know, as etrac/streams.py says: those
            -- the positions' columns read, and the vehicle's, kept in terminals. Read from the
            -- tables (the stream table's columns are the DDL's, tests/unit/test_stream_columns.py),
            -- so a new field is known here once its column exists.
            SELECT array_agg(DISTINCT attname::text ORDER BY attname::text) INTO known
              FROM pg_attribute
             WHERE attrelid IN ('e_track.positions'::regclass, 'e_track.terminals'::regclass)
               AND attnum > 0 AND NOT attisdropped
               AND attname NOT IN ('extra', 'raw', 'origin', 'synced_at');  -- ours, not the API's
            overrides := jsonb_build_object('extra',
                'CASE WHEN jsonb_typeof(to_jsonb(l.raw)) = ''object'' THEN to_jsonb(l.raw) - '
                || quote_literal(known::text) || '::text[] ELSE ''{}''::jsonb END');
        ELSIF base = 'trips' AND 'raw' = ANY (has_col) THEN
            overrides := jsonb_build_object('raw', 'COALESCE(to_jsonb(l.raw), ''{}''::jsonb)');
        ELSIF base = 'routes' AND 'points' = ANY (has_col) THEN
            overrides := jsonb_build_object(
                'points', 'COALESCE(to_jsonb(l.points), ''[]''::jsonb)',
                'point_count', CASE WHEN 'point_count' = ANY (has_col)
                    THEN 'COALESCE(l.point_count::integer, jsonb_array_length(CASE WHEN jsonb_typeof(to_jsonb(l.points)) = ''array'' THEN to_jsonb(l.points) ELSE ''[]''::jsonb END))'
                    ELSE 'jsonb_array_length(CASE WHEN jsonb_typeof(to_jsonb(l.points)) = ''array'' THEN to_jsonb(l.points) ELSE ''[]''::jsonb END)' END);
        END IF;

        EXECUTE format('SELECT count(*) FROM %s', legacy.rel) INTO total;
        copied := e_track_legacy.copy_rows(legacy.rel, format('e_track.%I', base)::regclass, overrides);
        INSERT INTO e_track_legacy.adoptions (legacy_table, target_table, rows_in_legacy, rows_copied, rows_skipped)
        VALUES (legacy.name, 'e_track.' || base, total, copied, total - copied);
        RAISE NOTICE 'adopted e_track_legacy.%: % rows, % copied into e_track.%, % duplicates or keyless left behind',
            legacy.name, total, copied, base, total - copied;
    END LOOP;
END
$$;
