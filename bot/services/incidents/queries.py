"""Reading incidents: the card with its timeline, lists (paginated), figures for a period (SQL aggregates),
the rows of an export, and what a shift handover and a deactivation need to know (A5, B2, F3)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy.sql.elements import ColumnElement

from bot.services.actor import Actor
from bot.services.errors import N_, InvalidInput, NotFound
from bot.services.incidents import render
from bot.services.incidents.common import DUTY_OFFICER, ENTITY, MANAGERS, SEE_EVERY_INCIDENT, Context
from bot.services.incidents.response import actions_for
from bot.services.incidents.views import PAGE_SIZE, Figures, IncidentCard, OpenItem, Page, TimelineEntry
from storage.incidents_models import OPEN_STATUSES, Incident
from storage.models import Member
from storage.uow import UnitOfWork

EXPORT_BATCH = 500
MAX_PERIOD_DAYS = 3660


class Queries:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # One incident --------------------------------------------------------------------------------
    async def card(self, actor: Actor, *, incident_id: int | None = None, number: str | None = None) -> IncidentCard:
        """/incident INC-… and the Details button: the facts, the timeline, and what this member may do."""
        async with self.ctx.uow() as uow:
            member = await self.ctx.member(uow, actor, incident_id or number or "-")
            incident = await self._find(uow, incident_id, number)
            now = self.ctx.clock.now()
            if not await self.ctx.may_view(uow, member, incident, now):
                await self.ctx.refuse(uow, actor, incident, N_("This incident is not yours to see."))
            may_handle = await self.ctx.may_handle(uow, member, incident, now)
            return await self._card(uow, incident, actions_for(incident, may_handle=may_handle))

    async def _find(self, uow: UnitOfWork, incident_id: int | None, number: str | None) -> Incident:
        incident = None
        if incident_id is not None:
            incident = await uow.incidents.get(incident_id)
        elif number:
            incident = await uow.incidents.by_number(number.strip().upper())
        if incident is None:
            raise NotFound(N_("No incident with that number. Numbers look like INC-2026-000123."))
        return incident

    async def _card(
        self, uow: UnitOfWork, incident: Incident, actions: tuple[str, ...], *, links: bool = True
    ) -> IncidentCard:
        entries = [e for e in await uow.audit.for_entity(ENTITY, incident.id) if e.action != "refused"]
        return IncidentCard(
            incident=incident,
            reporter=await self._name(uow, incident.reporter_id) or "-",
            acknowledged_by=await self._name(uow, incident.acknowledged_by),
            assignee=await self._name(uow, incident.assignee_id),
            media=len(await uow.incidents.media(incident.id)),
            timeline=tuple(TimelineEntry(e.at, e.action, dict(e.details)) for e in entries),
            actions=actions,
            duplicate_of=await self._number(uow, incident.duplicate_of),
            duplicates=tuple(d.number for d in await uow.incidents.duplicates_of(incident.id)) if links else (),
        )

    @staticmethod
    async def _number(uow: UnitOfWork, incident_id: int | None) -> str | None:
        other = await uow.incidents.get(incident_id) if incident_id else None
        return other.number if other else None

    @staticmethod
    async def _name(uow: UnitOfWork, member_id: int | None) -> str | None:
        member = await uow.members.get(member_id) if member_id else None
        return member.name if member else None

    # Lists -----------------------------------------------------------------------------------------
    async def open_incidents(self, actor: Actor, page: int = 0) -> Page:
        """/incidents: open incidents for duty officers and managers (department heads: their departments)."""
        async with self.ctx.uow() as uow:
            member = await self.ctx.member(uow, actor)
            if not member.roles & {DUTY_OFFICER, *MANAGERS}:
                await self.ctx.refuse(uow, actor, "-", N_("Only duty officers and managers can list open incidents."))
            where = [Incident.status.in_(OPEN_STATUSES), *self._scope(member)]
            return await self._page(uow, where, page)

    async def my_reports(self, actor: Actor, page: int = 0) -> Page:
        async with self.ctx.uow() as uow:
            member = await self.ctx.member(uow, actor)
            return await self._page(uow, [Incident.reporter_id == member.id], page)

    @staticmethod
    async def _page(uow: UnitOfWork, where: list[ColumnElement[bool]], page: int) -> Page:
        page = max(page, 0)
        rows, total = await uow.incidents.page(where, page * PAGE_SIZE, PAGE_SIZE)
        return Page(tuple(rows), total, page)

    def _scope(self, member: Member) -> list[ColumnElement[bool]]:
        if member.roles & set(SEE_EVERY_INCIDENT):
            return []
        departments = self.ctx.departments_seen(member)
        return [] if departments is None else [Incident.department.in_(departments)]

    # Figures and exports (A5) -----------------------------------------------------------------------------
    async def figures(self, actor: Actor, start: datetime, end: datetime) -> Figures:
        """/stats: everything computed by the database over incidents that occurred in [start, end)."""
        self._check_period(start, end)
        async with self.ctx.uow() as uow:
            where = await self._manager_scope(uow, actor, start, end)
        async with self.ctx.uow.reading() as uow:  # a year's figures take a while: off the bot's connection
            counts = await uow.incidents.breakdown(where)
            summary, acknowledged = counts.summary, counts.summary["acknowledged"]
            median, p90 = await uow.incidents.ack_percentiles(where, (0.5, 0.9), acknowledged)
            return Figures(
                start=start,
                end=end,
                total=summary["total"],
                by_category=counts.by_category,
                by_department=counts.by_department,
                acknowledged=acknowledged,
                in_window=summary["in_window"],
                median_seconds=median,
                p90_seconds=p90,
                external={k: summary[k] for k in ("reportable", "met", "missed", "late", "pending")},
                duplicates=summary["duplicates"],
            )

    async def check_manager(self, actor: Actor) -> None:
        """Before the period is asked for: only managers get figures and exports."""
        async with self.ctx.uow() as uow:
            await self._manager(uow, actor)

    async def export(self, actor: Actor, start: datetime, end: datetime) -> AsyncIterator[tuple[IncidentCard, ...]]:
        """The incidents of a period with their timelines, in batches (the command line passes its own actor)."""
        self._check_period(start, end)
        after = 0
        while True:
            async with self.ctx.uow() as uow:  # roles checked again for each batch (F3)
                where = await self._manager_scope(uow, actor, start, end)
            async with self.ctx.uow.reading() as uow:
                rows = await uow.incidents.in_period(where, after, EXPORT_BATCH)
                cards = tuple([await self._card(uow, row, (), links=False) for row in rows])
            if not cards:
                return
            yield cards
            after = cards[-1].incident.id

    async def _manager(self, uow: UnitOfWork, actor: Actor) -> Member | None:
        if actor.is_command_line:
            return None
        member = await self.ctx.member(uow, actor)
        if not member.roles & set(MANAGERS):
            await self.ctx.refuse(uow, actor, "-", N_("Only managers can see figures and exports."))
        return member

    async def _manager_scope(
        self, uow: UnitOfWork, actor: Actor, start: datetime, end: datetime
    ) -> list[ColumnElement[bool]]:
        member = await self._manager(uow, actor)
        where = [Incident.occurred_at >= start, Incident.occurred_at < end]
        departments = self.ctx.departments_seen(member) if member else None
        return where if departments is None else [*where, Incident.department.in_(departments)]

    @staticmethod
    def _check_period(start: datetime, end: datetime) -> None:
        if end <= start or (end - start).days > MAX_PERIOD_DAYS:
            raise InvalidInput(N_("Choose a period whose first day comes before its last, at most ten years long."))

    # For other flows -------------------------------------------------------------------------------------
    async def open_items_for_room(self, uow: UnitOfWork, room: str) -> list[OpenItem]:
        """Open incidents of a duty room and its pending outside reports, inside the caller's unit of work:
        what the incoming officer must know at shift change (B2)."""
        return [
            OpenItem(
                i.id, i.number, i.category, i.status, i.description, i.external_due_at if i.external_open else None
            )
            for i in await uow.incidents.open_in_room(room)
        ]

    async def handover_lines(self, uow: UnitOfWork, room: str, language: str) -> list[str]:
        """The roster's handover message asks every flow for its lines (bot/services/roster.py)."""
        w = self.ctx.speaker(language=language)
        lines = []
        for item in await self.open_items_for_room(uow, room):
            line = f"{item.number} · {w.category(item.category)} · {render.status_name(w, item.status)}"
            if item.external_due_at is not None:
                line += " · " + w._("outside report due by {due}").format(due=w.moment(item.external_due_at))
            lines.append(line)
        return lines

    async def deactivation_blockers(self, uow: UnitOfWork, member: Member, _language: str) -> list[str]:
        """B2: a member still handling open incidents is not deactivated until they are handed over."""
        return [incident.number for incident in await uow.incidents.open_assigned_to(member.id)]
