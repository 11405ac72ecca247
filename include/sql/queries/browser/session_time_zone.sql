-- The browser transaction's time zone: times are shown as the users read them (São Paulo).
-- Parameter: time_zone.
SELECT set_config('TimeZone', %(time_zone)s, true)
