"""A parent's change fields kept as its children's watermark (warehouse/child_marks.py): text
stamps as served; anything else, which can never be read back as a stamp, as None.

Found by the hostile-bodies campaign (faults/test_bad_bodies.py): a conversation whose
`messageSentOn` was a bare NaN (kept by the client as its literal) made the sync crash with a
TypeError while it stored the watermark, instead of syncing its messages.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from hostaway_pipeline.client.payloads import loads
from hostaway_pipeline.sync.convert import cursor_value
from hostaway_pipeline.warehouse import child_marks

FIELDS = ("messageSentOn", "messageReceivedOn")


def test_marks_of_a_hostile_parent_are_stored_and_read_back_as_its_stamps(
    engine: sa.Engine,
) -> None:
    parents = {
        1: loads('{"id": 1, "messageSentOn": NaN, "messageReceivedOn": "2026-12-01 10:00:00"}'),
        2: loads('{"id": 2, "messageSentOn": [Infinity], "messageReceivedOn": 1e400}'),
        3: loads('{"id": 3, "messageSentOn": "2026-12-02 08:30:00"}'),
    }
    with engine.begin() as conn:
        child_marks.save(conn, 7, "messages", {
            pid: child_marks.pick(p, FIELDS) for pid, p in parents.items()
        })  # fmt: skip
        child_marks.keep(conn, 7, "messages", 4, child_marks.pick(parents[1], FIELDS))
    with engine.connect() as conn:
        kept = child_marks.load(conn, 7, "messages", [1, 2, 3, 4])

    assert kept[1] == kept[4] == {"messageSentOn": None, "messageReceivedOn": "2026-12-01 10:00:00"}
    assert kept[2] == {"messageSentOn": None, "messageReceivedOn": None}
    assert kept[3] == {"messageSentOn": "2026-12-02 08:30:00", "messageReceivedOn": None}
    for pid, parent in parents.items():  # the watermark reads as the parent itself reads
        for field in FIELDS:
            assert cursor_value(kept[pid], field) == cursor_value(parent, field)
    assert cursor_value(kept[3], "messageSentOn") == datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
