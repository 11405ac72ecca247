-- One Airflow run's sync_runs rows (the run page). Parameters: dag_id, run_id. The optional
-- columns the warehouse has (day_rows, warning) are appended after error by
-- sync_apis.browser.health.run_rows, as identifiers it composes.
SELECT source, stream, day, task_id, map_index, try_number, status, requests, pages, retries,
       rows_received, rows_inserted, rows_updated, rows_rejected, rows_deleted, api_total,
       round(duration_s::numeric, 2) AS duration_s, error{extra}
  FROM sync_meta.sync_runs
 WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s
 ORDER BY source, stream, day, task_id, map_index
