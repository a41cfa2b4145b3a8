"""Definitions per account: the account sensor, run status sensors, freshness checks."""
