-- How many routes the day has after recomputing them (the routes run's rows_received).
SELECT count(*) FROM e_track.routes WHERE rota_date = %(day)s
