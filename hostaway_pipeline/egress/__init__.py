"""Egresses: the source addresses requests leave from, each with its own per-IP rate budget.

`check`: the worker's start check through an IP echo; `placement`: which egress an account's
runs go to; `worker`: the Celery worker of one egress. No Dagster here.
"""
