-- One Auvo task, every column (the task page shows them all, its questionnaires from raw).
-- Parameter: task_id.
SELECT * FROM auvo.tasks WHERE task_id = %(task_id)s
