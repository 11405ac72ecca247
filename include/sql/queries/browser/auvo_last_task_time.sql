-- When the newest Auvo task is scheduled (NULL when none): the Auvo day page's default day.
SELECT max(task_date) FROM auvo.tasks
