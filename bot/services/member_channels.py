"""Members on a second messenger (issue 12): joining over Feishu with the same one-time invitation (F2),
and finding the member behind a Feishu user.

A member who joins over Feishu has no Telegram account. They are stored like everyone else, with a
stand-in ``telegram_id`` that Telegram never uses (bot/channels/feishu.py), and a ``member_channels`` row
links them to their Feishu open_id. Every service keeps addressing them by that id; the outbox sender sends
their rows to Feishu (bot/feishu_outbox.py), and a press on a Feishu card acts as that id, so the services
authorise it exactly as a Telegram press (F3).
"""

from __future__ import annotations

from bot.channels.feishu import CHANNEL, stand_in_chat_id
from bot.clock import Clock
from bot.services.actor import Actor
from bot.services.audit import record
from bot.services.errors import N_, Conflict
from bot.services.members import MembershipService, MemberView
from storage.uow import UnitOfWorkFactory

MAX_OPEN_ID = 128


class MemberChannels:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, members: MembershipService) -> None:
        self._uow = uow
        self._clock = clock
        self._members = members

    async def member_of(self, open_id: str) -> MemberView | None:
        """The active member linked to this Feishu user, or ``None`` for strangers and former members."""
        if not open_id or len(open_id) > MAX_OPEN_ID:
            return None
        async with self._uow() as uow:
            member = await uow.channels.member_at(CHANNEL, open_id)
            return MemberView.of(member) if member is not None and member.active else None

    async def join(self, open_id: str, code: str) -> MemberView:
        """Redeem an invitation from Feishu (F2): single use, bound to this Feishu user, expiring — the same
        checks as a Telegram join. A Feishu user already linked to an active member joins nothing new."""
        if not open_id or len(open_id) > MAX_OPEN_ID:
            raise Conflict(N_("This invitation link is not valid. Ask your administrator for a new one."))
        if await self.member_of(open_id) is not None:
            raise Conflict(N_("You are already a member; this invitation was left unused."))
        chat_id = stand_in_chat_id(open_id)
        joined = await self._members.join(
            code, telegram_id=chat_id, name=f"Feishu {open_id[-6:]}", username=None, language=None
        )
        # The join is committed; the link follows at once. Sending the code again repeats only the link
        # (the invitation is already bound to this stand-in id), so a crash between the two heals itself.
        async with self._uow() as uow:
            now = self._clock.now()
            existing = await uow.channels.member_at(CHANNEL, open_id)
            if existing is None or existing.id != joined.id:
                await uow.channels.link(CHANNEL, joined.id, open_id, now)
                await record(
                    uow,
                    self._clock,
                    Actor(chat_id, chat_id),
                    "member",
                    joined.id,
                    "linked",
                    actor_id=joined.id,
                    channel=CHANNEL,
                )
            await uow.commit()
        return joined
