-- The newest run of each source and stream, its rows summed (a mapped task writes one row per
-- chunk); sync_apis.browser.health names the columns after the first two by position. The last
-- column, the warnings, is composed there (NULL where sync_runs has no warning column yet).
WITH newest AS (
    SELECT DISTINCT ON (source, stream) source, stream, run_id, dag_id
      FROM sync_meta.sync_runs
     ORDER BY source, stream, finished_at DESC
)
SELECT s.source, s.stream, n.dag_id, n.run_id, min(s.day) AS day,
       bool_and(s.status <> 'failed') AS ok,
       sum(s.rows_received)::bigint, sum(s.rows_inserted)::bigint, sum(s.rows_updated)::bigint,
       sum(s.rows_rejected)::bigint, sum(s.api_total)::bigint, max(s.finished_at),
       string_agg(DISTINCT s.error, '; '), {warnings}
  FROM sync_meta.sync_runs s
  JOIN newest n USING (source, stream, run_id)
 GROUP BY s.source, s.stream, n.dag_id, n.run_id
