"""Local fake Auvo and e-Track servers with deterministic worlds (``python -m sandbox``)."""
