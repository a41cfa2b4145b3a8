"""Scenario 8: webhooks for 100 accounts: lag, API requests per event, receiver throughput, and
the accounts one egress IP keeps fresh with and without webhooks.

1. Request costs of the typical account (50 listings, 2,000 reservations, 1,500 conversations of
   4 messages; sandbox in its own process, unmetered): a first full sync (not counted), a second
   full sync (the cheaper reconcile), a quiet incremental, an incremental after a busy half hour
   and one after a busy hour of changes. Counted by the sandbox.
2. Receiver throughput: `webhooks serve` (1 worker, its own process) on the benchmark PostgreSQL,
   distinct reservation events for 100 accounts posted by 1, 4 and 16 client threads from this
   process (which shares the 2 CPUs with the receiver and PostgreSQL).
3. Lag: 100 accounts in the sandbox (in process), each with its webhook registered at the
   receiver; a Poisson stream of mutations (reservation updates, new reservations, incoming
   messages); delivered over HTTP, stored, applied by the real `webhook_sensor` every 20 s (its
   runs executed in process). Lag = `applied_at - received_at` of every event (the inbox's own
   columns), so the sensor interval is inside it.
4. Accounts per IP: computed from 1 and 3 (the formula is in the notes and in `details`).
"""

from benchmarks.scenarios.s8_webhooks.scenario import run

__all__ = ["run"]
