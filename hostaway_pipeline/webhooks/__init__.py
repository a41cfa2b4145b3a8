"""Hostaway unified webhooks: the receiver (HTTP inbox), envelope rules and applying events.

No Dagster here: `defs/webhooks/sensor.py` wires `apply.process_account` into runs.
"""
