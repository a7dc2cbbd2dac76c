"""Publication review (信息发布管理表): drafting, submitting and revising forms (rules D1–D5).

A department fills the form (D1); the pre-check flags exaggerated words (D3); the drafter confirms
the prohibited-content checklist (D4); the chain from the policy reviews it (D2, D5) through the
shared approval engine; a returned form is revised and resubmitted, keeping every version.
Changes and take-downs of a published item are forms of their own that run the same chain.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.callers import active_member
from bot.services.errors import N_, Conflict, NotAllowed
from bot.services.publication_draft import Draft, Flag, check_complete, exaggeration_flags
from storage.models import Member
from storage.publication_models import Publication, PublicationRecord, PublicationVersion
from storage.uow import UnitOfWork, UnitOfWorkFactory

if TYPE_CHECKING:
    from bot.services.approvals import ApprovalStatus
    from bot.services.publication_review import PublicationReview

DRAFTER_ROLE = "staff"
RECORDER_ROLE = "information_officer"  # besides the drafter, records publication per channel (D5)
SEE_ALL_ROLES = ("leader", "information_officer", "administrator")
REVIEWER_ROLES = ("department_head", "leader", "external_reviewer", "information_officer", "administrator")
ENTITY = "publication"


@dataclass(frozen=True)
class RecordView:
    channel: str
    action: str
    at: datetime
    link: str | None
    by: str | None  # None: the bot posted it itself


@dataclass(frozen=True)
class Submitted:
    form_id: int
    changed: bool  # a revision whose content changed (earlier approvals were reset)
    status: ApprovalStatus | None  # where the review chain is and who holds it (first submission)


@dataclass(frozen=True)
class FormView:
    id: int
    kind: str
    target_id: int | None
    state: str
    drafter_id: int
    drafter: str
    department: str
    version: int
    draft: Draft
    flags: tuple[Flag, ...]
    submitted_at: datetime
    decided_at: datetime | None
    published_at: datetime | None
    records: tuple[RecordView, ...]
    awaiting: tuple[str, ...]  # channels whose publication a person still has to record
    may_revise: bool
    may_record: bool
    may_change: bool


def draft_of(version: PublicationVersion) -> Draft:
    """A stored version as a draft (the form's fields have the columns' names)."""
    return Draft(**{name: _copy(getattr(version, name)) for name in Draft.__dataclass_fields__})


def version_of(draft: Draft, number: int, flags: list[Flag], author_id: int, now: datetime) -> PublicationVersion:
    return PublicationVersion(
        **{name: _copy(getattr(draft, name)) for name in Draft.__dataclass_fields__},
        number=number,
        flags=[{"word": flag.word, "context": flag.context} for flag in flags],
        created_by=author_id,
        created_at=now,
    )


def _copy(value: object) -> object:
    return list(value) if isinstance(value, list) else value  # JSON lists are not shared between rows


class PublicationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, review: PublicationReview) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._review = review

    # Drafting --------------------------------------------------------------------------------
    def precheck(self, draft: Draft) -> list[Flag]:
        """The exaggeration pre-check (D3) over the title and the text."""
        return exaggeration_flags(self._policy.publication.exaggeration_words, draft.title, draft.body)

    async def live_items(self, actor: Actor) -> list[tuple[int, str]]:
        """The drafter's published items, which a change or take-down form can apply to (D2)."""
        async with self._uow() as uow:
            member = await self._drafter(uow, actor)
            return [(item.id, item.current.title) for item in await uow.publications.live_of(member.id)]

    async def start_from_item(self, actor: Actor, item_id: int, kind: str) -> Draft:
        """A change or take-down form starts as the item's published version (D2)."""
        async with self._uow() as uow:
            member = await self._drafter(uow, actor)
            item = await self._live_own_item(uow, actor, member, item_id)
            draft = draft_of(item.current)
            if kind == "change":  # re-confirmed and re-timed: the content may change
                return replace(draft, checklist=[], note=None, planned_at=None, embargo_until=None)
            return Draft(title=draft.title, channels=draft.channels, designated_first=draft.designated_first)

    async def start_revision(self, actor: Actor, form_id: int) -> tuple[str, int | None, Draft]:
        """A returned form reopens with its current version, to change only what needs changing."""
        async with self._uow() as uow:
            member = await self._drafter(uow, actor)
            form = await self._own_returned(uow, actor, member, form_id)
            draft = draft_of(form.current)  # a take-down's note is its reason; otherwise a fresh note
            return form.kind, form.target_id, draft if form.kind == "takedown" else replace(draft, note=None)

    async def submit(self, actor: Actor, kind: str, target_id: int | None, draft: Draft, language: str) -> Submitted:
        """Store the form as version 1 and start its review chain (D1–D5)."""
        check_complete(draft, kind, self._policy.publication)
        async with self._uow() as uow:
            member = await self._drafter(uow, actor)
            if kind != "new":
                await self._live_own_item(uow, actor, member, target_id or 0)
            now = self._clock.now()
            flags = self.precheck(draft)
            form = uow.publications.add(
                Publication(
                    kind=kind,
                    target_id=target_id if kind != "new" else None,
                    drafter_id=member.id,
                    department=member.department,
                    state="review",
                    version=1,
                    posts={},
                    created_at=now,
                    submitted_at=now,
                    versions=[version_of(draft, 1, flags, member.id, now)],
                )
            )
            await uow.session.flush()
            await record(
                uow,
                self._clock,
                actor,
                ENTITY,
                form.id,
                "submitted",
                member.id,
                kind=kind,
                target=target_id,
                flags=len(flags),
                checklist=len(draft.checklist),
            )
            await self._review.start(uow, actor, form, member, self.chain(kind, draft, member.department))
            submitted = Submitted(form.id, True, await self._review.status(uow, form.id, language))
            await uow.commit()
            return submitted

    async def resubmit(self, actor: Actor, form_id: int, draft: Draft) -> Submitted:
        """A revised form becomes its next version; if its content changed, earlier approvals are reset
        and the chain starts again, and each reviewer sees what changed (D2)."""
        async with self._uow() as uow:
            member = await self._drafter(uow, actor)
            form = await self._own_returned(uow, actor, member, form_id)
            check_complete(draft, form.kind, self._policy.publication)
            before = draft_of(form.current)
            changed = before.content() != draft.content() or (form.kind == "takedown" and before.note != draft.note)
            now = self._clock.now()
            flags = self.precheck(draft)
            form.versions.append(version_of(draft, form.version + 1, flags, member.id, now))
            form.version += 1
            form.state = "review"
            await record(
                uow,
                self._clock,
                actor,
                ENTITY,
                form.id,
                "resubmitted",
                member.id,
                version=form.version,
                changed=changed,
            )
            await self._review.resume(uow, actor, form, changed)
            submitted = Submitted(form.id, changed, None)  # the engine tells the drafter where it went
            await uow.commit()
            return submitted

    def chain(self, kind: str, draft: Draft, department: str) -> tuple[str, ...]:
        """The review steps from the policy by kind and department; disclosures add the external review (D2, D5)."""
        policy = self._policy.publication
        return policy.chain_for(kind, disclosure=draft.disclosure, department=department)  # type: ignore[arg-type]

    # Reading one form ------------------------------------------------------------------------------
    async def view(self, actor: Actor, form_id: int) -> FormView:
        async with self._uow() as uow:
            member, form = await self.visible_form(uow, actor, form_id)
            return await self.form_view(uow, form, member)

    async def visible_form(self, uow: UnitOfWork, actor: Actor, form_id: int) -> tuple[Member, Publication]:
        """The caller and a form they may see; anything else is refused and audited (F3)."""
        member = await self.member(uow, actor)
        form = await uow.publications.get(form_id)
        if form is None or not (self.may_see(member, form) or await self._review.involves(uow, form.id, member.id)):
            denied = NotAllowed(N_("This form does not exist or is not yours to see."))
            await refuse(uow, self._clock, actor, ENTITY, form_id, denied)
        return member, form

    async def form_view(self, uow: UnitOfWork, form: Publication, member: Member) -> FormView:
        records = await uow.publications.records_of_form(form.id)
        people = {m.id: m.name for m in [await uow.members.get(r.recorded_by) for r in records if r.recorded_by] if m}
        drafter = await uow.members.get(form.drafter_id)
        awaiting = tuple(self.awaiting(form, records))
        own = form.drafter_id == member.id
        return FormView(
            id=form.id,
            kind=form.kind,
            target_id=form.target_id,
            state=form.state,
            drafter_id=form.drafter_id,
            drafter=drafter.name if drafter else "—",
            department=form.department,
            version=form.version,
            draft=draft_of(form.current),
            flags=tuple(Flag(**flag) for flag in form.current.flags),
            submitted_at=form.submitted_at,
            decided_at=form.decided_at,
            published_at=form.published_at,
            records=tuple(
                RecordView(r.channel, r.action, r.at, r.link, people.get(r.recorded_by) if r.recorded_by else None)
                for r in records
            ),
            awaiting=awaiting,
            may_revise=own and form.state == "returned",
            may_record=bool(awaiting) and (own or RECORDER_ROLE in member.roles),
            may_change=own and form.kind == "new" and form.state == "published",
        )

    def awaiting(
        self, form: Publication, records: list[PublicationRecord] | tuple[PublicationRecord, ...]
    ) -> list[str]:
        """Channels a person still has to record for an approved form (the bot's own only if it could not post)."""
        if form.state not in ("approved", "published", "applied"):
            return []
        done = {r.channel for r in records}
        failed = {code for code, rows in form.posts.items() if not rows}  # the bot tried and could not post
        return [c for c in form.current.channels if c not in done and (not self.bot_chat(c) or c in failed)]

    def bot_chat(self, channel: str) -> int | None:
        """The Telegram chat the bot posts a channel's items to itself, if any (D5)."""
        try:
            return self._policy.publication.channel(channel).telegram_chat_id
        except KeyError:
            return None

    def may_see(self, member: Member, form: Publication) -> bool:
        """Nothing beyond need (F3): the drafter, the reviewers concerned, and everyone once published."""
        roles = member.roles
        if form.drafter_id == member.id or roles & set(SEE_ALL_ROLES) or form.published_at is not None:
            return True
        if "department_head" in roles:
            above = {d.code for d in self._policy.parent_chain(form.department)}
            if member.department in above:
                return True
        return "external_reviewer" in roles and form.current.disclosure

    # Checks ------------------------------------------------------------------------------------------
    async def member(self, uow: UnitOfWork, actor: Actor) -> Member:
        return await active_member(uow, self._clock, actor, ENTITY)

    async def _drafter(self, uow: UnitOfWork, actor: Actor) -> Member:
        member = await self.member(uow, actor)
        if DRAFTER_ROLE not in member.roles:
            await refuse(
                uow,
                self._clock,
                actor,
                ENTITY,
                "-",
                NotAllowed(N_("Only staff can submit information for publication.")),
            )
        return member

    async def _live_own_item(self, uow: UnitOfWork, actor: Actor, member: Member, item_id: int) -> Publication:
        """A change or take-down applies to one of the drafter's own published items, one at a time (D2)."""
        item = await uow.publications.get(item_id)
        if item is None or item.kind != "new" or item.drafter_id != member.id or item.state != "published":
            denied = NotAllowed(N_("You can only change or take down your own published items."))
            await refuse(uow, self._clock, actor, ENTITY, item_id, denied)
        if await uow.publications.open_form_for(item.id) is not None:
            raise Conflict(N_("A change or take-down of this item is already under way."))
        return item

    async def _own_returned(self, uow: UnitOfWork, actor: Actor, member: Member, form_id: int) -> Publication:
        form = await uow.publications.get(form_id, for_update=True)
        if form is None or form.drafter_id != member.id:
            await refuse(
                uow, self._clock, actor, ENTITY, form_id, NotAllowed(N_("Only the drafter can revise this form."))
            )
        if form.state != "returned":
            raise Conflict(N_("This form is not waiting for a revision."))
        return form
