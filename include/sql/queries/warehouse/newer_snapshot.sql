-- A load of the same (source, stream) that succeeded after this transaction began (Load.superseded_by).
-- Parameters: source, stream.
SELECT run_id, finished_at
  FROM sync_meta.sync_runs
 WHERE source = %(source)s AND stream = %(stream)s AND status = 'success' AND finished_at >= now()
 ORDER BY finished_at DESC
 LIMIT 1
