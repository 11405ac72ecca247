-- e_track data quality, the run's local day: per plate, the warehouse holds exactly the distinct
-- fixes /ultimasposicoesterminal returned for that day (recorded in e_track.history_counts by
-- the history tasks), and every record the API sent was either loaded or rejected. Fixes only
-- /ultimas-posicoes reported (origin 'latest') are not part of a history answer and not counted.
-- Parameters: day, day_start, day_end (the run's local day, and its bounds as timestamptz).
WITH day AS (
    SELECT %(day)s::date AS dia, %(day_start)s::timestamptz AS start_at, %(day_end)s::timestamptz AS end_at
), loaded AS (
    SELECT p.placa, count(*) AS n
      FROM e_track.positions p, day
     WHERE p.data_transmissao >= day.start_at AND p.data_transmissao < day.end_at
       AND p.origin = 'history'
     GROUP BY p.placa
)
SELECT
    count(*) FILTER (WHERE coalesce(l.n, 0) <> c.positions_distinct) = 0 AS positions_match_api,
    count(*) FILTER (WHERE c.positions_distinct + c.positions_rejected > c.positions_received) = 0
        AS received_covers_loaded_and_rejected
  FROM e_track.history_counts c
  JOIN day ON c.dia = day.dia
  LEFT JOIN loaded l ON l.placa = c.placa;
