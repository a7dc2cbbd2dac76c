"""Incident windows count in the timeliness report with reporting deadlines (A2, A5, E4)."""

from __future__ import annotations

from tests.conftest import Harness
from tests.support.incidents import LEADER, WANG, ack, crew, report


async def test_acknowledgement_windows_appear_in_the_timeliness_report(harness: Harness) -> None:
    h = harness
    await crew(h)
    await report(h)  # INC-…-000001: acknowledged at once
    await h.press(WANG, ack(1))
    await report(h, description="Second leak")  # INC-…-000002: acknowledged only after the window
    await h.advance(minutes=h.app.policy.incidents.ack_window_minutes + 1)
    await h.press(WANG, ack(2))
    await report(h, description="Third leak")  # INC-…-000003: never acknowledged
    text = (await h.send(LEADER, "/timeliness 2026-03"))[0]
    # the reporter's department: one acknowledged in time, one late, one never
    assert "General office: on time 1 · with extension 0 · late 1 · missed 1 · on-time rate 33%" in text
