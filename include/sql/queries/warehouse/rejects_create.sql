-- Where a load's rejections wait for the source's merge lock (Load.reject). Dropped at commit.
-- Composed: rejects.
CREATE TEMP TABLE {rejects} (reason text, raw jsonb) ON COMMIT DROP
