-- Every row of a filtered table view, in the view's order (the CSV export).
-- Composed: table, where (empty or " WHERE .."), order. Values: the filters' (positional).
SELECT * FROM {table}{where} ORDER BY {order}
