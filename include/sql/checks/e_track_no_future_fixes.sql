-- e_track data quality: no fix or trip is dated in the future (a time-zone or date-format
-- mistake shows up as fixes hours ahead). Five minutes of tolerance for tracker clocks.
SELECT
    NOT EXISTS (SELECT 1 FROM e_track.positions
                 WHERE data_transmissao > now() + interval '5 minutes') AS no_future_positions,
    NOT EXISTS (SELECT 1 FROM e_track.trips
                 WHERE data_inicio_conducao > now() + interval '5 minutes') AS no_future_trips;
