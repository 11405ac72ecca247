"""What the Auvo tests share about the sandbox world and the run's Params."""

from __future__ import annotations

# The sandbox world's whole history lies within +- 30 days of any test day: the narrower
# taskDate range changes no result, only the request count (5 windows per query, not 58).
FAST = {
    "backoff_base_s": 0.05,
    "max_attempts": 3,
    "api_budget_per_minute": 4000,
    "task_days_back": 30,
    "task_days_ahead": 30,
}
SNAPSHOT_KIND = {  # our table -> the sandbox's kind
    "users": "users",
    "teams": "teams",
    "task_types": "taskTypes",
    "segments": "segments",
    "keywords": "keywords",
    "questionnaires": "questionnaires",
    "customer_groups": "customerGroups",
    "equipments": "equipments",
    "equipment_categories": "equipmentCategories",
    "products": "products",
    "product_categories": "productCategories",
    "services": "services",
    "expense_types": "expenseTypes",
}
