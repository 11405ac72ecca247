-- A load's sync_meta.sync_runs row, written in the load's own transaction (or, for a failed
-- load, in one of its own). A retry of the same task and slice overwrites its row.
-- finished_at is the database's clock at the write, so worker clocks play no part in which
-- load finished after which (Load.superseded_by).
-- Parameters: every column below but finished_at.
INSERT INTO sync_meta.sync_runs (
    run_id, dag_id, task_id, map_index, source, stream, day, try_number, status, started_at,
    duration_s, requests, pages, retries, rows_received, rows_inserted, rows_updated,
    rows_rejected, rows_deleted, api_total, waited_s, error, day_rows, warning, finished_at
) VALUES (
    %(run_id)s, %(dag_id)s, %(task_id)s, %(map_index)s, %(source)s, %(stream)s, %(day)s,
    %(try_number)s, %(status)s, %(started_at)s, %(duration_s)s, %(requests)s, %(pages)s,
    %(retries)s, %(rows_received)s, %(rows_inserted)s, %(rows_updated)s, %(rows_rejected)s,
    %(rows_deleted)s, %(api_total)s, %(waited_s)s, %(error)s, %(day_rows)s, %(warning)s,
    clock_timestamp()
)
    ON CONFLICT (run_id, task_id, map_index, source, stream, day) DO UPDATE
   SET dag_id = EXCLUDED.dag_id, try_number = EXCLUDED.try_number, status = EXCLUDED.status,
       started_at = EXCLUDED.started_at, duration_s = EXCLUDED.duration_s,
       requests = EXCLUDED.requests, pages = EXCLUDED.pages, retries = EXCLUDED.retries,
       rows_received = EXCLUDED.rows_received, rows_inserted = EXCLUDED.rows_inserted,
       rows_updated = EXCLUDED.rows_updated, rows_rejected = EXCLUDED.rows_rejected,
       rows_deleted = EXCLUDED.rows_deleted, api_total = EXCLUDED.api_total,
       waited_s = EXCLUDED.waited_s, error = EXCLUDED.error, day_rows = EXCLUDED.day_rows,
       warning = EXCLUDED.warning, finished_at = EXCLUDED.finished_at
