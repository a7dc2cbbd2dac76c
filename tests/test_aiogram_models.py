"""aiogram's models are built on first use, not at import (start-up time and memory, issue 7 benchmark 5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FRESH_PROCESS = """
from bot.aiogram_models import build_on_first_use
build_on_first_use()
from aiogram.methods import SetMyCommands
from aiogram.types import BotCommand, BotCommandScopeChat, Update
assert not Update.__pydantic_complete__, "built at import"
update = Update.model_validate({"update_id": 1, "callback_query": {
    "id": "7", "chat_instance": "c", "data": "ack:1", "from": {"id": 5, "is_bot": False, "first_name": "王"},
    "message": {"message_id": 3, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "报告"}}})
assert update.callback_query.message.text == "报告" and update.callback_query.from_user.first_name == "王"
scope = BotCommandScopeChat(chat_id=5)
method = SetMyCommands(commands=[BotCommand(command="report", description="上报")], scope=scope)
assert method.model_dump(exclude_none=True)["scope"] == {"type": "chat", "chat_id": 5}
print("ok")
"""

TOO_LATE = """
import aiogram.types
from bot.aiogram_models import build_on_first_use
build_on_first_use()
assert aiogram.types.Update.__pydantic_complete__
print("ok")
"""


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_models_are_built_when_first_used_and_parse_and_send_as_before() -> None:
    assert run(FRESH_PROCESS) == "ok"


def test_after_aiogram_was_imported_nothing_changes() -> None:
    assert run(TOO_LATE) == "ok"
