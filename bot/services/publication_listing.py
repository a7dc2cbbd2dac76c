"""/publications: the member's forms, what is in review, published items by text and date, each
form's whole history, and the export of a period as CSV or XLSX (rules D6, F1, F3)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.audit import refuse
from bot.services.errors import N_, InvalidInput, NotAllowed
from bot.services.publications import ENTITY, REVIEWER_ROLES, SEE_ALL_ROLES, PublicationService
from storage.models import Member
from storage.publication_models import Publication
from storage.uow import UnitOfWork, UnitOfWorkFactory

if TYPE_CHECKING:
    from bot.services.publication_review import PublicationReview

LIST_LIMIT = 15
EXPORT_DAYS_LIMIT = 366 * 3
MANAGER_ROLES = ("department_head", *SEE_ALL_ROLES)


@dataclass(frozen=True)
class FormLine:
    id: int
    kind: str
    target_id: int | None
    title: str
    state: str
    submitted_at: datetime
    published_at: datetime | None


@dataclass(frozen=True)
class Overview:
    mine: list[FormLine]
    reviewer: bool
    manager: bool


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    who: str | None  # None: the bot
    what: str  # submitted | resubmitted | approved | rejected | returned | reset | escalated | published | …
    detail: str = ""
    version: int | None = None
    channel: str | None = None  # for a channel's publication, change or removal


def line_of(form: Publication) -> FormLine:
    return FormLine(
        form.id, form.kind, form.target_id, form.current.title, form.state, form.submitted_at, form.published_at
    )


class PublicationListing:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: Policy,
        publications: PublicationService,
        review: PublicationReview,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._publications = publications
        self._review = review

    async def overview(self, actor: Actor) -> Overview:
        async with self._uow() as uow:
            member = await self._publications.member(uow, actor)
            mine = [line_of(form) for form in await uow.publications.by_drafter(member.id, LIST_LIMIT)]
            return Overview(mine, bool(member.roles & set(REVIEWER_ROLES)), bool(member.roles & set(MANAGER_ROLES)))

    async def in_review(self, actor: Actor) -> list[FormLine]:
        """For reviewers and managers: everything in review that concerns them (F3)."""
        async with self._uow() as uow:
            denied = NotAllowed(N_("Only reviewers and managers can see what is in review."))
            member = await self._holder(uow, actor, REVIEWER_ROLES, denied)
            forms = await uow.publications.in_review(limit=200)
            return [line_of(form) for form in forms if self._publications.may_see(member, form)][: LIST_LIMIT * 2]

    async def search(self, actor: Actor, text: str, start: datetime | None, end: datetime | None) -> list[FormLine]:
        """Published items (taken down ones too) whose current text holds ``text``, published in the period."""
        async with self._uow() as uow:
            await self._publications.member(uow, actor)
            forms = await uow.publications.search_published(text.strip(), start, end, LIST_LIMIT)
            return [line_of(form) for form in forms]

    async def history(self, actor: Actor, form_id: int, language: str) -> tuple[FormLine, list[HistoryEntry]]:
        """Everything that happened to a form, oldest first: versions, decisions (who, when, for whom),
        publications per channel; for an item, its changes and take-downs too (D2, D6, F1)."""
        async with self._uow() as uow:
            _member, form = await self._publications.visible_form(uow, actor, form_id)
            forms = [form, *(await uow.publications.forms_of(form.id))]
            entries: list[HistoryEntry] = []
            for each in forms:
                entries += await self._entries(uow, each, language, prefix=each.id != form.id)
            return line_of(form), sorted(entries, key=lambda e: e.at)

    async def _entries(self, uow: UnitOfWork, form: Publication, language: str, prefix: bool) -> list[HistoryEntry]:
        names = await self._names(uow, [v.created_by for v in form.versions])
        tag = f"#{form.id} " if prefix else ""
        entries = [
            HistoryEntry(
                v.created_at,
                names.get(v.created_by),
                "submitted" if v.number == 1 else "resubmitted",
                tag + (v.note or ""),
                v.number,
            )
            for v in form.versions
            if v.source_id is None
        ]
        entries += [
            HistoryEntry(v.created_at, None, "version_from_change", f"#{v.source_id}", v.number)
            for v in form.versions
            if v.source_id is not None
        ]
        entries += [
            HistoryEntry(e.at, e.who, e.what, tag + e.detail, e.version)
            for e in await self._review.decisions(uow, form.id, language)
        ]
        records = await uow.publications.records_of_form(form.id)
        people = await self._names(uow, [r.recorded_by for r in records if r.recorded_by])
        entries += [
            HistoryEntry(
                r.at,
                people.get(r.recorded_by) if r.recorded_by else None,
                "channel_" + r.action,
                tag + (r.link or ""),
                channel=r.channel,
            )
            for r in records
        ]
        return entries

    async def _holder(self, uow: UnitOfWork, actor: Actor, roles: tuple[str, ...], denied: NotAllowed) -> Member:
        """The caller, if they hold one of ``roles``; anyone else is refused and audited (F3)."""
        member = await self._publications.member(uow, actor)
        if not member.roles & set(roles):
            await refuse(uow, self._clock, actor, ENTITY, "-", denied)
        return member

    async def _names(self, uow: UnitOfWork, ids: Sequence[int | None]) -> dict[int, str]:
        people = [await uow.members.get(i) for i in set(ids) if i]
        return {m.id: m.name for m in people if m is not None}

    # Export (D6) ----------------------------------------------------------------------------------------
    async def export(self, actor: Actor, start: datetime, end: datetime, fmt: str, language: str) -> tuple[str, bytes]:
        """Every form submitted in [start, end) the member may see, as CSV (UTF-8 with BOM, for Excel) or XLSX."""
        if end <= start or (end - start).days > EXPORT_DAYS_LIMIT or fmt not in ("csv", "xlsx"):
            raise InvalidInput(N_("Please send a period of at most three years, e.g. 2026-03-01 2026-03-31."))
        async with self._uow() as uow:
            denied = NotAllowed(N_("Only department heads, leaders and information officers can export."))
            member = await self._holder(uow, actor, MANAGER_ROLES, denied)
            forms = [
                f for f in await uow.publications.submitted_between(start, end) if self._publications.may_see(member, f)
            ]
            rows = [await self._row(uow, form, language) for form in forms]
        header = [
            "form",
            "kind",
            "item",
            "title",
            "department",
            "drafter",
            "state",
            "version",
            "submitted",
            "decided",
            "published",
            "channels",
            "records",
            "decisions",
            "flags",
            "checklist_confirmed",
        ]
        name = f"publications-{self._day(start)}-{self._day(end)}.{fmt}"
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(header)
            writer.writerows(rows)
            return name, ("\ufeff" + buffer.getvalue()).encode()
        from openpyxl import Workbook  # imported when a workbook is made: with numpy and PIL it costs ~25 MiB idle

        book = Workbook()
        sheet = book.active
        sheet.title = "publications"
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        output = io.BytesIO()
        book.save(output)
        return name, output.getvalue()

    async def _row(self, uow: UnitOfWork, form: Publication, language: str) -> list[object]:
        version = form.current
        drafter = await uow.members.get(form.drafter_id)
        records = await uow.publications.records_of_form(form.id)
        decisions = await self._review.decisions(uow, form.id, language)
        total = len(self._policy.publication.prohibited_checklist)
        return [
            form.id,
            form.kind,
            form.target_id or "",
            version.title,
            form.department,
            drafter.name if drafter else "",
            form.state,
            form.version,
            self._moment(form.submitted_at),
            self._moment(form.decided_at),
            self._moment(form.published_at),
            " ".join(version.channels),
            "; ".join(f"{r.channel} {r.action} {self._moment(r.at)} {r.link or ''}".strip() for r in records),
            "; ".join(f"{d.who or ''} {d.what} {self._moment(d.at)} {d.detail}".strip() for d in decisions),
            len(version.flags),
            "" if form.kind == "takedown" else ("yes" if len(set(version.checklist)) >= total else "no"),
        ]

    def _moment(self, moment: datetime | None) -> str:
        return moment.astimezone(self._policy.organisation.zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    def _day(self, moment: datetime) -> str:
        return moment.astimezone(self._policy.organisation.zone).strftime("%Y%m%d")
