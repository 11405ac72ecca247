-- e_track.routes for one local day, computed from e_track.positions (sync_apis.etrac.routes).
-- Parameters: start, end (the day's bounds), day, plates (a text[] to compute only those, or NULL).
WITH fixes AS (
    SELECT placa, data_transmissao, latitude, longitude, velocidade,
           lag(latitude)  OVER w AS prev_lat,
           lag(longitude) OVER w AS prev_lon,
           -- Each number as jsonb_build_object writes it (float8's shortest exact text; the
           -- non-finite ones as strings, which JSON numbers cannot be; NULL as null). Written out
           -- three times: to_json(x)::text says the same but costs about a third more per value.
           CASE WHEN latitude IN ('NaN', 'Infinity', '-Infinity') THEN to_json(latitude::text)::text
                ELSE latitude::text END AS lat_json,
           CASE WHEN longitude IN ('NaN', 'Infinity', '-Infinity') THEN to_json(longitude::text)::text
                ELSE longitude::text END AS lon_json,
           coalesce(CASE WHEN velocidade IN ('NaN', 'Infinity', '-Infinity') THEN to_json(velocidade::text)::text
                         ELSE velocidade::text END, 'null') AS v_json
      FROM e_track.positions
     WHERE data_transmissao >= %(start)s AND data_transmissao < %(end)s
       AND (%(plates)s::text[] IS NULL OR placa = ANY(%(plates)s::text[]))
    WINDOW w AS (PARTITION BY placa ORDER BY data_transmissao, latitude, longitude)
), legs AS (
    -- A leg's differences, under 1e-9 degrees (0.1 mm) as 0: PostgreSQL raises "value out of
    -- range: underflow" where a float8 product rounds to zero, as the squared sine of a
    -- difference under ~1e-154 degrees does (a fix at latitude 1e-300 is in range).
    SELECT *,
           CASE WHEN abs(latitude - prev_lat) < 1e-9 THEN 0 ELSE latitude - prev_lat END AS d_lat,
           CASE WHEN abs(longitude - prev_lon) < 1e-9 THEN 0 ELSE longitude - prev_lon END AS d_lon
      FROM fixes
), per_plate AS (
    SELECT placa,
           count(*)::integer AS point_count,
           min(data_transmissao) AS start_ts,
           max(data_transmissao) AS end_ts,
           -- The first fix of a day has no previous point: its leg is skipped, not computed
           -- from NULLs (least(1.0, NULL) is 1.0 in PostgreSQL, and asin(1) is half the Earth).
           round(coalesce(sum(
               2 * 6371.0088 * asin(least(1.0, sqrt(
                   power(sin(radians(d_lat) / 2), 2)
                   + cos(radians(prev_lat)) * cos(radians(latitude))
                     * power(sin(radians(d_lon) / 2), 2))))
           ) FILTER (WHERE prev_lat IS NOT NULL), 0)::numeric, 3)::double precision AS distance_km,
           max(velocidade) AS max_speed,
           -- The points are written as JSON text and cast once: a jsonb_build_object per fix
           -- folded by jsonb_agg cost 1.6x as much (~1.5 M fixes on a dense day; bench/results.md).
           -- The cast gives the very jsonb the functions would (tests/integration/test_etrac_routes.py).
           ('[' || string_agg('{"t":' || to_json(data_transmissao)::text || ',"lat":' || lat_json
                              || ',"lon":' || lon_json || ',"v":' || v_json || '}', ','
                              ORDER BY data_transmissao, latitude, longitude) || ']')::jsonb AS points
      FROM legs
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
