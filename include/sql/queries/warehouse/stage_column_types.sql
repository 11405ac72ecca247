-- No rows: the stage's column types, which binary COPY must announce (they are the target's,
-- whatever the DDL file says, since the stage was created from the target).
-- Composed: stage, columns.
SELECT {columns} FROM {stage} LIMIT 0
