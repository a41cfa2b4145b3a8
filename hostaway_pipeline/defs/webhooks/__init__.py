"""Definitions of the webhook feature: the inbox sensor and job, its cadence and checks."""
