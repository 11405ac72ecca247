-- Every table of the browsable schemas with its estimated row count (reltuples: -1, never
-- analysed, reads 0), by schema then name. Parameter: schemas (a text[]).
SELECT t.table_schema, t.table_name, greatest(coalesce(c.reltuples, 0), 0)::bigint
  FROM information_schema.tables t
  JOIN pg_namespace n ON n.nspname = t.table_schema
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.table_name
 WHERE t.table_schema = ANY(%(schemas)s) AND t.table_type = 'BASE TABLE'
 ORDER BY t.table_schema, t.table_name
