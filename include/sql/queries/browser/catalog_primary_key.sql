-- A table's primary key columns, in key order (none: the table has no key). From pg_index, not
-- information_schema.table_constraints: the latter hides constraints from a role that only
-- holds SELECT, which is exactly the reader role. Parameters: schema, table.
SELECT a.attname
  FROM pg_index i
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
 WHERE i.indrelid = to_regclass(format('%%I.%%I', %(schema)s::text, %(table)s::text)) AND i.indisprimary
 ORDER BY array_position(i.indkey::int2[], a.attnum)
