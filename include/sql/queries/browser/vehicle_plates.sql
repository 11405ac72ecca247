-- Every plate the vehicle page offers (sync_apis.browser.vehicle.plates): the vehicles the
-- warehouse knows now, and those that only have routes (no longer listed by the API).
SELECT placa FROM e_track.terminals
 UNION
SELECT DISTINCT placa FROM e_track.routes
 ORDER BY 1
