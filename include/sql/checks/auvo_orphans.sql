-- Data quality, auvo_daily: the run's tasks point at customers and users the warehouse knows.
--
-- A task whose customer (customer_id <> 0; 0 means "no customer") or assigned/creating user is
-- not in auvo.customers / auvo.users is an orphan: counted and reported; the check fails only
-- when orphans exceed max_orphan_ratio of the day's tasks (a few are normal while a customer
-- created minutes ago waits for the next run). Runs that did not sync tasks are not judged.
-- Parameters: run_id, day_start, day_end, max_orphan_ratio.
WITH day_tasks AS (
    SELECT t.task_id, t.customer_id, t.id_user_to, t.id_user_from
      FROM auvo.tasks t
     WHERE t.deleted_at IS NULL
       AND t.task_date >= %(day_start)s::timestamptz AND t.task_date < %(day_end)s::timestamptz
), orphans AS (
    SELECT count(*) AS tasks,
           count(*) FILTER (WHERE f.unknown_customer) AS unknown_customer,
           count(*) FILTER (WHERE f.unknown_user) AS unknown_user,
           -- A task is one orphan however many of its references are unknown: the ratio is of tasks.
           count(*) FILTER (WHERE f.unknown_customer OR f.unknown_user) AS orphan_tasks
      FROM (
        SELECT (d.customer_id IS NOT NULL AND d.customer_id <> 0
                AND NOT EXISTS (SELECT 1 FROM auvo.customers c WHERE c.customer_id = d.customer_id))
                   AS unknown_customer,
               ((d.id_user_to IS NOT NULL AND d.id_user_to <> 0
                 AND NOT EXISTS (SELECT 1 FROM auvo.users u WHERE u.user_id = d.id_user_to))
                OR (d.id_user_from IS NOT NULL AND d.id_user_from <> 0
                    AND NOT EXISTS (SELECT 1 FROM auvo.users u WHERE u.user_id = d.id_user_from)))
                   AS unknown_user
          FROM day_tasks d
      ) f
), synced AS (
    SELECT EXISTS (SELECT 1 FROM sync_meta.sync_runs
                    WHERE run_id = %(run_id)s AND source = 'auvo' AND stream = 'tasks' AND status = 'success')
               AS tasks_synced
)
SELECT
    -- Always true (a non-empty text): the counts, for the task log.
    format('%%s tasks on the day; %%s orphans: %%s with an unknown customer, %%s with an unknown user',
           o.tasks, o.orphan_tasks, o.unknown_customer, o.unknown_user) AS report,
    (NOT s.tasks_synced
     OR o.orphan_tasks <= %(max_orphan_ratio)s::float8 * greatest(o.tasks, 1)) AS orphans_within_limit
  FROM orphans o, synced s;
