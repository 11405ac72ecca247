-- The transaction's time zone (SET LOCAL, with a bound value): times rendered as text come out
-- in the zone the users read them in (São Paulo), whatever the server or the role defaults to.
-- Used by the data browser's transactions and by e_track.routes (its points' "t").
-- Parameter: time_zone.
SELECT set_config('TimeZone', %(time_zone)s, true)
