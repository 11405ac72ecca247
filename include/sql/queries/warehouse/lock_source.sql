-- The source's merge lock, held until the load's transaction ends: concurrent runs of one
-- source queue for their short merge step instead of deadlocking on each other's rows.
-- Parameter: lock (its name).
SELECT pg_advisory_xact_lock(hashtext(%(lock)s))
