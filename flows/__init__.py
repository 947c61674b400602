"""Thin Prefect flows, one per DVC stage: `python -m flows.<stage>`."""

import os

# Offline-friendly Prefect defaults (docs/operations.md); the caller's environment wins.
os.environ.setdefault("PREFECT_HOME", os.path.abspath(".prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
