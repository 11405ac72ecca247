-- The records one run rejected, oldest first (the run page). Parameters: run_id, limit.
SELECT id, source, stream, day, reason, raw, received_at
  FROM sync_meta.rejected_records
 WHERE run_id = %(run_id)s
 ORDER BY id
 LIMIT %(limit)s
