-- e_track data quality, the run's local day: every fix has plausible coordinates.
-- (latitude/longitude within WGS84 ranges and not the 0,0 "no GPS" placeholder.)
-- SQLCheckOperator fails the task when any column of the row is false.
-- Parameters: day_start, day_end (the run's local day as timestamptz bounds).
WITH day AS (
    SELECT %(day_start)s::timestamptz AS start_at, %(day_end)s::timestamptz AS end_at
)
SELECT count(*) FILTER (WHERE p.latitude NOT BETWEEN -90 AND 90
                           OR p.longitude NOT BETWEEN -180 AND 180
                           OR (p.latitude = 0 AND p.longitude = 0)) = 0 AS coordinates_in_range
  FROM e_track.positions p, day
 WHERE p.data_transmissao >= day.start_at AND p.data_transmissao < day.end_at;
