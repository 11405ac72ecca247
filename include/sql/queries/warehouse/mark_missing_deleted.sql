-- Soft-delete the live target rows within the scope that the stage (a complete listing) lacks.
-- Composed: target, scope (an expression over t; true for the whole table), stage, match.
UPDATE {target} AS t
   SET deleted_at = now()
 WHERE t.deleted_at IS NULL
   AND ({scope})
   AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE {match})
