"""What the deadlines flow shows: plain views of instances, and their texts in any member's language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from aiogram.utils.i18n import I18n
from babel.dates import format_skeleton

from bot.i18n import babel_locale
from bot.outgoing.speaker import Speakers
from bot.policy import Policy
from bot.services.deadlines.catalogue import Catalogue
from storage.deadlines_models import DeadlineEvent, DeadlineInstance

STATE_ICONS = {"upcoming": "⏳", "late": "⚠️", "missed": "❌", "done": "✅", "withdrawn": "▫️"}
EVENT_TEXT_SHOWN = 60  # characters of an event's description shown in one-line summaries


@dataclass(frozen=True, slots=True)
class DeadlineView:
    id: int
    code: str
    period: str
    department: str
    due_at: datetime
    effective_due: datetime
    provisional: bool
    state: str
    outcome: str | None
    extended: bool
    evidence_required: bool
    event_on: date | None
    event_text: str | None

    @classmethod
    def of(cls, row: DeadlineInstance, evidence_required: bool, event: DeadlineEvent | None = None) -> DeadlineView:
        return cls(
            row.id,
            row.obligation,
            row.period,
            row.department,
            row.due_at,
            row.effective_due,
            row.provisional,
            row.state,
            row.outcome,
            row.extended_due is not None,
            evidence_required,
            event.occurred_on if event else None,
            event.description if event else None,
        )


class DeadlineTexts:
    """The deadlines flow's phrases in a given language: services use it for messages to other members
    (each in their own language), handlers for the member they answer. The words themselves come
    from that language's `Speaker`."""

    def __init__(self, i18n: I18n, policy: Policy, catalogue: Catalogue) -> None:
        self.speakers = Speakers(i18n, policy)
        self._catalogue = catalogue

    def gettext(self, msgid: str, language: str, **params: object) -> str:
        """``msgid`` in ``language``, formatted; named so that the catalogue extractor finds the message ids."""
        return self.speakers.in_language(language).gettext(msgid, **params)

    def name(self, code: str, language: str) -> str:
        spec = self._catalogue.get(code)
        return spec.name.get(language) if spec else code

    def event_name(self, code: str, language: str) -> str:
        event = self._catalogue.event(code)
        return event.name.get(language) if event else code

    def department(self, code: str, language: str) -> str:
        return self.speakers.in_language(language).department(code)

    def moment(self, moment: datetime, language: str) -> str:
        return self.speakers.in_language(language).moment(moment)

    def day(self, day: date, language: str) -> str:
        """A day in the style of ``format_moment``: "9 Oct 2025", "2025年10月9日"."""
        return self.speakers.in_language(language).day(day)

    def period(self, view: DeadlineView, language: str) -> str:
        """The period's name ("September 2025", "2025年第3季度", "fiscal year 2025"), or the event's day
        and description."""
        if view.event_on is not None:
            text = view.event_text or ""
            short = text if len(text) <= EVENT_TEXT_SHOWN else text[: EVENT_TEXT_SHOWN - 1] + "…"
            return f"{self.day(view.event_on, language)} · {short}" if short else self.day(view.event_on, language)
        return self.period_label(view.period, language)

    def period_label(self, label: str, language: str) -> str:
        locale = babel_locale(language)
        if match := re.fullmatch(r"(\d{4})-(\d{2})", label):
            return format_skeleton("yMMMM", date(int(match[1]), int(match[2]), 1), locale=locale)
        if match := re.fullmatch(r"(\d{4})-Q([1-4])", label):
            return format_skeleton("yQQQ", date(int(match[1]), 3 * int(match[2]), 1), locale=locale)
        if match := re.fullmatch(r"(\d{4})-H([12])", label):
            if match[2] == "1":
                return self.gettext("first half of {year}", language, year=match[1])
            return self.gettext("second half of {year}", language, year=match[1])
        if match := re.fullmatch(r"FY(\d{4})", label):
            return self.gettext("fiscal year {year}", language, year=match[1])
        if re.fullmatch(r"\d{4}", label):
            return self.gettext("year {year}", language, year=label)
        return label

    def line(self, view: DeadlineView, language: str, *, icon: bool = True) -> str:
        """One line: name · period · due (extended, provisional), with the state's icon."""
        params = {"name": self.name(view.code, language), "period": self.period(view, language)}
        due = self.moment(view.effective_due, language)
        if view.extended:
            original = self.moment(view.due_at, language)
            text = self.gettext(
                "{name} · {period} · due {due} (extended from {original})",
                language,
                due=due,
                original=original,
                **params,
            )
        else:
            text = self.gettext("{name} · {period} · due {due}", language, due=due, **params)
        if view.provisional:
            text = self.gettext("{line} (provisional date)", language, line=text)
        return f"{STATE_ICONS.get(view.state, '')} {text}" if icon else text

    def provisional_note(self, view: DeadlineView, language: str) -> str:
        if not view.provisional:
            return ""
        return "\n" + self.gettext(
            "Provisional: this date was computed before the official holiday schedule (with its make-up "
            "working days) was published; it may still change.",
            language,
        )

    def evidence_note(self, view: DeadlineView, language: str) -> str:
        if not view.evidence_required:
            return ""
        return "\n" + self.gettext("Marking it done needs a note or a file as evidence.", language)
