-- Empty days are loud (issue 9): what the empty-day check compared, and what it found.
-- Idempotent; databases created before these columns existed get them once. Only then: ALTER
-- TABLE … ADD COLUMN IF NOT EXISTS takes ACCESS EXCLUSIVE before it finds the column, and every
-- run applies this file while other runs' loads write sync_runs (a deadlock when one of them
-- had read it first: tests/integration/test_warehouse.py::
-- test_reapplying_the_schema_files_never_waits_for_a_running_load).
SELECT pg_advisory_xact_lock(hashtext('sync_apis.schema'));

-- The records of the run's own slice: a day-scoped stream's listing of its day (Auvo tasks by
-- taskDate, expenses by date; e-Track positions and trips of the chunk's plates), a snapshot's
-- whole listing. Unlike rows_received it excludes what a run fetched for other days (the tasks
-- stream's updated-since windows), so runs of different days compare. NULL: not checked.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'sync_meta.sync_runs'::regclass
                                               AND attname = 'day_rows' AND NOT attisdropped) THEN
        ALTER TABLE sync_meta.sync_runs ADD COLUMN IF NOT EXISTS day_rows bigint;
    END IF;
END $$;
-- Why the run's data is probably incomplete although it succeeded (no rows where comparable
-- days had many, a day at the edge of the API's retention); NULL when nothing looked wrong.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'sync_meta.sync_runs'::regclass
                                               AND attname = 'warning' AND NOT attisdropped) THEN
        ALTER TABLE sync_meta.sync_runs ADD COLUMN IF NOT EXISTS warning text;
    END IF;
END $$;
