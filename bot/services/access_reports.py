"""Records for managers and information officers (F1, C3): who holds access to a data set right
now, and requests and grants of a period exported as CSV or XLSX. Leaders and information
officers see the whole organisation; a department head sees their own department and those
below it (F3: nothing beyond need)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.clock import Clock
from bot.policy import Policy
from bot.services.access_catalogue import MODE_NAMES, Catalogue
from bot.services.actor import Actor
from bot.services.approval_notices import Notices
from bot.services.audit import record, refuse
from bot.services.errors import N_, InvalidInput, NotAllowed
from storage.models import Member
from storage.uow import UnitOfWork, UnitOfWorkFactory

WHOLE_ORGANISATION = ("leader", "information_officer")
OWN_DEPARTMENTS = ("department_head",)
MAX_PERIOD_DAYS = 3 * 366
Visible = Callable[[str], bool]  # may the caller see members of this department?
Table = tuple[list[str], list[list[object]]]


@dataclass(frozen=True)
class Holder:
    name: str
    department: str
    mode: str
    state: str  # active | provisioning | revoking
    expires_at: datetime


class AccessReports:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, catalogue: Catalogue, notices: Notices):
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._catalogue = catalogue
        self._notices = notices

    async def check(self, actor: Actor) -> None:
        async with self._uow() as uow:
            await self._reader(uow, actor)

    async def holders(self, actor: Actor, dataset_id: int, language: str) -> list[Holder]:
        """Who holds access now (active), is about to (provisioning), or whose removal is unconfirmed."""
        async with self._uow() as uow:
            visible = await self._reader(uow, actor)
            await self._catalogue.dataset(uow, dataset_id)
            grants = await uow.access.grants_on(dataset_id, ("provisioning", "active", "revoking"))
            people = await uow.approvals.members(g.holder_id for g in grants)
            return [
                Holder(
                    people[g.holder_id].name,
                    self._catalogue.department_name(people[g.holder_id].department, language),
                    g.mode,
                    g.state,
                    g.expires_at,
                )
                for g in grants
                if visible(people[g.holder_id].department)
            ]

    async def export(
        self, actor: Actor, what: str, start: date, end: date, file_format: str, language: str
    ) -> tuple[str, bytes]:
        """Requests or grants of the days ``start``..``end`` (inclusive), as CSV or XLSX."""
        if end < start or (end - start).days > MAX_PERIOD_DAYS:
            raise InvalidInput(N_("Choose a period of at most three years whose end is not before its start."))
        zone = self._policy.organisation.zone
        since = datetime.combine(start, time(0), zone).astimezone(UTC)
        until = datetime.combine(end + timedelta(days=1), time(0), zone).astimezone(UTC)
        async with self._uow() as uow:
            member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
            visible = await self._reader(uow, actor)
            t = self._notices.speakers.in_language(language)._
            if what == "requests":
                header, rows = await self._requests(uow, since, until, visible, language)
            else:
                header, rows = await self._grants(uow, since, until, visible, language)
            await record(
                uow,
                self._clock,
                actor,
                "access_export",
                what,
                "exported",
                member.id if member else None,
                start=start.isoformat(),
                end=end.isoformat(),
                rows=len(rows),
                format=file_format,
            )
            await uow.commit()
        header = [t(column) for column in header]
        name = f"{what}-{start.isoformat()}-{end.isoformat()}.{file_format}"
        return name, (_xlsx(header, rows) if file_format == "xlsx" else _csv(header, rows))

    async def _requests(
        self, uow: UnitOfWork, since: datetime, until: datetime, visible: Visible, language: str
    ) -> Table:
        t = self._notices.speakers.in_language(language)._
        requests = await uow.access.requests_between(since, until)
        people = await uow.approvals.members(r.requester_id for r in requests)
        datasets = {d.id: d for d in await self._catalogue.datasets(uow, include_inactive=True)}
        rows = []
        for r in requests:
            requester = people[r.requester_id]
            if not visible(requester.department):
                continue
            approval = await uow.approvals.by_subject("access", r.id)
            decisions = await uow.approvals.decisions(approval.id) if approval else []
            deciders = await uow.approvals.members(
                [d.member_id for d in decisions] + [d.principal_id for d in decisions]
            )
            trail = "; ".join(
                f"{d.action} {self._notices.named(deciders.get(d.member_id), deciders.get(d.principal_id), language)}"
                f" {self._local(d.at)}" + (f" ({d.comment})" if d.comment else "")
                for d in decisions
                if d.member_id
            )
            dataset = datasets[r.dataset_id]
            rows.append(
                [
                    r.id,
                    self._local(r.created_at),
                    requester.name,
                    self._catalogue.department_name(requester.department, language),
                    dataset.name(language),
                    self._catalogue.classification_name(dataset.classification, language),
                    t(MODE_NAMES[r.mode]),
                    r.purpose,
                    self._local(r.until),
                    r.state,
                    self._local(r.closed_at),
                    trail,
                ]
            )
        header = [
            N_("Request"),
            N_("Submitted at"),
            N_("Requester"),
            N_("Department"),
            N_("Data set"),
            N_("Classification"),
            N_("Mode"),
            N_("Purpose"),
            N_("Until"),
            N_("State"),
            N_("Closed at"),
            N_("Decisions"),
        ]
        return header, rows

    async def _grants(
        self, uow: UnitOfWork, since: datetime, until: datetime, visible: Visible, language: str
    ) -> Table:
        t = self._notices.speakers.in_language(language)._
        grants = await uow.access.grants_between(since, until)
        people = await uow.approvals.members(g.holder_id for g in grants)
        datasets = {d.id: d for d in await self._catalogue.datasets(uow, include_inactive=True)}
        rows = [
            [
                g.id,
                g.request_id,
                people[g.holder_id].name,
                self._catalogue.department_name(people[g.holder_id].department, language),
                datasets[g.dataset_id].name(language),
                t(MODE_NAMES[g.mode]),
                g.state,
                self._local(g.approved_at),
                self._local(g.granted_at),
                self._local(g.expires_at),
                g.end_reason or "",
                self._local(g.revoked_at),
            ]
            for g in grants
            if visible(people[g.holder_id].department)
        ]
        header = [
            N_("Grant"),
            N_("Request"),
            N_("Holder"),
            N_("Department"),
            N_("Data set"),
            N_("Mode"),
            N_("State"),
            N_("Approved at"),
            N_("Granted at"),
            N_("Expires at"),
            N_("End reason"),
            N_("Revoked at"),
        ]
        return header, rows

    async def _reader(self, uow: UnitOfWork, actor: Actor) -> Visible:
        """The caller's view: a predicate on a member's department (F3)."""
        member: Member | None = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
        if member is None or not member.active or not member.roles & {*WHOLE_ORGANISATION, *OWN_DEPARTMENTS}:
            denied = NotAllowed(N_("Only leaders, department heads and information officers can see access records."))
            await refuse(uow, self._clock, actor, "access_export", "-", denied)
        assert member is not None
        if member.roles & set(WHOLE_ORGANISATION):
            return lambda department: True
        home = member.department
        return lambda department: any(d.code == home for d in self._policy.parent_chain(department))

    def _local(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return moment.astimezone(self._policy.organisation.zone).strftime("%Y-%m-%d %H:%M")


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM lets Excel read Chinese correctly


def _xlsx(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    from openpyxl import Workbook  # imported when a workbook is made: with numpy and PIL it costs ~25 MiB idle

    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
