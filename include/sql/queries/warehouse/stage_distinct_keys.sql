-- How many different keys were staged (a listing's records may repeat a key).
-- Composed: stage, key (the key columns).
SELECT count(*) FROM (SELECT DISTINCT {key} FROM {stage}) k
