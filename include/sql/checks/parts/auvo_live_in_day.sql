deleted_at IS NULL AND {col} >= %(day_start)s::timestamptz AND {col} < %(day_end)s::timestamptz
