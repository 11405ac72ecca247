-- A vehicle's fixes of one local day, in time order (sync_apis.browser.vehicle.day_fixes): its
-- line, stops and figures are derived from them. Parameters: plate, start, end (the day's bounds).
SELECT data_transmissao, latitude, longitude, velocidade, ignicao
  FROM e_track.positions
 WHERE placa = %(plate)s AND data_transmissao >= %(start)s AND data_transmissao < %(end)s
 ORDER BY data_transmissao
