-- e_track.routes for one local day, computed from e_track.positions (sync_apis.etrac.routes).
-- Parameters: start, end (the day's bounds), day. The plate filter below is composed by
-- compute_routes with psycopg.sql: empty, or a condition on the bound parameter plates.
WITH fixes AS (
    SELECT placa, data_transmissao, latitude, longitude, velocidade,
           lag(latitude)  OVER w AS prev_lat,
           lag(longitude) OVER w AS prev_lon
      FROM e_track.positions
     WHERE data_transmissao >= %(start)s AND data_transmissao < %(end)s
       {plate_filter}
    WINDOW w AS (PARTITION BY placa ORDER BY data_transmissao, latitude, longitude)
), per_plate AS (
    SELECT placa,
           count(*)::integer AS point_count,
           min(data_transmissao) AS start_ts,
           max(data_transmissao) AS end_ts,
           -- The first fix of a day has no previous point: its leg is skipped, not computed
           -- from NULLs (least(1.0, NULL) is 1.0 in PostgreSQL, and asin(1) is half the Earth).
           round(coalesce(sum(
               2 * 6371.0088 * asin(least(1.0, sqrt(
                   power(sin(radians(latitude - prev_lat) / 2), 2)
                   + cos(radians(prev_lat)) * cos(radians(latitude))
                     * power(sin(radians(longitude - prev_lon) / 2), 2))))
           ) FILTER (WHERE prev_lat IS NOT NULL), 0)::numeric, 3)::double precision AS distance_km,
           max(velocidade) AS max_speed,
           jsonb_agg(jsonb_build_object('t', data_transmissao, 'lat', latitude, 'lon', longitude,
                                        'v', velocidade)
                     ORDER BY data_transmissao, latitude, longitude) AS points
      FROM fixes
     GROUP BY placa
)
INSERT INTO e_track.routes AS r
       (placa, rota_date, point_count, start_ts, end_ts, distance_km, max_speed, points, synced_at)
SELECT placa, %(day)s, point_count, start_ts, end_ts, distance_km, max_speed, points, now()
  FROM per_plate
 ORDER BY placa
ON CONFLICT (placa, rota_date) DO UPDATE
   SET point_count = EXCLUDED.point_count, start_ts = EXCLUDED.start_ts, end_ts = EXCLUDED.end_ts,
       distance_km = EXCLUDED.distance_km, max_speed = EXCLUDED.max_speed, points = EXCLUDED.points,
       synced_at = EXCLUDED.synced_at
 WHERE ROW(r.point_count, r.start_ts, r.end_ts, r.distance_km, r.max_speed, r.points)
       IS DISTINCT FROM
       ROW(EXCLUDED.point_count, EXCLUDED.start_ts, EXCLUDED.end_ts, EXCLUDED.distance_km,
           EXCLUDED.max_speed, EXCLUDED.points)
RETURNING (xmax = 0) AS inserted
