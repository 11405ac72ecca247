-- The rows of a view of a small table, counted exactly up to a cap.
-- Composed: table, where. Values: the filters' (positional), then the cap plus one.
SELECT count(*) FROM (SELECT 1 FROM {table}{where} LIMIT %s) AS capped
