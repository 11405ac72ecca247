-- Data quality, auvo_daily: the warehouse holds what the API said it had, for this run.
--
-- Each stream task records the API's own totalItems in sync_meta.sync_runs.api_total: tasks and
-- expenses for the run's day window, snapshot entities for their full listing (customers, an
-- updated-since query, record none). Here the live (not deleted) rows of the same slice are
-- counted and compared; records rejected by the parser account for a difference.
-- Parameters: run_id, day_start, day_end (the run's local day as timestamptz bounds).
WITH runs AS (
    SELECT stream, api_total, rows_rejected
      FROM sync_meta.sync_runs
     WHERE run_id = %(run_id)s AND source = 'auvo' AND status = 'success' AND api_total IS NOT NULL
), counts (stream, n) AS (
    SELECT 'tasks', count(*) FROM auvo.tasks
     WHERE deleted_at IS NULL AND task_date >= %(day_start)s::timestamptz AND task_date < %(day_end)s::timestamptz
    UNION ALL SELECT 'expenses', count(*) FROM auvo.expenses
     WHERE deleted_at IS NULL AND date >= %(day_start)s::timestamptz AND date < %(day_end)s::timestamptz
    UNION ALL SELECT 'users', count(*) FROM auvo.users WHERE deleted_at IS NULL
    UNION ALL SELECT 'teams', count(*) FROM auvo.teams WHERE deleted_at IS NULL
    UNION ALL SELECT 'task_types', count(*) FROM auvo.task_types WHERE deleted_at IS NULL
    UNION ALL SELECT 'segments', count(*) FROM auvo.segments WHERE deleted_at IS NULL
    UNION ALL SELECT 'keywords', count(*) FROM auvo.keywords WHERE deleted_at IS NULL
    UNION ALL SELECT 'questionnaires', count(*) FROM auvo.questionnaires WHERE deleted_at IS NULL
    UNION ALL SELECT 'customer_groups', count(*) FROM auvo.customer_groups WHERE deleted_at IS NULL
    UNION ALL SELECT 'equipment_categories', count(*) FROM auvo.equipment_categories WHERE deleted_at IS NULL
    UNION ALL SELECT 'equipments', count(*) FROM auvo.equipments WHERE deleted_at IS NULL
    UNION ALL SELECT 'product_categories', count(*) FROM auvo.product_categories WHERE deleted_at IS NULL
    UNION ALL SELECT 'products', count(*) FROM auvo.products WHERE deleted_at IS NULL
    UNION ALL SELECT 'services', count(*) FROM auvo.services WHERE deleted_at IS NULL
    UNION ALL SELECT 'expense_types', count(*) FROM auvo.expense_types WHERE deleted_at IS NULL
)
SELECT
    -- Always true (a non-empty text): the comparison, for the task log.
    coalesce(string_agg(format('%%s: warehouse %%s / API %%s', r.stream, c.n, r.api_total), '; ' ORDER BY r.stream),
             'no API totals recorded for this run') AS report,
    coalesce(bool_and(abs(c.n - r.api_total) <= r.rows_rejected), true) AS totals_match
  FROM runs r JOIN counts c USING (stream);
