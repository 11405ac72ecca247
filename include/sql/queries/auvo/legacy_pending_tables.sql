-- Tables of the old Auvo script set aside in %(schema)s (include/sql/auvo/001_*.sql) and not
-- yet copied into their new tables (auvo.legacy.pending_tables filters the names).
SELECT c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND c.relkind = 'r'
   AND NOT EXISTS (SELECT 1 FROM auvo_legacy.adoptions a WHERE a.legacy_table = c.relname)
 ORDER BY c.relname
