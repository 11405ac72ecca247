-- The browser's transaction as the read-only role (include/sql/sync_meta/002_reader_role.sql),
-- when the connection's user may take it.
-- Composed: role.
SET LOCAL ROLE {role}
