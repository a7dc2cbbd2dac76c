"""The outside report within 24 hours (A4): when an incident must be reported, its deadline, the reminders
before it, the leaders' alarm when it passes, and the officer's record of the filing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.outgoing.incidents import filing_actions
from bot.outgoing.speaker import Speaker
from bot.services.actor import Actor
from bot.services.incidents import render
from bot.services.incidents.common import LEADER, PRIMARY_STEP, Context
from bot.services.incidents.escalation import SYSTEM, Escalation
from storage.incidents_models import EXTERNAL_FILED, EXTERNAL_MISSED, EXTERNAL_OPEN, EXTERNAL_PENDING, Incident
from storage.models import Member, Timer
from storage.uow import UnitOfWork

REMINDER, DUE = "incident.external_reminder", "incident.external_due"
CARRIED_TO_PRIMARY = ("loss", "manual")  # what a duplicate's outside report hands to the incident it joins


class ExternalReports:
    def __init__(self, ctx: Context, escalation: Escalation) -> None:
        self.ctx = ctx
        self.escalation = escalation

    async def reasons(self, uow: UnitOfWork, incident: Incident) -> list[dict[str, Any]]:
        """Why the incident must be reported outside, by the rules A4(1)–(4); manual marks come from officers."""
        rules = self.ctx.policy.incidents
        found: list[dict[str, Any]] = []
        try:
            category = rules.category(incident.category)
        except KeyError:
            return found
        if category.externally_reportable:
            found.append({"code": "category"})
        if incident.loss_yuan is not None and incident.loss_yuan >= rules.loss_threshold:
            found.append({"code": "loss", "loss": incident.loss_yuan, "threshold": rules.loss_threshold})
        limit = rules.third_case.limit_for(incident.department)
        per_department = (
            rules.third_case.scope == "department" or incident.department in rules.third_case.per_department
        )
        since = incident.occurred_at - timedelta(days=limit.window_days)
        count = await uow.incidents.count_same_category(
            incident.category, since, incident.occurred_at, incident.department if per_department else None
        )
        if count >= limit.count:
            found.append({"code": "repeat", "count": count, "days": limit.window_days})
        return found

    async def mark(
        self, uow: UnitOfWork, incident: Incident, reasons: list[dict[str, Any]], actor: Actor, now: datetime
    ) -> bool:
        """Add reasons; the first one sets the deadline (occurred + 24 h) and schedules reminders. True if new."""
        known = {reason["code"] for reason in incident.reportable_reasons}
        new = [reason for reason in reasons if reason["code"] not in known]
        if not new:
            return False
        incident.reportable_reasons = [*incident.reportable_reasons, *new]
        if incident.external_due_at is None:
            settings = self.ctx.policy.incidents.external_report
            due = incident.occurred_at + timedelta(hours=settings.hours)
            incident.external_due_at, incident.external_state = due, EXTERNAL_PENDING
            for hours in settings.reminders_hours:
                if due - timedelta(hours=hours) > now:
                    await uow.timers.schedule(
                        kind=REMINDER,
                        ref=str(incident.id),
                        due_at=due - timedelta(hours=hours),
                        now=now,
                        key=f"{REMINDER}:{incident.id}:{hours}",
                    )
            await uow.timers.schedule(kind=DUE, ref=str(incident.id), due_at=max(due, now), now=now)
        await self.ctx.record(uow, actor, incident, "reportable", reasons=new, due=incident.external_due_at.isoformat())
        return True

    async def responsible(self, uow: UnitOfWork, incident: Incident, now: datetime) -> list[Member]:
        """The acknowledging officer (the assignee); before anyone acknowledged, the officer on duty, else the
        holders of the policy's responsible role in the duty room's department."""
        if incident.assignee_id is not None:
            assignee = await uow.members.get(incident.assignee_id)
            if assignee is not None and assignee.active:
                return [assignee]
        on_duty = await self.ctx.step_members(uow, incident, PRIMARY_STEP, now)
        if on_duty:
            return on_duty
        role = self.ctx.policy.incidents.external_report.responsible_role
        try:
            department = self.ctx.policy.duty_room(incident.duty_room).department
        except KeyError:
            department = None
        return list(await uow.members.with_role(role, department))

    async def on_reminder(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        incident = await uow.incidents.get(int(timer.ref), lock=True)
        if incident is None or incident.external_state != EXTERNAL_PENDING or incident.external_due_at is None:
            return
        hours = int(timer.key.rsplit(":", 1)[1])
        members = await self.responsible(uow, incident, now)
        due = incident.external_due_at

        def text(w: Speaker) -> str:
            return w._(
                "⏰ {number} must be reported outside by {due} — {hours} h left ({reasons}). Record the "
                "filing when done."
            ).format(
                number=incident.number,
                due=w.moment(due),
                hours=hours,
                reasons=render.reasons_text(w, incident.reportable_reasons),
            )

        await self.escalation.notify(
            uow,
            incident,
            members,
            text,
            now,
            purpose=f"reminder:{hours}",
            buttons=lambda w: filing_actions(w._, incident.id),
        )
        await self.ctx.record(uow, SYSTEM, incident, "reminder", hours=hours, to=[m.name for m in members])

    async def on_due(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """The deadline passed without a filing: the incident is marked missed and the leaders are alerted."""
        incident = await uow.incidents.get(int(timer.ref), lock=True)
        if incident is None or incident.external_state != EXTERNAL_PENDING or incident.external_due_at is None:
            return
        incident.external_state, incident.external_missed = EXTERNAL_MISSED, True
        leaders = list(await uow.members.with_role(LEADER))
        members = leaders + await self.responsible(uow, incident, now)
        due = incident.external_due_at

        def text(w: Speaker) -> str:
            return w._("❗ {number}: the outside report was due by {due} and has not been filed ({reasons}).").format(
                number=incident.number, due=w.moment(due), reasons=render.reasons_text(w, incident.reportable_reasons)
            )

        await self.escalation.notify(
            uow,
            incident,
            members,
            text,
            now,
            purpose="external_missed",
            buttons=lambda w: filing_actions(w._, incident.id),
        )
        await self.ctx.record(uow, SYSTEM, incident, "external_missed")

    async def filed(
        self,
        uow: UnitOfWork,
        incident: Incident,
        actor: Actor,
        member: Member,
        *,
        filed_at: datetime,
        body: str,
        reference: str,
        file_id: str | None,
    ) -> None:
        """The officer's record of the filing closes the deadline; a late filing stays counted as missed."""
        incident.external_state, incident.external_filed_at = EXTERNAL_FILED, filed_at
        incident.external_body, incident.external_reference, incident.external_file_id = body, reference, file_id
        await uow.timers.cancel_ref(REMINDER, str(incident.id))
        await uow.timers.cancel_ref(DUE, str(incident.id))
        await self.ctx.record(
            uow,
            actor,
            incident,
            "external_filed",
            by=member,
            body=body,
            reference=reference,
            filed_at=filed_at.isoformat(),
            file=bool(file_id),
        )

    # Linked reports (issue 14) ------------------------------------------------------------------------
    async def withdraw(
        self, uow: UnitOfWork, incident: Incident, actor: Actor, now: datetime, *, why: str, drop: tuple[str, ...]
    ) -> None:
        """Take back reasons that no longer hold (`drop`: reason codes; empty: all of them). With none left, the
        deadline goes too — a false deadline is not counted as met or missed — its timers are cancelled, and
        the officers who were reminded of it are told. The audit entry says why (`why`: duplicate | recount)."""
        if incident.external_state not in EXTERNAL_OPEN:
            return
        dropped = [r for r in incident.reportable_reasons if not drop or r["code"] in drop]
        kept = [r for r in incident.reportable_reasons if r not in dropped]
        if not dropped:
            return
        incident.reportable_reasons = kept
        if kept:
            await self.ctx.record(uow, actor, incident, "reasons_withdrawn", why=why, reasons=dropped)
            return
        members = await self.responsible(uow, incident, now)
        incident.external_due_at, incident.external_state, incident.external_missed = None, None, False
        await uow.timers.cancel_ref(REMINDER, str(incident.id))
        await uow.timers.cancel_ref(DUE, str(incident.id))
        await self.ctx.record(uow, actor, incident, "external_withdrawn", why=why, reasons=dropped)

        def text(w: Speaker) -> str:
            return w._("📤 {number} no longer has to be reported outside: {why}. Its deadline is withdrawn.").format(
                number=incident.number, why=render.withdrawal_text(w, why)
            )

        await self.escalation.notify(uow, incident, members, text, now, purpose="external_withdrawn")
