"""The layers stay apart (issue 12): services decide and queue platform-neutral cards; only the chat layer
(handlers/) and the Telegram renderer (bot/outgoing/telegram.py) know Telegram's keyboards.

- nothing under bot/services imports handlers, aiogram.types or aiogram's keyboard builders;
- bot/outgoing sits below the services and the handlers: it imports neither.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES_MAY_NOT = ("handlers", "aiogram.types", "aiogram.utils.keyboard")
OUTGOING_MAY_NOT = ("handlers", "bot.services", "bot.flows", "bot.app")


def imported_modules(source: str) -> set[str]:
    """Every module a source imports, at any depth (also inside functions and TYPE_CHECKING blocks)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for module in sorted(imported_modules(path.read_text(encoding="utf-8"))):
            if any(module == name or module.startswith(name + ".") for name in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {module}")
    return found


def test_services_import_nothing_from_the_chat_layer_nor_telegram_keyboards() -> None:
    assert violations("bot/services", SERVICES_MAY_NOT) == []


def test_outgoing_sits_below_services_and_handlers() -> None:
    assert violations("bot/outgoing", OUTGOING_MAY_NOT) == []


@pytest.mark.parametrize(
    "source",
    [
        "from handlers.access_buttons import choices",
        "import handlers.keyboards",
        "from aiogram.types import InlineKeyboardMarkup",
        "from aiogram.utils.keyboard import InlineKeyboardBuilder",
        "def later():\n    from handlers import approvals",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from aiogram.types import ReplyKeyboardMarkup",
    ],
)
def test_the_check_sees_every_way_of_importing(source: str) -> None:
    modules = imported_modules(source)
    assert any(m == name or m.startswith(name + ".") for m in modules for name in SERVICES_MAY_NOT)
