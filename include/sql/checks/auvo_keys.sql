-- Data quality, auvo_daily: every table's key is present and unique.
-- (The primary keys already enforce it; this check proves it for tables adopted or edited by
-- hand, and is the template for the same check on sources without constraints.)
-- SQLCheckOperator fails the task if any column of this one row is false.
SELECT
    (SELECT count(*) = count(DISTINCT user_id) AND count(*) = count(user_id) FROM auvo.users) AS users_keys_ok,
    (SELECT count(*) = count(DISTINCT team_id) AND count(*) = count(team_id) FROM auvo.teams) AS teams_keys_ok,
    (SELECT count(*) = count(DISTINCT task_type_id) AND count(*) = count(task_type_id) FROM auvo.task_types) AS task_types_keys_ok,
    (SELECT count(*) = count(DISTINCT segment_id) AND count(*) = count(segment_id) FROM auvo.segments) AS segments_keys_ok,
    (SELECT count(*) = count(DISTINCT keyword_id) AND count(*) = count(keyword_id) FROM auvo.keywords) AS keywords_keys_ok,
    (SELECT count(*) = count(DISTINCT questionnaire_id) AND count(*) = count(questionnaire_id) FROM auvo.questionnaires) AS questionnaires_keys_ok,
    (SELECT count(*) = count(DISTINCT customer_group_id) AND count(*) = count(customer_group_id) FROM auvo.customer_groups) AS customer_groups_keys_ok,
    (SELECT count(*) = count(DISTINCT equipment_category_id) AND count(*) = count(equipment_category_id) FROM auvo.equipment_categories) AS equipment_categories_keys_ok,
    (SELECT count(*) = count(DISTINCT equipment_id) AND count(*) = count(equipment_id) FROM auvo.equipments) AS equipments_keys_ok,
    (SELECT count(*) = count(DISTINCT product_category_id) AND count(*) = count(product_category_id) FROM auvo.product_categories) AS product_categories_keys_ok,
    (SELECT count(*) = count(DISTINCT product_id) AND count(*) = count(product_id) FROM auvo.products) AS products_keys_ok,
    (SELECT count(*) = count(DISTINCT service_id) AND count(*) = count(service_id) FROM auvo.services) AS services_keys_ok,
    (SELECT count(*) = count(DISTINCT expense_type_id) AND count(*) = count(expense_type_id) FROM auvo.expense_types) AS expense_types_keys_ok,
    (SELECT count(*) = count(DISTINCT customer_id) AND count(*) = count(customer_id) FROM auvo.customers) AS customers_keys_ok,
    (SELECT count(*) = count(DISTINCT expense_id) AND count(*) = count(expense_id) FROM auvo.expenses) AS expenses_keys_ok,
    (SELECT count(*) = count(DISTINCT task_id) AND count(*) = count(task_id) FROM auvo.tasks) AS tasks_keys_ok;
