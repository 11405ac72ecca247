-- Every vehicle the warehouse knows (refreshed from /ultimas-posicoes by the latest task).
SELECT placa FROM e_track.terminals ORDER BY placa
