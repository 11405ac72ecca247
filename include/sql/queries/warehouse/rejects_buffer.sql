-- One rejected record and why. Composed: rejects. Parameters: reason, raw (JSON text).
INSERT INTO {rejects} (reason, raw) VALUES (%(reason)s, %(raw)s::jsonb)
