    SELECT {name}, count(*) FROM {table} WHERE {where}
