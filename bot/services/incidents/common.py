"""What every incident service shares: its dependencies, a member's language, and who may do what.

Rights (F3) are decided here from the database on every call:
- acknowledging is open to the members the chain or the roster allows: everyone alerted so far, the officers
  on duty in the incident's duty room now, and every member of the category's chain steps (A2);
- handling (status, notes, reassignment, the outside report) is open to the assignee and to the same members;
- reading an incident is open to those, to its reporter, to duty officers, leaders and administrators, and to
  department heads for incidents of their department and the departments below it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol

from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.outgoing.ids import MAX_ROW_ID
from bot.outgoing.speaker import Speaker, Speakers
from bot.policy import Policy
from bot.policy.schema import step_channel, step_role
from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.errors import N_, Conflict, NotAllowed, NotFound
from bot.services.incidents.views import Attachment
from bot.services.members import ADMIN
from storage.incidents_models import Incident, IncidentMedia
from storage.models import Member
from storage.uow import UnitOfWork, UnitOfWorkFactory

DUTY_OFFICER, DEPARTMENT_HEAD, LEADER = "duty_officer", "department_head", "leader"
SEE_EVERY_INCIDENT = (DUTY_OFFICER, LEADER, ADMIN)
MANAGERS = (DEPARTMENT_HEAD, LEADER, ADMIN)
PRIMARY_STEP, BACKUP_STEP = "on_duty_primary", "on_duty_backup"
ENTITY = "incident"


class OnDutyLike(Protocol):
    primary: tuple[Member, ...]
    backup: tuple[Member, ...]


class RosterLike(Protocol):
    async def on_duty_in(self, uow: UnitOfWork, room: str, at: datetime) -> OnDutyLike: ...


@dataclass
class Context:
    uow: UnitOfWorkFactory
    clock: Clock
    policy: Policy
    i18n: I18n
    roster: RosterLike | None  # None: no roster flow (the command line)

    @cached_property
    def speakers(self) -> Speakers:
        return Speakers(self.i18n, self.policy)

    def speaker(self, member: Member | None = None, language: str | None = None) -> Speaker:
        """Texts in ``language``, else in the member's, else in the organisation's."""
        return self.speakers.in_language(language) if language else self.speakers.to(member)

    def steps(self, incident: Incident) -> tuple[str, ...]:
        """The primary on duty first, then the category's chain (A2)."""
        try:
            chain = self.policy.incidents.chain_for(incident.category)
        except KeyError:  # a category removed from the policy since: fall back to the default chain
            chain = self.policy.incidents.chains.get("default", ())
        return (PRIMARY_STEP, *chain)

    async def step_members(self, uow: UnitOfWork, incident: Incident, step: str, now: datetime) -> list[Member]:
        """Who a chain step means right now (active members only), whatever channel reaches them."""
        step = step_channel(step)[1]
        if step in (PRIMARY_STEP, BACKUP_STEP):
            if self.roster is None:
                return []
            try:
                duty = await self.roster.on_duty_in(uow, incident.duty_room, now)
            except KeyError:
                return []
            return list(duty.primary if step == PRIMARY_STEP else duty.backup)
        if step == DEPARTMENT_HEAD:  # the incident's department, else the nearest parent with a head
            try:
                departments = self.policy.parent_chain(incident.department)
            except KeyError:
                departments = ()
            for department in departments:
                heads = await uow.members.with_role(DEPARTMENT_HEAD, department.code)
                if heads:
                    return list(heads)
            return []
        role = step_role(step)
        return list(await uow.members.with_role(role)) if role else []

    # Rights (F3) ------------------------------------------------------------------------------
    async def member(self, uow: UnitOfWork, actor: Actor, entity_id: str | int = "-") -> Member:
        """The active member behind the actor; refuses (and audits) anyone else."""
        member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
        if member is None or not member.active:
            await refuse(uow, self.clock, actor, ENTITY, entity_id, NotAllowed(N_("Only members can do this.")))
        return member

    async def incident(self, uow: UnitOfWork, incident_id: int, *, lock: bool = False) -> Incident:
        # a typed id beyond the id column would fail the query, not find nothing
        incident = await uow.incidents.get(incident_id, lock=lock) if 0 < incident_id <= MAX_ROW_ID else None
        if incident is None:
            raise NotFound(N_("This incident does not exist."))
        return incident

    async def note(
        self,
        uow: UnitOfWork,
        actor: Actor,
        incident: Incident,
        by: Member,
        text: str,
        attachment: Attachment | None,
        now: datetime,
        **context: Any,
    ) -> None:
        """A note on the timeline (A3): its photo or file joins the incident's media, its text the audit."""
        if attachment is not None:
            media = IncidentMedia(
                incident_id=incident.id, kind=attachment.kind, file_id=attachment.file_id, added_by=by.id, added_at=now
            )
            uow.incidents.add_media(media)
            await self.record(uow, actor, incident, "media", by=by, kind=attachment.kind, **context)
        if text:
            await self.record(uow, actor, incident, "note", by=by, text=text, **context)

    @staticmethod
    async def not_a_duplicate(uow: UnitOfWork, incident: Incident) -> None:
        """A report marked as a duplicate lives on in the incident it joined (issue 14): nothing more on it."""
        if incident.duplicate_of is not None:
            joined = await uow.incidents.get(incident.duplicate_of)
            raise Conflict(
                N_("{number} is already marked as a duplicate of {other}."),
                number=incident.number,
                other=joined.number if joined else "-",
            )

    async def allowed_ids(self, uow: UnitOfWork, incident: Incident, now: datetime) -> set[int]:
        """Members the chain or the roster allows to acknowledge and handle the incident (A2, F3)."""
        allowed = {alert.member_id for alert in await uow.incidents.alerts(incident.id) if alert.member_id}
        for step in {*self.steps(incident), BACKUP_STEP}:
            allowed.update(member.id for member in await self.step_members(uow, incident, step, now))
        return allowed

    async def may_handle(self, uow: UnitOfWork, member: Member, incident: Incident, now: datetime) -> bool:
        return member.id == incident.assignee_id or member.id in await self.allowed_ids(uow, incident, now)

    async def may_view(self, uow: UnitOfWork, member: Member, incident: Incident, now: datetime) -> bool:
        if member.id == incident.reporter_id or member.roles & set(SEE_EVERY_INCIDENT):
            return True
        departments = self.departments_seen(member)
        if departments is None or incident.department in departments:
            return True
        return await self.may_handle(uow, member, incident, now)

    def departments_seen(self, member: Member) -> list[str] | None:
        """None: every department; else the departments whose incidents and figures the member may see."""
        if member.roles & {LEADER, ADMIN}:
            return None
        if DEPARTMENT_HEAD in member.roles:
            return self.subtree(member.department)
        return []

    def subtree(self, code: str) -> list[str]:
        found = []
        for department in self.policy.departments:
            try:
                if code in (d.code for d in self.policy.parent_chain(department.code)):
                    found.append(department.code)
            except KeyError:
                continue
        return found

    async def refuse(
        self, uow: UnitOfWork, actor: Actor, incident: Incident | int | str, msgid: str, **params: Any
    ) -> None:
        entity_id = incident.id if isinstance(incident, Incident) else incident
        await refuse(uow, self.clock, actor, ENTITY, entity_id, NotAllowed(msgid, **params))

    async def record(
        self, uow: UnitOfWork, actor: Actor, incident: Incident, action: str, by: Member | None = None, **details: Any
    ) -> None:
        """An entry of the incident's timeline: the audit log is the timeline (F1)."""
        if by is not None:
            details["by"] = by.name
        await record(uow, self.clock, actor, ENTITY, incident.id, action, actor_id=by.id if by else None, **details)

    async def administrators(self, uow: UnitOfWork) -> Sequence[Member]:
        return await uow.members.with_role(ADMIN)


def names(members: Iterable[Member]) -> list[str]:
    return [member.name for member in members]
