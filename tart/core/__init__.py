"""Settings and plumbing every stage shares: the typed params.yaml, Parquet schemas, atomic file writes,
worker-process fan-out, run provenance, and the metrics every predictor is scored with."""
