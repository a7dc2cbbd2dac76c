"""Members on a second messenger (issue 12): joining over Feishu with the same one-time invitation (F2),
and finding the member behind a Feishu user.

A member who joins over Feishu has no Telegram account. They are stored like everyone else, with a
stand-in ``telegram_id`` that Telegram never uses (bot/channels/feishu.py), and a ``member_channels`` row
links them to their Feishu open_id. Every service keeps addressing them by that id; the outbox sender sends
their rows to Feishu (bot/feishu_outbox.py), and a press on a Feishu card acts as that id, so the services
authorise it exactly as a Telegram press (F3).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.channels.feishu import CHANNEL, is_stand_in, stand_in_chat_id
from bot.clock import Clock
from bot.services.actor import Actor
from bot.services.audit import record
from bot.services.errors import N_, Conflict, NotAllowed
from bot.services.members import CODE, MembershipService, MemberView
from storage.channel_models import MemberChannel
from storage.uow import UnitOfWork, UnitOfWorkFactory

MAX_OPEN_ID = 128
LINK_HOURS = 24
LINK_KEY = "feishu-link:"  # key_values: a one-time code that links a Telegram member's Feishu account


@dataclass(frozen=True, slots=True)
class LinkCode:
    code: str
    expires_at: datetime
    linked_already: bool  # the member's cards go to a Feishu account now; the code links another one


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

    # A member of Telegram who wants their cards in Feishu ------------------------------------------------
    async def link_code(self, actor: Actor) -> LinkCode:
        """``/feishu`` in Telegram: a one-time code, valid ``LINK_HOURS``, that the member sends to the bot in
        Feishu to have alerts and approval cards come there. Issued only to the member, in their own chat,
        so nobody links another's account (F2)."""
        async with self._uow() as uow:
            member = await self._member(uow, actor)
            now = self._clock.now()
            code = secrets.token_urlsafe(9)
            expires_at = now + timedelta(hours=LINK_HOURS)
            value = json.dumps({"member": member.id, "expires": expires_at.isoformat()})
            await uow.key_values.set(LINK_KEY + code, value)
            await record(uow, self._clock, actor, "member", member.id, "link_code", actor_id=member.id, channel=CHANNEL)
            linked = await uow.channels.address_of(CHANNEL, member.id) is not None
            await uow.commit()
            return LinkCode(code, expires_at, linked)

    async def unlink(self, actor: Actor) -> bool:
        """``/feishu off``: cards come to Telegram again. False when nothing was linked."""
        async with self._uow() as uow:
            member = await self._member(uow, actor)
            row = await uow.session.get(MemberChannel, (member.id, CHANNEL))
            if row is None:
                return False
            await uow.session.delete(row)
            await record(uow, self._clock, actor, "member", member.id, "unlinked", actor_id=member.id, channel=CHANNEL)
            await uow.commit()
            return True

    async def _member(self, uow: UnitOfWork, actor: Actor) -> MemberView:
        found = await uow.members.by_telegram_id(actor.telegram_id or 0)
        if found is None or not found.active or is_stand_in(found.telegram_id):
            raise NotAllowed(N_("You are not a member yet. Ask your administrator for an invitation."))
        return MemberView.of(found)

    async def _redeem_link(self, open_id: str, code: str) -> MemberView | None:
        """A link code from ``/feishu``: links that member's Feishu account, once; ``None`` when ``code`` is
        none of ours (it may be an invitation)."""
        async with self._uow() as uow:
            stored = await uow.key_values.get(LINK_KEY + code) if CODE.fullmatch(code) else None
            if not stored:
                return None
            link = json.loads(stored)
            now = self._clock.now()
            if datetime.fromisoformat(link["expires"]) <= now:
                raise Conflict(N_("This code has expired. Send /feishu to the bot in Telegram for a new one."))
            member = await uow.members.get(int(link["member"]))
            if member is None or not member.active:
                raise Conflict(N_("This invitation link is not valid. Ask your administrator for a new one."))
            await uow.key_values.set(LINK_KEY + code, "")  # used up
            await uow.channels.link(CHANNEL, member.id, open_id, now)
            actor = Actor(member.telegram_id, stand_in_chat_id(open_id))
            await record(uow, self._clock, actor, "member", member.id, "linked", actor_id=member.id, channel=CHANNEL)
            await uow.commit()
            return MemberView.of(member)

    # Joining over Feishu --------------------------------------------------------------------------------
    async def join(self, open_id: str, code: str) -> MemberView:
        """Redeem an invitation from Feishu (F2): single use, bound to this Feishu user, expiring — the same
        checks as a Telegram join. A Feishu user already linked to an active member joins nothing new. A link
        code from ``/feishu`` links that Telegram member instead."""
        if not open_id or len(open_id) > MAX_OPEN_ID:
            raise Conflict(N_("This invitation link is not valid. Ask your administrator for a new one."))
        if await self.member_of(open_id) is not None:
            raise Conflict(N_("You are already a member; this invitation was left unused."))
        linked = await self._redeem_link(open_id, code)
        if linked is not None:
            return linked
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
