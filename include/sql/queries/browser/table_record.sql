-- One record by its key (or ctid, for a table without a primary key).
-- Composed: table, match (each key column equal to a positional value). Values: the key's.
SELECT * FROM {table} WHERE {match} LIMIT 1
