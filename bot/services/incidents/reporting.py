"""Reporting an incident (A1, A7): stored first — number, audit entry, outside-report deadline, timers and
alerts in one transaction — then the reporter learns the number and who was alerted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from bot.outgoing.speaker import Speaker
from bot.services.actor import Actor
from bot.services.errors import N_, Conflict, InvalidInput
from bot.services.incidents import render
from bot.services.incidents.common import Context
from bot.services.incidents.escalation import Escalation
from bot.services.incidents.external import ExternalReports
from bot.services.incidents.views import Attachment, Draft, Submitted
from bot.services.text import visible_text
from storage.incidents_models import REPORTED, Incident, IncidentMedia
from storage.models import Member
from storage.uow import UnitOfWork

MAX_TEXT = 2000
MAX_PLACE = 300
MAX_ATTACHMENTS = 10
MAX_LOSS = 10**12
MAX_AGE = timedelta(days=366)
CLOCK_SKEW = timedelta(minutes=5)


class Reporting:
    def __init__(self, ctx: Context, escalation: Escalation, external: ExternalReports) -> None:
        self.ctx = ctx
        self.escalation = escalation
        self.external = external

    # Checks shared with the wizard, so a bad answer is refused at its step ----------------------
    def check_category(self, code: str) -> None:
        try:
            self.ctx.policy.incidents.category(code)
        except KeyError:
            raise InvalidInput(N_("Unknown category: {value}."), value=code) from None

    def check_severity(self, code: str) -> None:
        try:
            self.ctx.policy.incidents.severity(code)
        except KeyError:
            raise InvalidInput(N_("Unknown severity: {value}."), value=code) from None

    @staticmethod
    def check_text(text: str, *, has_media: bool = False) -> str:
        text = visible_text(text).strip()
        if len(text) > MAX_TEXT:
            raise InvalidInput(
                N_("That is too long: at most {limit} characters (yours has {length})."),
                limit=MAX_TEXT,
                length=len(text),
            )
        if not text and not has_media:
            raise InvalidInput(N_("Describe what happened in a few words, or send a photo or voice note."))
        return text

    @staticmethod
    def check_place(text: str) -> str:
        text = " ".join(visible_text(text).split())
        if not text or len(text) > MAX_PLACE:
            raise InvalidInput(
                N_("Type the place in at most {limit} characters, or send your location."), limit=MAX_PLACE
            )
        return text

    def check_moment(self, moment: datetime) -> datetime:
        now = self.ctx.clock.now()
        if moment > now + CLOCK_SKEW:
            raise InvalidInput(N_("That time is in the future. When did it happen?"))
        if moment < now - MAX_AGE:
            raise InvalidInput(N_("That is more than a year ago. Check the date."))
        return min(moment, now)

    @staticmethod
    def check_loss(value: int) -> int:
        if not 0 <= value <= MAX_LOSS:
            raise InvalidInput(N_("Send the estimated loss in yuan as a number, e.g. 12000 or 1.2万."))
        return value

    def check(self, draft: Draft) -> None:
        self.check_category(draft.category)
        self.check_severity(draft.severity)
        self.check_text(draft.description, has_media=bool(draft.attachments))
        if draft.location_text:
            self.check_place(draft.location_text)
        self.check_moment(draft.occurred_at)
        if draft.loss_yuan is not None:
            self.check_loss(draft.loss_yuan)
        if len(draft.attachments) > MAX_ATTACHMENTS:
            raise InvalidInput(N_("At most {limit} photos or files per report."), limit=MAX_ATTACHMENTS)

    # Submitting -------------------------------------------------------------------------------
    async def submit(self, actor: Actor, draft: Draft, *, urgent: bool = False) -> Submitted:
        """Store the report and queue every alert in one transaction (A1); rule A4 is checked at once."""
        self.check(draft)
        try:
            return await self._file(actor, draft, urgent)
        except IntegrityError:
            if (filed := await self._filed_before(actor, draft)) is None:
                raise
            return filed

    async def _filed_before(self, actor: Actor, draft: Draft) -> Submitted | None:
        """The report this Submit filed already (pressed again, its answer lost): its submission key was taken.
        Found by the conflict rather than looked for first, which every report paid for (issue 15)."""
        if not draft.submission_key:
            return None
        async with self.ctx.uow() as uow:
            reporter = await self.ctx.member(uow, actor)
            filed = await uow.incidents.by_submission(draft.submission_key)
            if filed is None or filed.reporter_id != reporter.id:
                return None
            alerted = await uow.incidents.alerted_names(filed.id, 0)
            return Submitted(filed.id, filed.number, tuple(alerted), filed)

    async def _file(self, actor: Actor, draft: Draft, urgent: bool) -> Submitted:
        async with self.ctx.uow() as uow:
            reporter = await self.ctx.member(uow, actor)
            now = self.ctx.clock.now()
            incident = await self._store(uow, reporter, draft, now, urgent=urgent)
            await self.ctx.record(
                uow,
                actor,
                incident,
                "reported",
                by=reporter,
                category=incident.category,
                severity=incident.severity,
                urgent=urgent,
            )
            await self.external.mark(uow, incident, await self.external.reasons(uow, incident), actor, now)
            alerted = await self.escalation.alert_round(uow, incident, 0, now)
            await self.escalation.alert_group(uow, incident, now)
            await uow.commit()
            return Submitted(incident.id, incident.number, tuple(m.name for m in alerted), incident)

    async def _store(self, uow: UnitOfWork, reporter: Member, draft: Draft, now: datetime, *, urgent: bool) -> Incident:
        year = now.astimezone(self.ctx.policy.organisation.zone).year
        sequence = await uow.incidents.next_sequence(year)
        incident = uow.incidents.add(
            Incident(
                number=f"INC-{year}-{sequence:06d}",
                year=year,
                seq=sequence,
                category=draft.category,
                severity=draft.severity,
                department=reporter.department,
                duty_room=self.ctx.policy.incidents.category(draft.category).duty_room,
                reporter_id=reporter.id,
                description=self.check_text(draft.description, has_media=True),  # as checked and shown
                location_text=self.check_place(draft.location_text) if draft.location_text else None,
                latitude=draft.latitude,
                longitude=draft.longitude,
                loss_yuan=draft.loss_yuan,
                status=REPORTED,
                submission_key=draft.submission_key,
                details_pending=urgent,
                occurred_at=draft.occurred_at,
                reported_at=now,
                alert_round=0,
                reportable_reasons=[],
                external_missed=False,
            )
        )
        await uow.session.flush()
        for attachment in draft.attachments:
            self._add_media(uow, incident, attachment, reporter, now)
        await uow.session.flush()
        return incident

    @staticmethod
    def _add_media(uow: UnitOfWork, incident: Incident, attachment: Attachment, by: Member, now: datetime) -> None:
        uow.incidents.add_media(
            IncidentMedia(
                incident_id=incident.id, kind=attachment.kind, file_id=attachment.file_id, added_by=by.id, added_at=now
            )
        )

    # Details after an urgent report --------------------------------------------------------------
    async def amend(
        self,
        actor: Actor,
        incident_id: int,
        *,
        category: str | None = None,
        place: str | None = None,
        pin: tuple[float, float] | None = None,
        loss: int | None = None,
    ) -> Incident:
        """The reporter adds what the urgent report left out; everyone alerted sees the update."""
        async with self.ctx.uow() as uow:
            reporter = await self.ctx.member(uow, actor, incident_id)
            incident = await self.ctx.incident(uow, incident_id, lock=True)
            if incident.reporter_id != reporter.id:
                await self.ctx.refuse(uow, actor, incident, N_("Only the reporter can add details to this report."))
            if not incident.is_open:
                raise Conflict(N_("This incident is closed."))
            now = self.ctx.clock.now()
            changed = self._apply(incident, category=category, place=place, pin=pin, loss=loss)
            incident.details_pending = False
            await self.ctx.record(uow, actor, incident, "amended", by=reporter, fields=changed)
            await self.external.mark(uow, incident, await self.external.reasons(uow, incident), actor, now)
            await self._share_update(uow, incident, reporter, pin, now)
            await uow.commit()
            return incident

    def _apply(
        self,
        incident: Incident,
        *,
        category: str | None,
        place: str | None,
        pin: tuple[float, float] | None,
        loss: int | None,
    ) -> list[str]:
        changed = []
        if category is not None:
            self.check_category(category)
            incident.category, changed = category, [*changed, "category"]
        if place is not None:
            incident.location_text, changed = self.check_place(place), [*changed, "place"]
        if pin is not None:
            (incident.latitude, incident.longitude), changed = pin, [*changed, "pin"]
        if loss is not None:
            incident.loss_yuan, changed = self.check_loss(loss), [*changed, "loss"]
        return changed

    async def _share_update(
        self, uow: UnitOfWork, incident: Incident, reporter: Member, pin: tuple[float, float] | None, now: datetime
    ) -> None:
        alerted = {a.member_id for a in await uow.incidents.alerts(incident.id) if a.member_id and a.reachable}
        members = [m for m in [await uow.members.get(i) for i in sorted(alerted)] if m is not None and m.active]

        def text(w: Speaker) -> str:
            lines = render.summary_lines(w, incident, reporter.name)
            return "\n".join([w._("✏️ The reporter added details:"), *lines])

        await self.escalation.notify(uow, incident, members, text, now, purpose="amended")
        await self.escalation.post_to_group(uow, incident, text, now)
        if pin is not None:
            for member in members:
                payload = {"chat_id": member.telegram_id, "latitude": pin[0], "longitude": pin[1]}
                await uow.outbox.add(
                    key=f"incident:{incident.id}:pin:{member.id}:{now.isoformat()}",
                    chat_id=member.telegram_id,
                    method="sendLocation",
                    payload=payload,
                    now=now,
                )
