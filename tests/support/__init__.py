"""What the suite shares besides fixtures: conftest files, test modules and the benchmarks import
their helpers from here, never from a conftest or from each other (checked by
tests/integrity/test_imports.py)."""
