"""What approvers and requesters ask of a waiting request besides deciding it (issue 14; C3, C7, D2):

* **transfer (转交)**: an approver passes their step to another member who holds the step's role and is
  not the requester (C3). The new approver gets the card, every old card of the step is edited to say
  so, the step's window starts again, and the superiors above stay on the ladder.
* **nudge (催办)**: the requester reminds whoever holds the current step, at most once per
  ``approvals.nudge_interval_hours`` of the policy; a second nudge within it is refused with the time left.
* **copy (抄送)**: the requester or an approver of the current step sends a member a read-only copy of
  the request for their information, protected when it shows classified details.

Every press is re-authorised from the database and a refusal is audited (F3); every change is a history
entry of the request and an audit entry, in one transaction (F1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.services.actor import Actor
from bot.services.approval_notices import MAX_TEXT, step_ref
from bot.services.approval_walk import history
from bot.services.audit import record, refuse
from bot.services.callers import active_member
from bot.services.errors import N_, Conflict, NotAllowed, NotFound
from storage.approval_models import ApprovalRequest, ApprovalStep
from storage.models import Member
from storage.uow import UnitOfWork, UnitOfWorkFactory

if TYPE_CHECKING:
    from bot.services.approvals import ApprovalService

CANDIDATES = 20  # buttons offered at once; type part of a name to find others
TRANSFERRED_CARD = N_("🔀 {name} transferred this request to you: you decide this step now.")
NUDGE_CARD = N_("🔔 {name} is waiting and asks you to decide this request.")
COPY_CARD = N_("📨 {name} sent you a copy of this request for your information. You cannot decide on it.")


@dataclass(frozen=True)
class Nudged:
    """``sent``: the holders were reminded; otherwise ``wait`` is how long until the next nudge."""

    sent: bool
    holders: tuple[str, ...] = ()
    wait: timedelta = timedelta()
    last: datetime | None = None


@dataclass(frozen=True)
class OpenRequest:
    """One of the caller's own requests still waiting (/requests)."""

    id: int
    kind: str
    title: str
    position: int
    total: int
    step: str
    holders: tuple[str, ...]
    protect: bool = False  # a classified request: shown protected


class ApprovalAsks:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, engine: ApprovalService) -> None:
        self._uow = uow
        self._clock = clock
        self._engine = engine

    # Transfer (转交) ---------------------------------------------------------------------------------
    async def transfer_candidates(self, actor: Actor, step_id: int, language: str) -> list[tuple[int, str]]:
        """Who the caller may pass the step to: holders of the step's role, not the requester (C3)."""
        async with self._uow() as uow:
            request, step, member, _principal = await self._engine.authorise(uow, actor, step_id)
            people = await self._eligible(uow, request, step, member)
            return [(person.id, self._label(person, language)) for person in people[:CANDIDATES]]

    async def transfer(self, actor: Actor, step_id: int, target_id: int) -> str:
        """Pass the step to ``target_id``; returns their name. Re-checks both the caller and the target."""
        async with self._uow() as uow:
            request, step, member, principal = await self._engine.authorise(uow, actor, step_id)
            target = next((p for p in await self._eligible(uow, request, step, member) if p.id == target_id), None)
            if target is None:
                await refuse(
                    uow,
                    self._clock,
                    actor,
                    "approval",
                    request.id,
                    NotAllowed(
                        N_("That member cannot take this step: it needs someone who holds its role, not the requester.")
                    ),
                )
            assert target is not None
            now, notices, walk = self._clock.now(), self._engine.notices, self._engine.walk
            kind = self._engine.kind(request.kind)
            acted = await uow.members.get(principal) if principal else None
            await notices.close_cards(
                uow,
                step_ref(step.id),
                lambda t, language: t(N_("🔀 Transferred to {target} by {name}.")).format(
                    target=target.name, name=notices.named(member, acted, language)
                ),
                now,
            )
            step.transferred_to, step.level, step.reminded = target.id, 0, False
            entry = history(request, step, "transferred", member.id, principal, None, now, target.id)
            uow.approvals.add_decision(entry)
            await record(
                uow,
                self._clock,
                actor,
                "approval",
                request.id,
                "transferred",
                member.id,
                step=step.position + 1,
                to=target.id,
                on_behalf_of=principal,
            )
            ladder = await walk.routing.ladder(uow, request, step, kind.resolvers)
            holders = await walk.reach(uow, request, step, ladder, TRANSFERRED_CARD, now, name=member.name)
            await walk.schedule(uow, request, step, now)
            await walk.tell_progress(uow, request, step, holders, now)
            await uow.commit()
            return target.name

    async def _eligible(
        self, uow: UnitOfWork, request: ApprovalRequest, step: ApprovalStep, caller: Member
    ) -> list[Member]:
        kind = self._engine.kind(request.kind)
        people = await self._engine.routing.role_holders(uow, request, step, kind.resolvers)
        return [p for p in people if p.id not in (caller.id, step.transferred_to)]

    # Nudge (催办) ------------------------------------------------------------------------------------
    async def open_requests(self, actor: Actor, language: str) -> list[OpenRequest]:
        """The caller's own requests waiting for a decision, oldest first."""
        async with self._uow() as uow:
            member = await active_member(uow, self._clock, actor, "approval")
            t = self._engine.notices.speakers.in_language(language)._
            result = []
            for request in await uow.approvals.pending_of(member.id):
                if request.state != "pending":
                    continue
                kind = self._engine.kind(request.kind)
                status = (await self._engine.status(uow, request.kind, [request.subject_id], language))[
                    request.subject_id
                ]
                title = await kind.title(uow, request, language)
                protect = await self._engine.notices.protected(uow, kind, request)
                result.append(
                    OpenRequest(
                        request.id,
                        t(kind.name),
                        title,
                        status.position,
                        status.total,
                        status.step,
                        status.holders,
                        protect,
                    )
                )
            return result

    async def nudge(self, actor: Actor, request_id: int) -> Nudged:
        """The requester reminds the current holders; at most once per policy interval (C7)."""
        async with self._uow() as uow:
            member = await active_member(uow, self._clock, actor, "approval")
            request = await uow.approvals.get(request_id)
            if request is None or request.requester_id != member.id:
                await refuse(
                    uow,
                    self._clock,
                    actor,
                    "approval",
                    request_id,
                    NotAllowed(N_("Only the requester can nudge this request.")),
                )
            assert request is not None
            step = request.current
            if request.state != "pending" or step.state != "active":
                raise Conflict(N_("This request is no longer waiting for a decision."))
            if step.paused:
                raise Conflict(N_("The approver is waiting for your answer to their question; answer it first."))
            now = self._clock.now()
            interval = timedelta(hours=self._engine.policy.approvals.nudge_interval_hours)
            last = await uow.approvals.last_decision(request.id, "nudged")
            if last is not None and now - last.at < interval:
                return Nudged(False, wait=interval - (now - last.at), last=last.at)
            uow.approvals.add_decision(history(request, step, "nudged", member.id, None, None, now))
            await record(uow, self._clock, actor, "approval", request.id, "nudged", member.id, step=step.position + 1)
            walk = self._engine.walk
            ladder = await walk.routing.ladder(uow, request, step, self._engine.kind(request.kind).resolvers)
            holders = await walk.reach(uow, request, step, ladder, NUDGE_CARD, now, name=member.name)
            await uow.commit()
            return Nudged(True, tuple(holder.name for holder in holders))

    # Copy (抄送) -------------------------------------------------------------------------------------
    async def copy_candidates(
        self, actor: Actor, request_id: int, language: str, search: str | None = None
    ) -> list[tuple[int, str]]:
        """Active members who may get a copy: not the caller, not the requester, not copied already;
        with ``search``, only those whose name contains it."""
        needle = (search or "").strip().casefold()
        async with self._uow() as uow:
            request, member, _principal = await self._copier(uow, actor, request_id)
            taken = await uow.approvals.copied_to(request.id) | {member.id, request.requester_id}
            people = [
                person
                for person in await uow.approvals.active_members()
                if person.id not in taken and needle in person.name.casefold()
            ]
            return [(person.id, self._label(person, language)) for person in people[:CANDIDATES]]

    async def copy(self, actor: Actor, request_id: int, target_id: int) -> str:
        """Send ``target_id`` a read-only copy; returns their name."""
        async with self._uow() as uow:
            request, member, principal = await self._copier(uow, actor, request_id)
            target = await uow.members.get(target_id)
            if target is None or not target.active or target.id in (member.id, request.requester_id):
                await refuse(
                    uow,
                    self._clock,
                    actor,
                    "approval",
                    request.id,
                    NotAllowed(N_("Choose another active member to copy.")),
                )
            assert target is not None
            if target.id in await uow.approvals.copied_to(request.id):
                raise Conflict(N_("{name} already has a copy of this request."), name=target.name)
            now, notices = self._clock.now(), self._engine.notices
            kind = self._engine.kind(request.kind)
            step = request.current
            uow.approvals.add_decision(history(request, step, "copied", member.id, principal, None, now, target.id))
            await record(uow, self._clock, actor, "approval", request.id, "copied", member.id, to=target.id)
            speaker = notices.speakers.to(target)
            text = "\n\n".join(
                [
                    speaker._(COPY_CARD).format(name=member.name),
                    await notices.card_text(uow, kind, request, step, speaker.language),
                ]
            )
            await notices.say(
                uow,
                target,
                f"approval-copy:{request.id}:{target.id}",
                text[:MAX_TEXT],
                now,
                protect=await notices.protected(uow, kind, request),
            )
            await uow.commit()
            return target.name

    async def _copier(
        self, uow: UnitOfWork, actor: Actor, request_id: int
    ) -> tuple[ApprovalRequest, Member, int | None]:
        """The requester, or someone who may decide the current step (F3)."""
        member = await active_member(uow, self._clock, actor, "approval")
        request = await uow.approvals.get(request_id)
        if request is None:
            await refuse(
                uow, self._clock, actor, "approval", request_id, NotFound(N_("This request no longer exists."))
            )
        assert request is not None
        if request.state != "pending":
            raise Conflict(N_("This request is no longer waiting for a decision."))
        if member.id == request.requester_id:
            return request, member, None
        step = request.current
        if step.state == "active":
            ladder = await self._engine.routing.ladder(uow, request, step, self._engine.kind(request.kind).resolvers)
            qualified = await self._engine.routing.qualified(uow, request, step, ladder, self._clock.now())
            if member.id in qualified:
                return request, member, qualified[member.id]
        await refuse(
            uow,
            self._clock,
            actor,
            "approval",
            request.id,
            NotAllowed(N_("Only the requester or an approver of its current step can copy this request.")),
        )

    def _label(self, member: Member, language: str) -> str:
        speaker = self._engine.notices.speakers.in_language(language)
        return f"{member.name} · {speaker.department(member.department)}"
