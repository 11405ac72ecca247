-- The buffered rejections into sync_meta.rejected_records, under the merge lock; the same
-- record rejected again (same reason and content) is kept once.
-- Composed: rejects. Parameters: source, stream, day, run_id.
INSERT INTO sync_meta.rejected_records (source, stream, day, run_id, reason, raw, fingerprint)
SELECT %(source)s, %(stream)s, %(day)s, %(run_id)s, reason, raw,
       md5(reason || '|' || raw::text) AS fingerprint
  FROM {rejects}
 ORDER BY fingerprint
    ON CONFLICT (source, stream, fingerprint) DO NOTHING
