"""Reproducible performance runs against the sandbox: `python -m benchmarks.run` (see README.md)."""
