-- Every vehicle with its last known fix, as /ultimas-posicoes last reported it (the fleet page).
SELECT placa, descricao, frota, data_transmissao, latitude, longitude, logradouro
  FROM e_track.terminals
 ORDER BY placa
