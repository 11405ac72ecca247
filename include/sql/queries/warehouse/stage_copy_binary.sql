-- Rows into a stage, in binary COPY (Table.typed_rows: every value already of its column's type).
-- Composed: stage, columns.
COPY {stage} ({columns}) FROM STDIN (FORMAT BINARY)
