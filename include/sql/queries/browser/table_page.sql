-- One page of the table browser, plus one row to know whether a next page exists. The cursor
-- columns come last, as text and aliased (a second bare "placa" would make ORDER BY ambiguous).
-- Composed: cursor_columns, table, where (empty or " WHERE .."), order. Values: the filters'
-- and the cursor's (positional), then the page size plus one.
SELECT *, {cursor_columns} FROM {table}{where} ORDER BY {order} LIMIT %s
