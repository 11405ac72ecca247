-- Positions and trips received per plate on the nearest days to %(day)s (itself excluded)
-- each plate was synced on, at most %(limit)s days per plate (empty-day check).
SELECT placa, dia, positions_received, trips_received FROM (
    SELECT *, row_number() OVER (PARTITION BY placa ORDER BY abs(dia - %(day)s), dia) AS nearest
      FROM e_track.history_counts WHERE placa = ANY(%(plates)s) AND dia <> %(day)s
) h WHERE nearest <= %(limit)s
