"""One-off deadlines from recorded events (E2, E6): "board resolution adopted on …", "shareholders'
meeting on 15 May", "change to filed information planned for …"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.duedates import Due
from bot.policy.deadlines import Event
from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.deadlines.people import ADMIN
from bot.services.deadlines.scheduling import SYSTEM, MemberFacing
from bot.services.deadlines.views import DeadlineView
from bot.services.errors import N_, InvalidInput, NotAllowed
from storage.deadlines_models import DeadlineEvent
from storage.models import Member
from storage.uow import UnitOfWork

MAX_DESCRIPTION = 500
EARLIEST = timedelta(days=366)  # an event may be recorded up to a year after it happened
LATEST = timedelta(days=3 * 366)  # and planned up to three years ahead
NOT_YOURS = N_("Only the members who own an event's deadlines, or administrators, can record it.")


@dataclass(frozen=True)
class EventDeadline:
    code: str
    due: Due


class EventService(MemberFacing):
    async def recordable(self, actor: Actor) -> list[Event]:
        """The events the member may record: those whose owner role they hold in the event's
        department; administrators may record every event. Refused (and audited) when there is none."""
        async with self._uow() as uow:
            member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
            events = [event for event in self._scheduler.catalogue.events() if _may_record(member, event)]
            if not events:
                await refuse(uow, self._clock, actor, "deadline_event", "-", NotAllowed(NOT_YOURS))
            return events

    async def preview(self, actor: Actor, code: str, occurred_on: date) -> list[EventDeadline]:
        """The deadlines the event would create, computed with the due-date engine; nothing is stored."""
        async with self._uow() as uow:
            event = await self._allowed(uow, actor, code)
            self._check_date(occurred_on)
            return self._deadlines(event, occurred_on)

    async def record_event(self, actor: Actor, code: str, occurred_on: date, description: str) -> list[DeadlineView]:
        description = " ".join(description.split())
        if not description:
            raise InvalidInput(N_("Please describe the event in a few words."))
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput(N_("The description is too long: at most {limit} characters."), limit=MAX_DESCRIPTION)
        async with self._uow() as uow:
            event = await self._allowed(uow, actor, code)
            self._check_date(occurred_on)
            member = await uow.members.by_telegram_id(actor.telegram_id or 0)
            assert member is not None
            now = self._clock.now()
            stored = uow.deadlines.add_event(
                DeadlineEvent(
                    kind=event.code,
                    occurred_on=occurred_on,
                    description=description,
                    department=event.department,
                    recorded_by=member.id,
                    recorded_at=now,
                )
            )
            await uow.session.flush()
            await record(uow, self._clock, actor, "deadline_event", stored.id, "recorded", actor_id=member.id,
                         kind=event.code, occurred_on=occurred_on.isoformat(), description=description)  # fmt: skip
            views = [await self._create(uow, event, stored, item, now) for item in self._deadlines(event, occurred_on)]
            await uow.commit()
            return views

    async def _create(
        self, uow: UnitOfWork, event: Event, stored: DeadlineEvent, item: EventDeadline, now: datetime
    ) -> DeadlineView:
        catalogue, texts = self._scheduler.catalogue, self._notices.texts
        spec = catalogue.get(item.code)
        assert spec is not None
        row_id = await uow.deadlines.add_if_new(
            obligation=spec.code,
            period=f"{stored.occurred_on.isoformat()}#{stored.id}",
            event_id=stored.id,
            department=spec.department,
            owner_role=spec.owner_role,
            owner_members=list(spec.owner_members),
            anchor=stored.occurred_on,
            due_at=item.due.utc,
            provisional=item.due.provisional,
            rule_hash=catalogue.digest(spec),
            state="upcoming",
            created_at=now,
        )
        row = await uow.deadlines.get(row_id or 0)
        assert row is not None
        await self._scheduler.plan(uow, row, now)
        await record(uow, self._clock, SYSTEM, "deadline", row.id, "generated", obligation=spec.code,
                     period=row.period, due=row.due_at.isoformat(), provisional=row.provisional)  # fmt: skip
        view = await self._scheduler.view(uow, row)

        def assigned(lang: str) -> str:
            text = texts.gettext(
                "📌 New deadline from the event “{event}” on {day} ({description}): {name}, due {due}.",
                lang,
                event=texts.event_name(event.code, lang),
                day=texts.day(stored.occurred_on, lang),
                description=stored.description,
                **self._notices.about(view, lang),
            )
            return text + texts.evidence_note(view, lang) + texts.provisional_note(view, lang)

        await self._notices.tell_owners(uow, now, row, view, f"dl:{row.id}:assigned", assigned)
        return view

    def _deadlines(self, event: Event, occurred_on: date) -> list[EventDeadline]:
        catalogue = self._scheduler.catalogue
        found = []
        for deadline in event.obligations:
            spec = catalogue.get(deadline.code)
            assert spec is not None
            found.append(EventDeadline(deadline.code, catalogue.due(spec, occurred_on)))
        return found

    async def _allowed(self, uow: UnitOfWork, actor: Actor, code: str) -> Event:
        member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
        event = self._scheduler.catalogue.event(code)
        if event is None:
            raise InvalidInput(N_("This kind of event is not in the policy."))
        if not _may_record(member, event):
            await refuse(uow, self._clock, actor, "deadline_event", code, NotAllowed(NOT_YOURS))
        return event

    def _check_date(self, occurred_on: date) -> None:
        today = self._clock.now().astimezone(self._scheduler.catalogue.zone).date()
        if not today - EARLIEST <= occurred_on <= today + LATEST:
            raise InvalidInput(N_("The date must lie between a year ago and three years from now."))


def _may_record(member: Member | None, event: Event) -> bool:
    if member is None or not member.active:
        return False
    return ADMIN in member.roles or (event.owner_role in member.roles and member.department == event.department)
