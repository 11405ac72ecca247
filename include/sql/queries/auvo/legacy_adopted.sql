-- Whether %(legacy_table)s was adopted already (asked after legacy_claim.sql's lock).
SELECT 1 FROM auvo_legacy.adoptions WHERE legacy_table = %(legacy_table)s
