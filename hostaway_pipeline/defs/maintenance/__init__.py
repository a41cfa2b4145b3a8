"""Definitions that keep the Dagster instance small: the cleanup job and schedule."""
