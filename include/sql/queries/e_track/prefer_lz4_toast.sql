-- lz4 for the values this transaction TOASTs (e_track.routes.points), if the server supports it;
-- a server built without lz4 does not list it and keeps its default (pglz).
SELECT set_config('default_toast_compression', 'lz4', true)
  FROM pg_settings
 WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)
