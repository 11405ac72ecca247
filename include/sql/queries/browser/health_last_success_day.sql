-- The last day each source and stream synced successfully (the overview's lag).
SELECT source, stream, max(day)
  FROM sync_meta.sync_runs
 WHERE status = 'success' AND day IS NOT NULL
 GROUP BY source, stream
