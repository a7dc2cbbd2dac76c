"""Reporting deadlines (RULES.md E1–E6, A5): recurring and event-driven obligations on the working-day
calendar, reminders, late and missed escalation, timeliness figures and the calendar export.

``DeadlinesFlow.build`` wires the parts; ``bot.flows.deadlines.install`` plugs them into the app."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.policy import Policy
from bot.services.deadlines.catalogue import Catalogue
from bot.services.deadlines.events import EventService
from bot.services.deadlines.notices import Notices
from bot.services.deadlines.people import People
from bot.services.deadlines.scheduling import DeadlineScheduler
from bot.services.deadlines.service import DeadlineService
from bot.services.deadlines.timeliness import TallyRow, TimelinessService, TimelinessSource
from bot.services.deadlines.views import DeadlineTexts
from storage.uow import UnitOfWorkFactory

__all__ = ["DeadlinesFlow", "TallyRow", "TimelinessSource"]


@dataclass(frozen=True)
class DeadlinesFlow:
    scheduler: DeadlineScheduler
    service: DeadlineService
    events: EventService
    timeliness: TimelinessService
    texts: DeadlineTexts

    @classmethod
    def build(cls, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, i18n: I18n) -> DeadlinesFlow:
        catalogue = Catalogue(policy)
        people = People(policy)
        texts = DeadlineTexts(i18n, policy, catalogue)
        notices = Notices(texts, people)
        scheduler = DeadlineScheduler(catalogue, people, notices, clock, policy)
        return cls(
            scheduler,
            DeadlineService(uow, clock, scheduler, people, notices),
            EventService(uow, clock, scheduler, people, notices),
            TimelinessService(uow, clock, policy, catalogue, people, notices),
            texts,
        )
