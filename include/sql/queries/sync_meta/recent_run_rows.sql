-- The empty-day check's baseline (sync_apis.empty_days.recent_runs): day_rows of a stream's last
-- successful runs, newest first, the run asking excluded.
SELECT day_rows FROM sync_meta.sync_runs
 WHERE source = %(source)s AND stream = %(stream)s AND status = 'success' AND run_id <> %(run_id)s
   AND day_rows IS NOT NULL
 ORDER BY finished_at DESC LIMIT %(limit)s
