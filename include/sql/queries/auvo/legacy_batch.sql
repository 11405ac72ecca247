-- One slice of a legacy table, each row as JSON, oldest first (the order the adoption stages
-- them in, so the latest record of each business id wins).
-- Composed: legacy (the table), order (its ORDER BY list). Parameters: limit, offset.
SELECT to_jsonb(l) FROM {legacy} l ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s
