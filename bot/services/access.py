"""Data-access requests (C1–C5): choosing a data set, its mode, purpose and duration, accepting the
no-third-party notice, and sending the request through the approval engine along the chain the
policy sets for its classification and mode; the member's own overview of requests and grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.clock import Clock
from bot.policy import Policy
from bot.policy.access import TOP_STEP_MODES
from bot.services.access_catalogue import MODE_NAMES, Catalogue, DatasetView
from bot.services.access_grants import GrantService
from bot.services.actor import Actor
from bot.services.approvals import ApprovalService, ApprovalStatus, Resolution
from bot.services.audit import record, refuse
from bot.services.callers import active_member
from bot.services.errors import N_, Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.text import visible_text
from storage.access_models import AccessGrant, AccessRequest, DatasetRow
from storage.approval_models import ApprovalRequest
from storage.models import Member
from storage.uow import UnitOfWork, UnitOfWorkFactory

KIND = "access"
MIN_PURPOSE, MAX_PURPOSE = 10, 1000
PRESET_DAYS = (1, 7, 30, 90)
OVERVIEW_LIMIT = 10
SEARCH_LIMIT = 20
GRANT_SUMMARY = N_("You grant: «{dataset}» ({classification}), {mode}\nTo: {name} ({department})\nUntil: {until}")


@dataclass(frozen=True)
class Draft:
    """What the request wizard collected (also an extension's prefill)."""

    dataset_id: int
    mode: str
    purpose: str = ""
    full_reason: str | None = None
    until: date | None = None
    extends_grant_id: int | None = None


@dataclass(frozen=True)
class RequestView:
    id: int
    dataset: str
    mode: str
    state: str
    until: datetime
    status: ApprovalStatus | None
    classified: bool = False  # 秘密 and above: shown protected


@dataclass(frozen=True)
class GrantView:
    id: int
    dataset: str
    mode: str
    state: str
    expires_at: datetime
    classified: bool = False


class AccessService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: Policy,
        catalogue: Catalogue,
        approvals: ApprovalService,
        grants: GrantService,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self.catalogue = catalogue
        self._approvals = approvals
        self._grants = grants

    # Choosing a data set -------------------------------------------------------------------------
    async def departments(self, actor: Actor, language: str) -> list[tuple[str, str]]:
        """Departments that own requestable data sets (to browse by department)."""
        async with self._uow() as uow:
            await active_member(uow, self._clock, actor, "access_request")
            codes = {row.department for row in await self.catalogue.datasets(uow)}
            await uow.commit()
        return [(d.code, d.name.get(language)) for d in self._policy.departments if d.code in codes]

    async def find(
        self, actor: Actor, language: str, *, text: str | None = None, department: str | None = None
    ) -> list[DatasetView]:
        """Data sets whose name (in any language) or code contains ``text``, or of one department."""
        needle = (text or "").strip().casefold()
        async with self._uow() as uow:
            await active_member(uow, self._clock, actor, "access_request")
            rows = [
                row
                for row in await self.catalogue.datasets(uow)
                if (department is None or row.department == department)
                and needle in " ".join([row.code, *row.names.values()]).casefold()
            ]
            return [await self.catalogue.view(uow, row, language) for row in rows[:SEARCH_LIMIT]]

    async def dataset(self, actor: Actor, dataset_id: int, language: str, mode: str | None = None) -> DatasetView:
        """A data set that can be requested (in ``mode``, when given)."""
        async with self._uow() as uow:
            await active_member(uow, self._clock, actor, "access_request")
            return await self.catalogue.view(uow, await self._requestable(uow, dataset_id, mode), language)

    # Checking the answers ------------------------------------------------------------------------
    def check_purpose(self, text: str) -> str:
        """At least a sentence (C1); for full access the written reason of C4. Invisible control
        characters are dropped (PostgreSQL cannot store NUL)."""
        text = visible_text(text).strip()
        if len(text) < MIN_PURPOSE:
            raise InvalidInput(
                N_("Please write at least one full sentence ({limit} characters or more)."), limit=MIN_PURPOSE
            )
        if len(text) > MAX_PURPOSE:
            raise InvalidInput(N_("That is too long: at most {limit} characters."), limit=MAX_PURPOSE)
        return text

    async def presets(self, actor: Actor, dataset_id: int, mode: str) -> tuple[list[tuple[int, date]], date]:
        """Duration presets within the mode's maximum (C7) and the last day allowed."""
        dataset = await self._lookup(actor, dataset_id, mode)
        today, limit = self._today(), int(dataset.max_days[mode])
        days = [d for d in PRESET_DAYS if d < limit] + [limit]
        return [(d, today + timedelta(days=d)) for d in days], today + timedelta(days=limit)

    async def check_until(self, actor: Actor, dataset_id: int, mode: str, day: date) -> date:
        return self._until(await self._lookup(actor, dataset_id, mode), mode, day)

    async def chain(self, actor: Actor, dataset_id: int, mode: str, language: str) -> list[str]:
        """The steps the request will go through (C2; C4/C5 add the top step)."""
        dataset = await self._lookup(actor, dataset_id, mode)
        kind = self._approvals.kind(KIND)
        steps = self._policy.access.chain(dataset.classification, mode)
        return [self._approvals.notices.step_label(kind, step, language) for step in steps]

    # Submitting ------------------------------------------------------------------------------------
    async def submit(self, actor: Actor, draft: Draft, *, notice_accepted: bool, language: str) -> RequestView:
        """Everything is checked again here: the wizard's answers are only suggestions (F3)."""
        async with self._uow() as uow:
            member = await active_member(uow, self._clock, actor, "access_request")
            dataset = await self._requestable(uow, draft.dataset_id, draft.mode)
            purpose = self.check_purpose(draft.purpose)
            reason = self.check_purpose(draft.full_reason or "") if draft.mode == "full" else None
            if draft.until is None:
                raise InvalidInput(N_("Choose how long you need access."))
            until_day = self._until(dataset, draft.mode, draft.until)
            if not notice_accepted:
                raise InvalidInput(N_("Accept the notice first: data must not be given to third parties."))
            if draft.extends_grant_id is not None:
                await self._extendable(uow, actor, member, draft.extends_grant_id, dataset.id)
            now = self._clock.now()
            request = uow.access.add_request(
                AccessRequest(
                    requester_id=member.id,
                    dataset_id=dataset.id,
                    mode=draft.mode,
                    purpose=purpose,
                    full_reason=reason,
                    until=self._end_of(until_day),
                    extends_grant_id=draft.extends_grant_id,
                    state="pending",
                    notice_accepted_at=now,
                    created_at=now,
                )
            )
            await uow.session.flush()
            await record(
                uow,
                self._clock,
                actor,
                "access_request",
                request.id,
                "submitted",
                member.id,
                dataset=dataset.code,
                mode=draft.mode,
                until=until_day.isoformat(),
                extends=draft.extends_grant_id,
            )
            steps = self._policy.access.chain(dataset.classification, draft.mode)
            await self._approvals.submit(uow, actor, kind=KIND, subject_id=request.id, requester=member, steps=steps)
            status = await self._approvals.status(uow, KIND, [request.id], language)
            await uow.commit()
            return RequestView(
                request.id, dataset.name(language), draft.mode, "pending", request.until, status.get(request.id)
            )

    async def withdraw(self, actor: Actor, request_id: int) -> None:
        async with self._uow() as uow:
            member = await active_member(uow, self._clock, actor, "access_request")
            request = await uow.access.request(request_id)
            if request is None or request.requester_id != member.id:
                await refuse(
                    uow, self._clock, actor, "access_request", request_id, NotAllowed(N_("This is not your request."))
                )
            approval = await uow.approvals.by_subject(KIND, request_id)
            if request.state != "pending" or approval is None:
                raise Conflict(N_("This request has already been decided."))
            await self._approvals.withdraw(uow, actor, approval, "cancelled by the requester")
            await uow.commit()

    async def extension(self, actor: Actor, grant_id: int) -> Draft:
        """C7: an extension is a new request, prefilled from the grant's own request."""
        async with self._uow() as uow:
            member = await active_member(uow, self._clock, actor, "access_request")
            grant = await self._extendable(uow, actor, member, grant_id, None)
            original = await uow.access.request(grant.request_id)
            assert original is not None
            return Draft(grant.dataset_id, grant.mode, original.purpose, original.full_reason, None, grant.id)

    # The member's overview (/access) -------------------------------------------------------------
    async def overview(self, actor: Actor, language: str) -> tuple[list[RequestView], list[GrantView]]:
        async with self._uow() as uow:
            member = await active_member(uow, self._clock, actor, "access_request")
            requests = await uow.access.requests_of(member.id, OVERVIEW_LIMIT)
            statuses = await self._approvals.status(uow, KIND, [r.id for r in requests], language)
            rows = {row.id: row for row in await self.catalogue.datasets(uow, include_inactive=True)}
            names = {code: row.name(language) for code, row in rows.items()}
            classified = {code: self.catalogue.classified(row) for code, row in rows.items()}
            grants = await uow.access.grants_of(member.id, ("provisioning", "active", "revoking"))
            await uow.commit()
        return (
            [
                RequestView(
                    r.id, names[r.dataset_id], r.mode, r.state, r.until, statuses.get(r.id), classified[r.dataset_id]
                )
                for r in requests
            ],
            [
                GrantView(g.id, names[g.dataset_id], g.mode, g.state, g.expires_at, classified[g.dataset_id])
                for g in grants
            ],
        )

    # The engine's hooks (in the engine's unit of work) -------------------------------------------
    async def title(self, uow: UnitOfWork, approval: ApprovalRequest, language: str) -> str:
        request, dataset = await self._subject(uow, approval)
        mode = self._approvals.notices.speakers.in_language(language)._(MODE_NAMES[request.mode])
        return f"#{request.id} {dataset.name(language)} · {mode}"

    async def render(self, uow: UnitOfWork, approval: ApprovalRequest, language: str) -> str:
        request, dataset = await self._subject(uow, approval)
        speaker = self._approvals.notices.speakers.in_language(language)
        t = speaker._
        requester = await uow.members.get(request.requester_id)
        lines = [
            t(N_("🔐 Data access request #{id}")).format(id=request.id),
            t(N_("Data set: {name} ({classification}, {department})")).format(
                name=dataset.name(language),
                classification=self.catalogue.classification_name(dataset.classification, language),
                department=self.catalogue.department_name(dataset.department, language),
            ),
            t(N_("Mode: {mode}")).format(mode=t(MODE_NAMES[request.mode])),
            t(N_("Until: {until}")).format(until=speaker.moment(request.until)),
            t(N_("Requester: {name} · {department}")).format(
                name=requester.name if requester else "?",
                department=self.catalogue.department_name(approval.department, language),
            ),
            t(N_("Purpose: {purpose}")).format(purpose=request.purpose),
        ]
        if request.full_reason:
            lines.append(t(N_("Why full access is needed: {reason}")).format(reason=request.full_reason))
        if request.extends_grant_id:
            lines.append(t(N_("Extension of grant #{grant}.")).format(grant=request.extends_grant_id))
        lines.append(t(N_("✔️ The requester accepted the notice: no data to third parties (C5).")))
        return "\n".join(lines)

    async def confirm(self, uow: UnitOfWork, approval: ApprovalRequest, language: str) -> str | None:
        """C4, C5: approving a 绝密 (top) data set, full access or export takes a second tap that shows
        what is granted, to whom, until when. None: one tap approves."""
        request, dataset = await self._subject(uow, approval)
        levels = self._policy.access.classifications
        top = max(level.rank for level in levels)
        if self._rank(dataset.classification) < top and request.mode not in TOP_STEP_MODES:
            return None
        speaker = self._approvals.notices.speakers.in_language(language)
        t = speaker._
        requester = await uow.members.get(request.requester_id)
        return "\n\n".join(
            [
                t(N_("⚠️ Please confirm your approval.")),
                t(GRANT_SUMMARY).format(
                    mode=t(MODE_NAMES[request.mode]),
                    dataset=dataset.name(language),
                    classification=self.catalogue.classification_name(dataset.classification, language),
                    name=requester.name if requester else "?",
                    department=self.catalogue.department_name(approval.department, language),
                    until=speaker.moment(request.until),
                ),
                t(N_("Only Confirm approves; Back leaves the request waiting for your decision.")),
            ]
        )

    async def protected(self, uow: UnitOfWork, approval: ApprovalRequest) -> bool:
        """A request for a classified data set (秘密 and above) shows classified details: its messages
        are sent protected, so they cannot be forwarded or saved."""
        _request, dataset = await self._subject(uow, approval)
        return self.catalogue.classified(dataset)

    def _rank(self, code: str) -> int:
        levels = self._policy.access.classifications
        return next((level.rank for level in levels if level.code == code), max(level.rank for level in levels))

    async def on_approved(self, uow: UnitOfWork, approval: ApprovalRequest, now: datetime) -> None:
        request, dataset = await self._subject(uow, approval)
        request.state, request.closed_at = "approved", now
        await self._grants.approved(uow, request, dataset, now)

    async def on_rejected(self, uow: UnitOfWork, approval: ApprovalRequest, reason: str, now: datetime) -> None:
        request, _dataset = await self._subject(uow, approval)
        request.state, request.closed_at = "rejected", now

    async def on_withdrawn(self, uow: UnitOfWork, approval: ApprovalRequest, now: datetime) -> None:
        request, _dataset = await self._subject(uow, approval)
        request.state, request.closed_at = "withdrawn", now

    async def data_owners(self, uow: UnitOfWork, approval: ApprovalRequest) -> Resolution:
        """The ``data_owner`` step: the data set's owners; their superior is its department's head."""
        _request, dataset = await self._subject(uow, approval)
        return Resolution(await self.catalogue.owners(uow, dataset), dataset.department)

    # Helpers ---------------------------------------------------------------------------------------
    async def _subject(self, uow: UnitOfWork, approval: ApprovalRequest) -> tuple[AccessRequest, DatasetRow]:
        request = await uow.access.request(approval.subject_id)
        assert request is not None
        return request, await self.catalogue.dataset(uow, request.dataset_id)

    async def _lookup(self, actor: Actor, dataset_id: int, mode: str) -> DatasetRow:
        async with self._uow() as uow:
            await active_member(uow, self._clock, actor, "access_request")
            return await self._requestable(uow, dataset_id, mode)

    async def _requestable(self, uow: UnitOfWork, dataset_id: int, mode: str | None = None) -> DatasetRow:
        dataset = await self.catalogue.dataset(uow, dataset_id)
        if not dataset.active:
            raise NotFound(N_("This data set can no longer be requested."))
        if mode is not None and mode not in dataset.modes:
            raise InvalidInput(N_("This access mode cannot be requested for this data set."))
        return dataset

    async def _extendable(
        self, uow: UnitOfWork, actor: Actor, member: Member, grant_id: int, dataset_id: int | None
    ) -> AccessGrant:
        grant = await uow.access.grant(grant_id)
        if grant is None or grant.holder_id != member.id or (dataset_id is not None and grant.dataset_id != dataset_id):
            await refuse(uow, self._clock, actor, "access_grant", grant_id, NotAllowed(N_("This is not your grant.")))
        if grant.state not in ("provisioning", "active"):
            raise Conflict(N_("This grant has ended; request access again instead."))
        return grant

    def _today(self) -> date:
        return self._clock.now().astimezone(self._policy.organisation.zone).date()

    def _until(self, dataset: DatasetRow, mode: str, day: date) -> date:
        today, limit = self._today(), int(dataset.max_days[mode])
        if day < today:
            raise InvalidInput(N_("That day has passed; choose today or a later day."))
        if (day - today).days > limit:
            raise InvalidInput(
                N_("At most {days} days for this mode: choose {last} or earlier."),
                days=limit,
                last=(today + timedelta(days=limit)).isoformat(),
            )
        return day

    def _end_of(self, day: date) -> datetime:
        """Access ends at 23:59 of the chosen day in the organisation's time zone."""
        return datetime.combine(day, time(23, 59), self._policy.organisation.zone).astimezone(UTC)
