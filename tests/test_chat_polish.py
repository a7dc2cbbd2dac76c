"""Chat polish (issue 14), through the real Dispatcher: each flow shows its own word where two flows share the
English one, one rule decides every message's language, command menus follow a member's roles, and the bot
shows that it is working while a file is prepared."""

from __future__ import annotations

from bot.outgoing.deadlines import DeadlineCb
from bot.services.deadlines.service import MAX_NOTE
from bot.services.roster_watch import MAX_NOTE as MAX_HANDOVER
from handlers.callbacks import LanguageCb
from tests.conftest import Harness
from tests.support.deadlines import (  # noqa: F401  (deadline_harness is the fixture dh)
    OWNER,
    deadline_harness,
    instance,
)
from tests.support.roster import officer, put_on


# 1. The same English words, each flow's own Chinese ------------------------------------------------------
async def test_a_long_handover_note_is_called_a_handover_note_in_chinese(harness: Harness) -> None:
    """B2: the roster's length error speaks of the handover record, not of a deadline's evidence note."""
    h = harness
    wang = await officer(h, 2001, "王", language="zh_Hans")
    await put_on(h, wang, "day")
    replies = await h.send(2001, "/handover " + "长" * (MAX_HANDOVER + 1))
    assert replies == [f"交接记录太长：最多 {MAX_HANDOVER} 个字符。"]


async def test_a_long_evidence_note_is_called_a_note_in_chinese(dh: Harness) -> None:
    """E4: the deadline's evidence note has its own length error, whatever the roster calls its notes."""
    h = dh
    await h.join(OWNER, ["information_officer"], department="branch_a")
    await h.press(OWNER, LanguageCb(code="zh_Hans"))
    await h.start()
    row = await instance(h, "branch_risk", "2025-09")
    await h.press(OWNER, DeadlineCb(action="done", id=row.id))
    assert await h.send(OWNER, "x" * (MAX_NOTE + 1)) == [f"说明过长：最多 {MAX_NOTE} 个字符。"]
