-- The planner's row estimate of a filtered view of a large table: counting a filter that
-- matches a few rows of 1.5 M would read all 1.5 M, on every page.
-- Composed: table, where. Values: the filters' (positional).
EXPLAIN (FORMAT JSON) SELECT 1 FROM {table}{where}
