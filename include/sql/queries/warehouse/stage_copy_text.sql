-- Rows into a stage, in text COPY (values PostgreSQL may still have to cast from text).
-- Composed: stage, columns.
COPY {stage} ({columns}) FROM STDIN
