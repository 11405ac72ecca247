-- An expression, not a statement: a target row (t) whose day column lies in the run's window,
-- the scope a complete day listing decides deletions for.
-- Composed: column. Parameters: start, end (the window's bounds, timestamptz).
t.{column} >= %(start)s AND t.{column} < %(end)s
