-- Hard-delete the target rows within the scope whose key the stage (a complete answer) lacks.
-- The keys to remove come from a set difference (hashed or sorted: linear), then go through
-- the target's key index. A NOT EXISTS anti-join was planned as a nested loop scanning the
-- whole stage once per target row (rows merged moments ago are not in the statistics), and a
-- 10-plate e-Track chunk spent 88 percent of its time there (bench/results.md). Key columns are NOT
-- NULL, so EXCEPT's NULL-equals-NULL never differs from "=".
-- Composed: target, keys, scope (an expression over t, with its own bound values), stage, match.
DELETE FROM {target} AS t
 USING (SELECT {keys} FROM {target} AS t WHERE ({scope}) EXCEPT SELECT {keys} FROM {stage}) AS s
 WHERE {match}
