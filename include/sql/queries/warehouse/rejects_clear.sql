-- Empty the rejection buffer once flushed. Composed: rejects.
TRUNCATE {rejects}
