-- Runs once, when the postgres container initialises an empty data directory
-- (/docker-entrypoint-initdb.d). POSTGRES_DB already created the Airflow metadata database;
-- this adds the warehouse database next to it, owned by the same user.
CREATE DATABASE sync_apis;
