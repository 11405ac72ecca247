-- The browser's transaction writes nothing (sync_apis.browser.db.read_only).
SET TRANSACTION READ ONLY
