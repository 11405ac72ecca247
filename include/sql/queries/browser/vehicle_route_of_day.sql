-- A vehicle's route figures of one day (sync_apis.browser.vehicle.vehicle_day reads them by
-- position). Parameters: plate, day.
SELECT point_count, distance_km, max_speed, start_ts, end_ts
  FROM e_track.routes
 WHERE placa = %(plate)s AND rota_date = %(day)s
