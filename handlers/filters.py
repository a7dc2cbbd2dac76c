from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.services.members import MemberView


class IsMember(Filter):
    """The sender is an active member (loaded from the database on every update)."""

    async def __call__(self, event: TelegramObject, member: MemberView | None = None) -> bool:
        return member is not None


class HasRole(Filter):
    """Shows the right menu; the service behind each action checks the role again (F3)."""

    def __init__(self, *roles: str) -> None:
        self.roles = roles

    async def __call__(self, event: TelegramObject, member: MemberView | None = None) -> bool:
        return member is not None and member.has(*self.roles)
