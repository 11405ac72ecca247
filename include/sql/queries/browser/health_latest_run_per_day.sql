-- Each source, stream and day of a window with its latest run's rows summed (the overview's
-- strip): ok only if none of that run's rows failed. A 'skipped' row is not a failure: a
-- snapshot superseded by a newer write, or one a backfill run reused
-- (sync_apis.auvo.fetch_options); its table holds a listing at least as new.
-- Parameters: first, last (the days after first up to last). The warning column's expression
-- is composed by sync_apis.browser.health (NULL where sync_runs has no warning column yet).
WITH latest AS (
    SELECT source, stream, day, dag_id, run_id, max(finished_at) AS finished_at
      FROM sync_meta.sync_runs
     WHERE day IS NOT NULL
     GROUP BY source, stream, day, dag_id, run_id
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY source, stream, day ORDER BY finished_at DESC) AS n
      FROM latest
)
SELECT r.source, r.stream, r.day, r.dag_id, r.run_id,
       bool_and(s.status <> 'failed') AS ok,
       sum(s.rows_received)::bigint AS rows_received,
       {warnings} AS warning,
       string_agg(DISTINCT s.error, '; ') FILTER (WHERE s.status = 'failed') AS error
  FROM ranked r
  JOIN sync_meta.sync_runs s
    ON s.source = r.source AND s.stream = r.stream AND s.day = r.day AND s.run_id = r.run_id
 WHERE r.n = 1 AND r.day > %(first)s AND r.day <= %(last)s
 GROUP BY r.source, r.stream, r.day, r.dag_id, r.run_id
