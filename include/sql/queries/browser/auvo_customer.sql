-- The customer a task is for, with where it is (the task page's map). Parameter: customer_id.
SELECT customer_id, description, address, latitude, longitude
  FROM auvo.customers
 WHERE customer_id = %(customer_id)s
