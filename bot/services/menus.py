"""Telegram's command menu per member (issue 14): the "/" menu of a member's private chat lists the commands
their roles let them use (/roster, /incidents, /stats, /handover to those who may), in their language.

Set with setMyCommands for that chat (BotCommandScopeChat), queued in the outbox in the transaction of the
change that called for it (joining, a role changed, a language chosen or Telegram's language changed; F1: no
menu for a change that rolled back), and checked for every member at start (a release may bring new
commands). A member's last menu is remembered as a fingerprint, so an unchanged menu is not sent again.
Deactivating a member removes their menu: the chat falls back to the menu for everyone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.outgoing.speaker import language_of
from bot.policy import Policy
from storage.models import Member
from storage.uow import UnitOfWork, UnitOfWorkFactory

KEY = "menu:"  # + the member's id, in key_values: the fingerprint of the menu last queued for them
SET, DELETE = "setMyCommands", "deleteMyCommands"


class MenuCommand(Protocol):
    """A command as the flows list it (`handlers.commands.CommandInfo`)."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> object: ...  # a lazy translation, read in the member's language

    @property
    def roles(self) -> tuple[str, ...]: ...  # empty: every member


class CommandMenus:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, i18n: I18n, policy: Policy) -> None:
        self._uow = uow
        self._clock = clock
        self._i18n = i18n
        self._policy = policy
        # The flows' commands; the composition root hands over the list the flows extend while installed.
        self.commands: Sequence[MenuCommand] = ()

    def entries(self, roles: Iterable[str], language: str) -> list[dict[str, str]]:
        """The commands ``roles`` may use, as Telegram's BotCommand objects, in ``language``."""
        held = set(roles)
        with self._i18n.context(), self._i18n.use_locale(language):
            return [
                {"command": command.name, "description": str(command.description)}
                for command in self.commands
                if not command.roles or held.intersection(command.roles)
            ]

    async def queue(self, uow: UnitOfWork, member: Member, now: datetime) -> bool:
        """Queue the member's menu when it differs from the one queued last. Returns whether it did."""
        if not member.active:
            return await self.remove(uow, member, now)
        return await self._queue(uow, member, now, await uow.key_values.get(f"{KEY}{member.id}"))

    async def _queue(self, uow: UnitOfWork, member: Member, now: datetime, last: str | None) -> bool:
        commands = self.entries(member.roles, language_of(member, self._policy))
        fingerprint = hashlib.sha256(json.dumps(commands, ensure_ascii=False).encode()).hexdigest()[:16]
        if last == fingerprint:
            return False
        await uow.key_values.set(f"{KEY}{member.id}", fingerprint)
        await uow.outbox.add(
            key=f"menu:{member.id}:{fingerprint}:{now.isoformat()}",
            chat_id=member.telegram_id,
            method=SET,
            payload={"commands": commands, "scope": {"type": "chat", "chat_id": member.telegram_id}},
            now=now,
        )
        return True

    async def remove(self, uow: UnitOfWork, member: Member, now: datetime) -> bool:
        """A deactivated member's chat goes back to the menu for everyone."""
        if not await uow.key_values.get(f"{KEY}{member.id}"):
            return False
        await uow.key_values.set(f"{KEY}{member.id}", "")
        await uow.outbox.add(
            key=f"menu:{member.id}:removed:{now.isoformat()}",
            chat_id=member.telegram_id,
            method=DELETE,
            payload={"scope": {"type": "chat", "chat_id": member.telegram_id}},
            now=now,
        )
        return True

    async def start(self) -> None:
        """A start-up hook (`App.startup`)."""
        await self.refresh()

    async def refresh(self) -> int:
        """At start: every active member whose menu changed (new commands, renamed ones, a policy's roles)
        gets it again. Returns how many were queued."""
        now = self._clock.now()
        async with self._uow() as uow:
            last = await uow.key_values.starting_with(KEY)
            queued = 0
            for member in await uow.members.active():
                queued += await self._queue(uow, member, now, last.get(f"{KEY}{member.id}"))
            await uow.commit()
            return queued
