"""Benchmarks of the pipeline: each prints its figures and writes reports/benchmarks/<name>.json and <name>.md.
They import the library and the helpers in benchmarks/common.py, never each other (`python -m benchmarks`)."""
