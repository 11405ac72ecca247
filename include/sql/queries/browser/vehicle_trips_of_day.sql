-- A vehicle's trips that started on one local day, in time order (sync_apis.browser.vehicle.vehicle_day
-- reads them by position; the duration in whole seconds). Parameters: plate, start, end (the day's bounds).
SELECT data_inicio_conducao, data_fim_conducao, distancia_conducao,
       extract(epoch FROM duracao_conducao)::bigint,
       localizacao_inicio_conducao, localizacao_fim_conducao
  FROM e_track.trips
 WHERE placa = %(plate)s AND data_inicio_conducao >= %(start)s AND data_inicio_conducao < %(end)s
 ORDER BY data_inicio_conducao
