-- How many staged keys (the last staged row of each) carry an older version than the stored
-- row: what a merge keeps out (MergeResult.kept_newer).
-- Composed: key, stage, target, match (s.k = t.k for each key column), stamp (the version column).
SELECT count(*)
  FROM (SELECT DISTINCT ON ({key}) * FROM {stage} ORDER BY {key}, _stage_ord DESC) s
  JOIN {target} t ON {match}
 WHERE t.{stamp} IS NOT NULL AND (s.{stamp} IS NULL OR s.{stamp} < t.{stamp})
