-- A table's estimated row count (reltuples: -1, never analysed, reads 0).
-- Parameters: schema, table.
SELECT greatest(coalesce(c.reltuples, 0), 0)::bigint
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND c.relname = %(table)s
