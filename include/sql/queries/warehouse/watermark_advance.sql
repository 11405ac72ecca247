-- Advance a stream's watermark; an older value (a backfill) never moves it back.
-- Parameters: source, stream, value, run_id.
INSERT INTO sync_meta.watermarks (source, stream, value, run_id, updated_at)
VALUES (%(source)s, %(stream)s, %(value)s, %(run_id)s, now())
    ON CONFLICT (source, stream) DO UPDATE
   SET value = EXCLUDED.value, run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at
 WHERE sync_meta.watermarks.value < EXCLUDED.value
