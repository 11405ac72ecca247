-- The last listing of a snapshot stream that a backfill run may reuse instead of listing it
-- again (sync_apis.auvo.fetch_options.reusable_snapshot): a successful run that received
-- records and finished less than %(max_age)s before this transaction began. Runs that reused a
-- snapshot themselves are 'skipped', never 'success', so they are not found here.
SELECT run_id, finished_at, greatest(now() - finished_at, interval '0') AS age
  FROM sync_meta.sync_runs
 WHERE source = %(source)s AND stream = %(stream)s AND status = 'success'
   AND day_rows > 0 AND finished_at >= now() - %(max_age)s
 ORDER BY finished_at DESC
 LIMIT 1
