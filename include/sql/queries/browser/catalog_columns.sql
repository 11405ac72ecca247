-- A table's columns and their types, in table order (none: no such table).
-- Parameters: schema, table.
SELECT column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = %(schema)s AND table_name = %(table)s
 ORDER BY ordinal_position
