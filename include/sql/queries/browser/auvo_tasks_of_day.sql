-- The Auvo tasks scheduled on one local day, in time order (the Auvo day page).
-- Parameters: start, end (the day's bounds).
SELECT task_id, task_status, user_to_name, customer_id, customer_description,
       task_type_description, task_date, check_in_date, check_out_date, deleted_at
  FROM auvo.tasks
 WHERE task_date >= %(start)s AND task_date < %(end)s
 ORDER BY task_date, task_id
