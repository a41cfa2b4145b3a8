"""The wiring helpers' old address: they live in support/wiring.py."""

from hostaway_pipeline_tests.support.wiring import (
    ENGINE_STREAMS,
    Wired,
    assert_mirrors,
    dump_schema,
    sandbox_payloads,
    warehouse_payloads,
    wire,
)

__all__ = [
    "ENGINE_STREAMS",
    "Wired",
    "assert_mirrors",
    "dump_schema",
    "sandbox_payloads",
    "warehouse_payloads",
    "wire",
]
