-- An expression, not a statement: a deleted task's deleted_at, over the staged row. The task's
-- last dateLastUpdate is the deletion as the API reports it, so re-running the day writes the
-- same value; now() only when the API sent no stamp.
coalesce(date_last_update, now())
