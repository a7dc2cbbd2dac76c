"""Who is calling: the active member behind an actor, re-read from the database on every call (F3)."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.actor import Actor
from bot.services.audit import refuse
from bot.services.errors import N_, NotAllowed
from storage.models import Member
from storage.uow import UnitOfWork


async def active_member(uow: UnitOfWork, clock: Clock, actor: Actor, entity: str) -> Member:
    """The caller as an active member; anyone else is refused and audited."""
    member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
    if member is None or not member.active:
        await refuse(uow, clock, actor, entity, "-", NotAllowed(N_("Only members can do this.")))
    assert member is not None
    return member
