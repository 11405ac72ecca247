-- e_track data quality, the run's local day: every fix has plausible coordinates.
-- (latitude/longitude within WGS84 ranges and not the 0,0 "no GPS" placeholder.)
-- SQLCheckOperator fails the task when any column of the row is false.
WITH day AS (
    SELECT (DATE '{{ run_day() }}')::timestamp AT TIME ZONE 'America/Sao_Paulo' AS start_at,
           (DATE '{{ run_day() }}' + 1)::timestamp AT TIME ZONE 'America/Sao_Paulo' AS end_at
)
SELECT count(*) FILTER (WHERE p.latitude NOT BETWEEN -90 AND 90
                           OR p.longitude NOT BETWEEN -180 AND 180
                           OR (p.latitude = 0 AND p.longitude = 0)) = 0 AS coordinates_in_range
  FROM e_track.positions p, day
 WHERE p.data_transmissao >= day.start_at AND p.data_transmissao < day.end_at;
