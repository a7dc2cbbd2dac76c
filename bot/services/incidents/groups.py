"""Duty-room groups (issue 14; A3, F1, F3): a member who replies in a duty room's Telegram group to an incident's
alert (its text, map pin or album) with a text or a photo adds a note to that incident's timeline. The reply is
re-authorised for the member who wrote it — only those who may handle the incident (its handler, everyone
alerted, the officers on duty, its chain) — and a refusal is audited like a forged button press."""

from __future__ import annotations

from bot.services.actor import Actor
from bot.services.errors import N_, Conflict
from bot.services.incidents.common import Context
from bot.services.incidents.escalation import alert_ref
from bot.services.incidents.reporting import Reporting
from bot.services.incidents.views import Attachment
from storage.incidents_models import Incident

ALERT_REF_PREFIX = alert_ref(0)[:-1]  # "incident-alert:"


class GroupNotes:
    def __init__(self, ctx: Context, reporting: Reporting) -> None:
        self.ctx = ctx
        self.reporting = reporting

    def is_duty_group(self, chat_id: int) -> bool:
        return any(room.group_chat_id == chat_id for room in self.ctx.policy.duty_rooms)

    async def incident_of(self, chat_id: int, message_id: int) -> int | None:
        """The incident whose alert is message `message_id` of the duty-room group `chat_id`, if any."""
        if not self.is_duty_group(chat_id):
            return None
        async with self.ctx.uow() as uow:
            incident = await uow.incidents.by_alert_message(chat_id, message_id, ALERT_REF_PREFIX)
            return incident.id if incident else None

    async def add(
        self, actor: Actor, incident_id: int, text: str = "", attachment: Attachment | None = None
    ) -> Incident:
        """The reply's text and photo join the timeline as a note (any open state: a note changes nothing else)."""
        text = self.reporting.check_text(text, has_media=attachment is not None)
        async with self.ctx.uow() as uow:
            member = await self.ctx.member(uow, actor, incident_id)
            incident = await self.ctx.incident(uow, incident_id, lock=True)
            now = self.ctx.clock.now()
            if not await self.ctx.may_handle(uow, member, incident, now):
                await self.ctx.refuse(
                    uow, actor, incident, N_("Only the officer handling this incident or its chain can change it.")
                )
            if not incident.is_open:
                raise Conflict(N_("This incident is closed."))
            await self.ctx.note(uow, actor, incident, member, text, attachment, now, via="group")
            await uow.commit()
            return incident
