"""Linked reports (issue 14; A1, A2, A4(4)): three people reporting one theft are one incident.

An officer who may handle a report marks it as a duplicate of another ("Duplicate of…" on the alert: a
suggested or open incident, or a typed number). In one transaction the duplicate is closed and joins the
other incident's timeline, its escalation stops (timers cancelled, unsent alerts dropped, sent alerts
edited, its group alert unpinned), its reporter is told, and it no longer counts for A4(4): an outside-report
deadline that only its count started — on itself or on a later report of the window — is withdrawn with an
audit entry. A loss or an officer's mark that made the duplicate reportable passes to the incident it joins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.outgoing.incidents import details_actions
from bot.outgoing.speaker import Speaker
from bot.services.actor import Actor
from bot.services.errors import N_, Conflict, InvalidInput
from bot.services.incidents import render
from bot.services.incidents.common import Context
from bot.services.incidents.escalation import ESCALATE, Escalation, alert_ref
from bot.services.incidents.external import CARRIED_TO_PRIMARY, ExternalReports
from bot.services.incidents.similar import Similar, similar
from storage.incidents_models import CLOSED, Incident
from storage.models import Member
from storage.uow import UnitOfWork

MAX_OTHERS = 8
NUMBER = re.compile(r"INC-(\d{4})-(\d{1,9})")
MAX_CHAIN = 50  # duplicates of duplicates are re-pointed, so a chain is one link long; a guard all the same


@dataclass(frozen=True)
class DuplicateChoices:
    """What the officer picks from: the report, the suggested incidents, then other open ones of its room."""

    incident_id: int
    number: str
    suggested: tuple[Similar, ...]
    others: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Marked:
    duplicate: Incident
    primary: Incident


class Duplicates:
    def __init__(self, ctx: Context, escalation: Escalation, external: ExternalReports) -> None:
        self.ctx = ctx
        self.escalation = escalation
        self.external = external

    async def choices(self, actor: Actor, incident_id: int) -> DuplicateChoices:
        """Before the picker opens: may this member mark the report (F3), and what to offer."""
        async with self.ctx.uow() as uow:
            _member, incident = await self._markable(uow, actor, incident_id)
            suggested = await similar(uow, self.ctx.policy, incident)
            shown = {s.incident_id for s in suggested}
            others = await uow.incidents.recent_open_in_room(incident.duty_room, incident.id, MAX_OTHERS + len(shown))
            rest = tuple((o.id, o.number) for o in others if o.id not in shown)[:MAX_OTHERS]
            return DuplicateChoices(incident.id, incident.number, tuple(suggested), rest)

    async def mark(
        self, actor: Actor, incident_id: int, *, primary_id: int | None = None, number: str | None = None
    ) -> Marked:
        """Mark `incident_id` as a duplicate of the incident `primary_id` (a button) or `number` (typed)."""
        async with self.ctx.uow() as uow:
            member, duplicate = await self._markable(uow, actor, incident_id)
            primary = await self._primary(uow, duplicate, primary_id, number)
            now = self.ctx.clock.now()
            if not await self.ctx.may_view(uow, member, primary, now):
                await self.ctx.refuse(uow, actor, primary, N_("This incident is not yours to see."))
            await self._link(uow, actor, member, duplicate, primary, now)
            await uow.commit()
            return Marked(duplicate, primary)

    # Rights and the other incident --------------------------------------------------------------------
    async def _markable(self, uow: UnitOfWork, actor: Actor, incident_id: int) -> tuple[Member, Incident]:
        member = await self.ctx.member(uow, actor, incident_id)
        incident = await self.ctx.incident(uow, incident_id, lock=True)
        now = self.ctx.clock.now()
        if not await self.ctx.may_handle(uow, member, incident, now):
            await self.ctx.refuse(
                uow, actor, incident, N_("Only the officer handling this incident or its chain can change it.")
            )
        await self.ctx.not_a_duplicate(uow, incident)
        if incident.status == CLOSED:
            raise Conflict(
                N_("{number} is closed; a closed incident is not marked as a duplicate."), number=incident.number
            )
        return member, incident

    async def _primary(
        self, uow: UnitOfWork, duplicate: Incident, primary_id: int | None, number: str | None
    ) -> Incident:
        if primary_id is not None:
            primary = await self.ctx.incident(uow, primary_id)
        else:
            primary = await uow.incidents.by_number(self._number(number or "", duplicate.year))
            if primary is None:
                raise InvalidInput(N_("No incident with that number. Numbers look like INC-2026-000123."))
        for _ in range(MAX_CHAIN):  # a duplicate's duplicate joins the first report
            if primary.duplicate_of is None:
                break
            primary = await self.ctx.incident(uow, primary.duplicate_of)
        if primary.id == duplicate.id:
            raise InvalidInput(N_("A report cannot be a duplicate of itself. Choose another incident."))
        return primary

    @staticmethod
    def _number(text: str, year: int) -> str:
        """INC-2026-000123, or just the sequence (123) of the report's own year."""
        text = "".join(text.split()).upper()
        found = NUMBER.fullmatch(text)
        if found:
            return f"INC-{found[1]}-{int(found[2]):06d}"
        if text.isdigit() and len(text) <= 9:
            return f"INC-{year}-{int(text):06d}"
        raise InvalidInput(N_("Send the incident's number, e.g. INC-2026-000123, or tap one of the incidents."))

    # The change, in the caller's transaction ------------------------------------------------------------
    async def _link(
        self, uow: UnitOfWork, actor: Actor, member: Member, duplicate: Incident, primary: Incident, now: datetime
    ) -> None:
        duplicate.duplicate_of, duplicate.duplicate_marked_at = primary.id, now
        duplicate.status, duplicate.closed_at = CLOSED, now
        await self.ctx.record(uow, actor, duplicate, "marked_duplicate", by=member, of=primary.number, of_id=primary.id)
        reporter = await uow.members.get(duplicate.reporter_id)
        followers = await uow.incidents.duplicates_of(duplicate.id)  # its own duplicates follow it
        for joined in (duplicate, *followers):
            joined.duplicate_of = primary.id
            who = await uow.members.get(joined.reporter_id)
            await self.ctx.record(
                uow,
                actor,
                primary,
                "duplicate_joined",
                by=member,
                number=joined.number,
                reporter=who.name if who else "-",
                text=joined.description[:300],
            )
        await self._stop_escalation(uow, duplicate, member, primary, now)
        await self._outside_report(uow, actor, duplicate, primary, now)
        await self._tell(uow, duplicate, primary, member, reporter, now)

    async def _stop_escalation(
        self, uow: UnitOfWork, duplicate: Incident, by: Member, primary: Incident, now: datetime
    ) -> None:
        """No further step is alerted, unsent alerts are dropped, and each alert already sent says so (A2)."""
        await uow.timers.cancel_ref(ESCALATE, str(duplicate.id))
        await uow.outbox.cancel_pending(alert_ref(duplicate.id))
        await self.escalation.close_alerts(
            uow,
            duplicate,
            now,
            why="dup",
            line=lambda w: render.duplicate_line(w, by.name, primary),
            actions=lambda w: details_actions(w._, duplicate.id),
        )
        await self.escalation.unpin_group(uow, duplicate, now)

    async def _outside_report(
        self, uow: UnitOfWork, actor: Actor, duplicate: Incident, primary: Incident, now: datetime
    ) -> None:
        """A4(4) counts cases, not reports: the duplicate's own deadline goes (its loss or a manual mark passes
        to the incident it joins), and every later report of the category whose count it made is recounted."""
        carried = [r for r in duplicate.reportable_reasons if r.get("code") in CARRIED_TO_PRIMARY]
        await self.external.withdraw(uow, duplicate, actor, now, why="duplicate", drop=())
        if carried:
            await self.external.mark(uow, primary, carried, actor, now)
        rules = self.ctx.policy.incidents.third_case
        days = max([rules.window_days, *(limit.window_days for limit in rules.per_department.values())])
        for later in await uow.incidents.counted_by_repeat(duplicate.category, duplicate.occurred_at):
            if later.id == duplicate.id or later.occurred_at > duplicate.occurred_at + timedelta(days=days):
                continue
            if not any(r.get("code") == "repeat" for r in later.reportable_reasons):
                continue
            if any(r.get("code") == "repeat" for r in await self.external.reasons(uow, later)):
                continue  # still the n-th case without the duplicate
            await self.external.withdraw(uow, later, actor, now, why="recount", drop=("repeat",))

    async def _tell(
        self,
        uow: UnitOfWork,
        duplicate: Incident,
        primary: Incident,
        by: Member,
        reporter: Member | None,
        now: datetime,
    ) -> None:
        def to_reporter(w: Speaker) -> str:
            return w._(
                "🔗 Your report {number} is the same incident as {other}, which was reported already; {name} "
                "linked them and it is handled there. Thank you for reporting."
            ).format(number=duplicate.number, other=primary.number, name=by.name)

        if reporter is not None and reporter.active:
            await self.escalation.notify(uow, duplicate, [reporter], to_reporter, now, purpose="duplicate")

        def to_group(w: Speaker) -> str:
            return w._("🔗 {number} is a duplicate of {other} ({name}).").format(
                number=duplicate.number, other=primary.number, name=by.name
            )

        await self.escalation.post_to_group(uow, duplicate, to_group, now)
