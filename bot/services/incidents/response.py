"""Answering an incident (A2, A3, A4): the first acknowledgement stops the escalation and edits every alert;
then the officer moves it through in progress → resolved → closed, adds notes and photos, hands it to another
officer, reopens it, marks it for the outside report and records the filing. Every change is on the timeline."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime

from bot.outgoing.incidents import alert_actions, details_actions
from bot.outgoing.speaker import Speaker
from bot.policy.schema import SMS
from bot.services.actor import Actor
from bot.services.errors import N_, Conflict, DomainError, InvalidInput
from bot.services.incidents import render
from bot.services.incidents.common import DUTY_OFFICER, Context
from bot.services.incidents.escalation import ESCALATE, PROVIDER_METHODS, Escalation, alert_ref
from bot.services.incidents.external import ExternalReports
from bot.services.incidents.reporting import CLOCK_SKEW, Reporting
from bot.services.incidents.views import Attachment
from storage.incidents_models import (
    ACKNOWLEDGED,
    CLOSED,
    IN_PROGRESS,
    REPORTED,
    RESOLVED,
    Incident,
)
from storage.models import Member
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

ACK, PROGRESS, RESOLVE, CLOSE, REOPEN = "ack", "prog", "res", "close", "reopen"
NOTE, REASSIGN, FLAG, FILE = "note", "reas", "flag", "file"
DUPLICATE = "dup"  # "Duplicate of…" (issue 14): handled by bot/services/incidents/duplicates.py
# action -> (statuses it may start from, status it leads to)
MOVES = {
    PROGRESS: ((ACKNOWLEDGED,), IN_PROGRESS),
    RESOLVE: ((ACKNOWLEDGED, IN_PROGRESS), RESOLVED),
    CLOSE: ((RESOLVED,), CLOSED),
    REOPEN: ((RESOLVED, CLOSED), IN_PROGRESS),
}
HANDLING = (ACKNOWLEDGED, IN_PROGRESS, RESOLVED)
MAX_BODY, MAX_REFERENCE = 200, 100


def actions_for(incident: Incident, *, may_handle: bool) -> tuple[str, ...]:
    """The buttons a member who may handle the incident sees on its card."""
    if not may_handle or incident.duplicate_of is not None:  # a duplicate is handled as the incident it joined
        return ()
    if incident.status == REPORTED:
        return (ACK, DUPLICATE)
    actions = [move for move, (sources, _target) in MOVES.items() if incident.status in sources]
    if incident.status in HANDLING:
        actions += [NOTE, REASSIGN]
    if incident.external_open:
        actions.append(FILE)
    elif incident.external_due_at is None and incident.status != CLOSED:
        actions.append(FLAG)
    if incident.status != CLOSED:
        actions.append(DUPLICATE)
    return tuple(actions)


class Response:
    def __init__(self, ctx: Context, escalation: Escalation, external: ExternalReports, reporting: Reporting) -> None:
        self.ctx = ctx
        self.escalation = escalation
        self.external = external
        self.reporting = reporting

    # Acknowledging (A2) ------------------------------------------------------------------------
    async def acknowledge(self, actor: Actor, incident_id: int) -> Incident:
        async with self.ctx.uow() as uow:
            member = await self.ctx.member(uow, actor, incident_id)
            incident = await self.ctx.incident(uow, incident_id, lock=True)
            now = self.ctx.clock.now()
            if member.id not in await self.ctx.allowed_ids(uow, incident, now):
                await self.ctx.refuse(
                    uow, actor, incident, N_("Only the officers on duty and this incident's chain can acknowledge it.")
                )
            await self.ctx.not_a_duplicate(uow, incident)
            if incident.status != REPORTED:
                first = await uow.members.get(incident.acknowledged_by or 0)
                when = self.ctx.speaker(member).moment(incident.acknowledged_at or now)
                raise Conflict(
                    N_("Already acknowledged by {name} at {moment}."), name=first.name if first else "-", moment=when
                )
            seconds = int((now - incident.reported_at).total_seconds())
            incident.status, incident.acknowledged_at, incident.acknowledged_by = ACKNOWLEDGED, now, member.id
            incident.assignee_id, incident.ack_seconds = member.id, seconds
            incident.ack_in_window = seconds <= self.ctx.policy.incidents.ack_window_minutes * 60
            await uow.timers.cancel_ref(ESCALATE, str(incident.id))
            await uow.outbox.cancel_pending(alert_ref(incident.id))
            await self.escalation.close_alerts(  # who acknowledged and when; the Acknowledge button goes (A2)
                uow,
                incident,
                now,
                why="ack",
                line=lambda w: render.acknowledged_line(w, member.name, incident),
                actions=lambda w: alert_actions(w._, incident.id, acknowledged=True),
            )
            await self.escalation.unpin_group(uow, incident, now)
            await self.ctx.record(
                uow, actor, incident, "acknowledged", by=member, seconds=seconds, in_window=incident.ack_in_window
            )
            await self.escalation.notify(
                uow,
                incident,
                await self._reporter(uow, incident),
                lambda w: w._("✅ Your report {number} was acknowledged by {name} at {moment}.").format(
                    number=incident.number, name=member.name, moment=w.moment(now)
                ),
                now,
                purpose="acknowledged",
            )
            await uow.commit()
            return incident

    async def acknowledge_by_sms(self, phone: str, text: str) -> None:
        """A reply to an SMS alert (issue 12): the sender's number names the member, the code in the text the
        incident, and the acknowledgement is authorised exactly as the button's. The member gets an SMS
        saying what happened; a number no member has is ignored (no SMS to strangers)."""
        async with self.ctx.uow() as uow:
            member = await uow.members.by_phone(phone)
        if member is None:
            log.warning("an SMS reply from a number no member has was ignored")
            return
        w = self.ctx.speaker(member)
        code = re.search(r"\d+", text)
        if code is None:
            answer = w._("Reply with the number given in the alert to acknowledge it.")
        else:
            try:
                incident = await self.acknowledge(Actor(member.telegram_id), int(code[0]))
                answer = w._("✅ {number} acknowledged. The details are in Telegram.").format(number=incident.number)
            except DomainError as error:
                answer = w.gettext(error.msgid, **error.params)
        async with self.ctx.uow() as uow:
            now = self.ctx.clock.now()
            await uow.outbox.add(
                key=f"sms-reply:{member.id}:{secrets.token_hex(6)}",
                chat_id=member.telegram_id,
                method=PROVIDER_METHODS[SMS],
                payload={"phone": phone, "text": answer, "language": w.language},
                now=now,
            )
            await uow.commit()

    # Handling (A3) ---------------------------------------------------------------------------------
    async def permit(self, actor: Actor, incident_id: int, action: str) -> Incident:
        """Before a form asks its questions: may this member do `action` to the incident now? (F3)"""
        async with self.ctx.uow() as uow:
            _member, incident = await self._handler(uow, actor, incident_id, action)
            return incident

    async def move(self, actor: Actor, incident_id: int, action: str, note: str | None = None) -> Incident:
        """in progress, resolved (with the resolution note), closed, or reopened."""
        if action not in MOVES:
            raise InvalidInput(N_("Unknown action."))
        if action == RESOLVE:
            note = self.reporting.check_text(note or "")
        async with self.ctx.uow() as uow:
            member, incident = await self._handler(uow, actor, incident_id, action)
            now = self.ctx.clock.now()
            incident.status = MOVES[action][1]
            if action == RESOLVE:
                incident.resolved_at, incident.resolution = now, note
            elif action == CLOSE:
                incident.closed_at = now
            elif action == REOPEN:
                incident.resolved_at = incident.closed_at = None
            await self.ctx.record(uow, actor, incident, "status", by=member, status=incident.status, note=note)

            def text(w: Speaker) -> str:
                lines = [
                    w._("{number} is now {status} ({name}).").format(
                        number=incident.number, status=render.status_name(w, incident.status), name=member.name
                    )
                ]
                if note:
                    lines.append(w._("Resolution: {text}").format(text=note))
                return "\n".join(lines)

            watchers = await self._reporter(uow, incident) + await self._assignee(uow, incident, but=member)
            await self.escalation.notify(
                uow,
                incident,
                watchers,
                text,
                now,
                purpose=f"status-{incident.status}",
                buttons=lambda w: details_actions(w._, incident.id),
            )
            await self.escalation.post_to_group(uow, incident, text, now)
            await uow.commit()
            return incident

    async def add_note(
        self, actor: Actor, incident_id: int, text: str = "", attachment: Attachment | None = None
    ) -> Incident:
        text = self.reporting.check_text(text, has_media=attachment is not None)
        async with self.ctx.uow() as uow:
            member, incident = await self._handler(uow, actor, incident_id, NOTE)
            await self.ctx.note(uow, actor, incident, member, text, attachment, self.ctx.clock.now())
            await uow.commit()
            return incident

    async def candidates(self, actor: Actor, incident_id: int) -> list[tuple[int, str]]:
        """Duty officers the incident can be handed to (id, name)."""
        async with self.ctx.uow() as uow:
            _member, incident = await self._handler(uow, actor, incident_id, REASSIGN)
            officers = await uow.members.with_role(DUTY_OFFICER)
            return [(m.id, m.name) for m in officers if m.id != incident.assignee_id][:30]

    async def reassign(self, actor: Actor, incident_id: int, member_id: int) -> Incident:
        async with self.ctx.uow() as uow:
            member, incident = await self._handler(uow, actor, incident_id, REASSIGN)
            target = await uow.members.get(member_id)
            if target is None or not target.active or DUTY_OFFICER not in target.roles:
                raise InvalidInput(N_("Choose an active duty officer."))
            now = self.ctx.clock.now()
            previous = await self._assignee(uow, incident, but=target)
            incident.assignee_id = target.id
            await self.ctx.record(uow, actor, incident, "reassigned", by=member, to=target.name, to_id=target.id)
            await self.escalation.notify(
                uow,
                incident,
                [target],
                lambda w: w._("📌 {name} handed {number} to you. You are now handling it.").format(
                    name=member.name, number=incident.number
                ),
                now,
                purpose="assigned",
                buttons=lambda w: details_actions(w._, incident.id),
            )
            await self.escalation.notify(
                uow,
                incident,
                [m for m in previous if m.id != member.id],
                lambda w: w._("{name} handed {number} to {assignee}.").format(
                    name=member.name, number=incident.number, assignee=target.name
                ),
                now,
                purpose="unassigned",
            )
            await uow.commit()
            return incident

    # The outside report (A4) --------------------------------------------------------------------------
    async def flag(self, actor: Actor, incident_id: int) -> Incident:
        """An officer marks an incident for the outside report by hand (A4(5): other must-report cases)."""
        async with self.ctx.uow() as uow:
            member, incident = await self._handler(uow, actor, incident_id, FLAG)
            await self.external.mark(
                uow, incident, [{"code": "manual", "by": member.name}], actor, self.ctx.clock.now()
            )
            await uow.commit()
            return incident

    async def record_filing(
        self,
        actor: Actor,
        incident_id: int,
        *,
        filed_at: datetime,
        body: str,
        reference: str,
        file_id: str | None = None,
    ) -> Incident:
        body, reference = self.check_body(body), self.check_reference(reference)
        async with self.ctx.uow() as uow:
            member, incident = await self._handler(uow, actor, incident_id, FILE)
            now = self.ctx.clock.now()
            if filed_at > now + CLOCK_SKEW or filed_at < incident.occurred_at - CLOCK_SKEW:
                raise InvalidInput(N_("The filing time must lie between the incident and now."))
            await self.external.filed(
                uow,
                incident,
                actor,
                member,
                filed_at=min(filed_at, now),
                body=body,
                reference=reference,
                file_id=file_id,
            )
            await uow.commit()
            return incident

    @staticmethod
    def check_body(text: str) -> str:
        return _one_line(text, MAX_BODY, N_("Name the body in at most {limit} characters."))

    @staticmethod
    def check_reference(text: str) -> str:
        return _one_line(text, MAX_REFERENCE, N_("Send the reference number in at most {limit} characters."))

    # Rights ---------------------------------------------------------------------------------------------
    async def _handler(self, uow: UnitOfWork, actor: Actor, incident_id: int, action: str) -> tuple[Member, Incident]:
        member = await self.ctx.member(uow, actor, incident_id)
        incident = await self.ctx.incident(uow, incident_id, lock=True)
        now = self.ctx.clock.now()
        if not await self.ctx.may_handle(uow, member, incident, now):
            await self.ctx.refuse(
                uow, actor, incident, N_("Only the officer handling this incident or its chain can change it.")
            )
        if action not in actions_for(incident, may_handle=True):
            raise Conflict(
                N_("That does not fit {number} now: it is {status}."),
                number=incident.number,
                status=render.status_name(self.ctx.speaker(member), incident.status),
            )
        return member, incident

    @staticmethod
    async def _reporter(uow: UnitOfWork, incident: Incident) -> list[Member]:
        reporter = await uow.members.get(incident.reporter_id)
        return [reporter] if reporter and reporter.active else []

    @staticmethod
    async def _assignee(uow: UnitOfWork, incident: Incident, *, but: Member) -> list[Member]:
        assignee = await uow.members.get(incident.assignee_id or 0)
        return [assignee] if assignee and assignee.active and assignee.id != but.id else []


def _one_line(text: str, limit: int, msgid: str) -> str:
    text = " ".join(text.split())
    if not text or len(text) > limit:
        raise InvalidInput(msgid, limit=limit)
    return text
