-- A load's staging table (warehouse.Stage): the target's column types and none of its
-- constraints, so a bad row surfaces at merge time with the target's own error message.
-- _stage_ord keeps arrival order: the last staged row of a key wins. Dropped at commit.
-- Composed: stage, columns (the loaded ones), target.
CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {columns} FROM {target} WITH NO DATA;
ALTER TABLE {stage} ADD COLUMN _stage_ord bigint GENERATED ALWAYS AS IDENTITY;
