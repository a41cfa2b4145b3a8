"""Talking to a Dagster instance: the runner, the queue, the recorded budget, storage and launcher plugins."""
