-- A stream's watermark. Parameters: source, stream.
SELECT value FROM sync_meta.watermarks WHERE source = %(source)s AND stream = %(stream)s
