-- An expression, not a statement: the ON CONFLICT condition under which the incoming row
-- (EXCLUDED) is not older than the stored one (t), by the table's version column. A NULL stamp
-- is unknown, i.e. oldest: it never replaces a stamped row, and a stamped row always replaces
-- it. Equal stamps: the load that began later wins (tie).
-- Composed: new (EXCLUDED.stamp), old (t.stamp), tie (an expression, true without synced_at).
({old} IS NULL OR ({new} IS NOT NULL AND ({new} > {old} OR ({new} = {old} AND {tie}))))
