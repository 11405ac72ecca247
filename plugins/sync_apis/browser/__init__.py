"""The data browser: sync health, tables, run tabs inside the Airflow UI (one FastAPI app).

``app.create_app()`` builds the app the plugin mounts; ``views`` holds the plugin's UI entries.
Everything reads through ``db.read_only()``; names of tables and columns come from ``catalog``.
"""
