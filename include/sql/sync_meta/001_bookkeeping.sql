-- sync_meta: what every run did, where incremental streams stand, and what was rejected.
-- Idempotent; the advisory lock serialises concurrent runs applying schema files.
SELECT pg_advisory_xact_lock(hashtext('sync_apis.schema'));

CREATE SCHEMA IF NOT EXISTS sync_meta;

-- One row per run x task (x map index) x stream x day, written in the same transaction as the
-- data it describes; a failed attempt leaves a 'failed' row that a later success replaces.
CREATE TABLE IF NOT EXISTS sync_meta.sync_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id         text        NOT NULL,
    dag_id         text        NOT NULL,
    task_id        text        NOT NULL,
    map_index      integer     NOT NULL DEFAULT -1,
    source         text        NOT NULL,
    stream         text        NOT NULL,
    day            date,
    try_number     integer     NOT NULL DEFAULT 1,
    -- 'skipped': a snapshot fetched before a newer one was written (warehouse.Load.superseded_by).
    status         text        NOT NULL CHECK (status IN ('success', 'failed', 'skipped')),
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz NOT NULL,
    duration_s     double precision NOT NULL DEFAULT 0,
    requests       integer     NOT NULL DEFAULT 0,
    pages          integer     NOT NULL DEFAULT 0,
    retries        integer     NOT NULL DEFAULT 0,
    rows_received  bigint      NOT NULL DEFAULT 0,
    rows_inserted  bigint      NOT NULL DEFAULT 0,
    rows_updated   bigint      NOT NULL DEFAULT 0,
    rows_rejected  bigint      NOT NULL DEFAULT 0,
    rows_deleted   bigint      NOT NULL DEFAULT 0,
    api_total      bigint,
    waited_s       double precision NOT NULL DEFAULT 0,
    error          text,
    CONSTRAINT sync_runs_identity UNIQUE NULLS NOT DISTINCT (run_id, task_id, map_index, source, stream, day)
);
-- Databases created before 'skipped' existed get the wider check once.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint
                WHERE conrelid = 'sync_meta.sync_runs'::regclass AND conname = 'sync_runs_status_check'
                  AND pg_get_constraintdef(oid) NOT LIKE '%skipped%') THEN
        ALTER TABLE sync_meta.sync_runs DROP CONSTRAINT sync_runs_status_check;
        ALTER TABLE sync_meta.sync_runs ADD CONSTRAINT sync_runs_status_check
            CHECK (status IN ('success', 'failed', 'skipped'));
    END IF;
END $$;
-- Only when missing: CREATE INDEX IF NOT EXISTS locks the table (SHARE) before it finds the index,
-- and every run applies this file while other runs' loads write sync_runs (ROW EXCLUSIVE).
DO $$
BEGIN
    IF to_regclass('sync_meta.sync_runs_source_stream_day') IS NULL THEN
        CREATE INDEX IF NOT EXISTS sync_runs_source_stream_day ON sync_meta.sync_runs (source, stream, day);
    END IF;
END $$;

CREATE TABLE IF NOT EXISTS sync_meta.watermarks (
    source      text        NOT NULL,
    stream      text        NOT NULL,
    value       timestamptz NOT NULL,
    run_id      text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, stream)
);

-- received = loaded + rejected: a record we cannot use is kept here with the reason.
CREATE TABLE IF NOT EXISTS sync_meta.rejected_records (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text        NOT NULL,
    stream       text        NOT NULL,
    day          date,
    run_id       text,
    reason       text        NOT NULL,
    raw          jsonb       NOT NULL,
    fingerprint  text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rejected_records_once UNIQUE (source, stream, fingerprint)
);
