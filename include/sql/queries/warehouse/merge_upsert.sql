-- The merge of a stage into its target: the last staged row of each key is inserted, or, on
-- conflict, written as the conflict clause says (DO NOTHING, or DO UPDATE SET .. WHERE the row
-- changed and is not older). Rows go in key order, one lock order for every writer, so
-- concurrent runs never deadlock. Counted here: a chunk's merge is tens of thousands of rows,
-- none of which needs to travel back. Returns (inserted, updated).
-- Composed: target, insert_cols, select_vals, key, cols, stage, conflict.
WITH merged AS (
    INSERT INTO {target} AS t ({insert_cols})
    SELECT {select_vals}
      FROM (SELECT DISTINCT ON ({key}) {cols} FROM {stage} ORDER BY {key}, _stage_ord DESC) s
     ORDER BY {key}
    ON CONFLICT ({key}) {conflict}
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged
