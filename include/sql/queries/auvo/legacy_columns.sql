-- The columns a legacy table has (old versions of the script lacked fetched_at or id).
SELECT column_name FROM information_schema.columns WHERE table_schema = %(schema)s AND table_name = %(table)s
