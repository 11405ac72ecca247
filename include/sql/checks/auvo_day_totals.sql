-- Data quality, auvo_daily: the warehouse holds what the API said it had, for this run.
--
-- Each stream task records the API's own totalItems in sync_meta.sync_runs.api_total: tasks and
-- expenses for the run's day window, snapshot entities for their full listing (customers, an
-- updated-since query, record none). Here the live (not deleted) rows of the same slice are
-- counted and compared; records rejected by the parser account for a difference.
-- Parameters: run_id, day_start, day_end (the run's local day as timestamptz bounds).
-- The counts are generated: one parts/auvo_day_count.sql per stream of sync_apis/auvo/streams.py
-- (live rows; of the day, parts/auvo_live_in_day.sql, for day-scoped streams), joined by UNION ALL
-- (sync_apis.auvo.checks.day_totals_sql).
WITH runs AS (
    SELECT stream, api_total, rows_rejected
      FROM sync_meta.sync_runs
     WHERE run_id = %(run_id)s AND source = 'auvo' AND status = 'success' AND api_total IS NOT NULL
), counts (stream, n) AS (
{counts}
)
SELECT
    -- Always true (a non-empty text): the comparison, for the task log.
    coalesce(string_agg(format('%%s: warehouse %%s / API %%s', r.stream, c.n, r.api_total), '; ' ORDER BY r.stream),
             'no API totals recorded for this run') AS report,
    coalesce(bool_and(abs(c.n - r.api_total) <= r.rows_rejected), true) AS totals_match
  FROM runs r JOIN counts c USING (stream);
