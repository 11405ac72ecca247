# Production-like image: the official Airflow image plus this project's pinned requirements.
# DAGs, plugins and SQL are mounted by docker-compose.yaml, so code changes need no rebuild.
# The Python 3.11 variant: requirements.txt is resolved and pinned for Python 3.11 (the default
# tag may carry a newer Python).
FROM apache/airflow:3.3.2-python3.11

# requirements.txt pins apache-airflow==3.3.2 itself; it matches the base image, so pip keeps the
# installed Airflow and only adds/aligns the project's providers and libraries.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt
