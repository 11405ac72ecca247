-- The scope a plate-day's complete trips answer vouches for (Stage.delete_missing, target
-- aliased t): trips this day's request reported last, or, when unknown, that started on the day.
t.placa = ANY(%(plates)s)
AND (t.reported_day = %(day)s
     OR (t.reported_day IS NULL AND t.data_inicio_conducao >= %(start)s AND t.data_inicio_conducao < %(end)s))
