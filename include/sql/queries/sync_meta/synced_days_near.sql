-- The empty-day check's history (sync_apis.empty_days.synced_days): day_rows of a stream's latest
-- successful run of each day, the days nearest to %(day)s first (%(day)s itself excluded).
-- Runs recorded before day_rows existed are left out.
SELECT day, day_rows FROM (
    SELECT DISTINCT ON (day) day, day_rows FROM sync_meta.sync_runs
     WHERE source = %(source)s AND stream = %(stream)s AND status = 'success'
       AND day IS NOT NULL AND day <> %(day)s AND day_rows IS NOT NULL
     ORDER BY day, finished_at DESC
) latest ORDER BY abs(day - %(day)s), day LIMIT %(limit)s
