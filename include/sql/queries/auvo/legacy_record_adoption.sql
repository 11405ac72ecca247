-- A legacy table copied: never copied again (pending_tables), counts kept for the record.
INSERT INTO auvo_legacy.adoptions (legacy_table, target_table, rows_in_legacy, keys_copied, rows_rejected)
VALUES (%(legacy_table)s, %(target_table)s, %(rows_in_legacy)s, %(keys_copied)s, %(rows_rejected)s)
