"""Definitions of the mart assets."""
