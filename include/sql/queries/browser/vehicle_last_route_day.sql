-- The last day a vehicle has a route (NULL when none): the vehicle page's default day.
-- Parameter: plate.
SELECT max(rota_date) FROM e_track.routes WHERE placa = %(plate)s
