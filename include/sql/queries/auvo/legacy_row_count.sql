-- How many rows a legacy table holds (auvo_legacy.adoptions.rows_in_legacy).
-- Composed: legacy (the table).
SELECT count(*) FROM {legacy}
