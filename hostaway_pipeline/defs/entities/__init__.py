"""Definitions of the entity assets: assets, checks, jobs, schedules, reference sync."""
