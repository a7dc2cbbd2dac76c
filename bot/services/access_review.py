"""Periodic access review (recertification, C1/C7): every ``access.review_every_months`` months each
data owner gets the list of active grants on their data sets and keeps or revokes each one."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from functools import partial

from bot.clock import Clock
from bot.outgoing.access import review_actions
from bot.policy import Policy
from bot.services.access_catalogue import MODE_NAMES, Catalogue
from bot.services.access_grants import GrantService
from bot.services.actor import Actor
from bot.services.approval_notices import Notices
from bot.services.approval_routing import ApproverRouting
from bot.services.audit import record, refuse
from bot.services.errors import N_, Conflict, NotAllowed, NotFound
from storage.access_models import AccessGrant, DatasetRow
from storage.models import Member, Timer
from storage.uow import UnitOfWork, UnitOfWorkFactory

REVIEW_TIMER = "access_review"
REVIEW_HOUR = time(9, 0)
ITEMS_PER_MESSAGE = 30  # keeps each message and its keyboard well inside Telegram's limits


class ReviewService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: Policy,
        catalogue: Catalogue,
        grants: GrantService,
        routing: ApproverRouting,
        notices: Notices,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._catalogue = catalogue
        self._grants = grants
        self._routing = routing
        self._notices = notices

    async def ensure_scheduled(self, uow: UnitOfWork, now: datetime) -> None:
        """Schedule the next review (idempotent: one timer per review day)."""
        months = self._policy.access.review_every_months
        if not months:
            return
        zone = self._policy.organisation.zone
        today = now.astimezone(zone).date()
        year, month = today.year, today.month
        while True:  # the first day of the next month that starts a review period (Jan, Apr, … for 3)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            if (month - 1) % months == 0:
                break
        day = self._routing.calendar.roll(date(year, month, 1), "following")
        due = datetime.combine(day, REVIEW_HOUR, zone)
        await uow.timers.schedule(kind=REVIEW_TIMER, ref="review", due_at=due, now=now, key=f"{REVIEW_TIMER}:{day}")

    async def on_review(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        cycle = now.astimezone(self._policy.organisation.zone).strftime("%Y-%m")
        by_dataset: dict[int, list[AccessGrant]] = defaultdict(list)
        for grant in await uow.access.grants_on(None, ("active",)):
            by_dataset[grant.dataset_id].append(grant)
        for dataset_id, grants in by_dataset.items():
            dataset = await self._catalogue.dataset(uow, dataset_id)
            for grant in grants:
                await uow.access.add_review_item(cycle, grant.id)
            items = await uow.access.review_items(cycle, [g.id for g in grants])
            for reviewer in await self._reviewers(uow, dataset):
                await self._send(uow, reviewer, dataset, cycle, grants, items, now)
        await record(
            uow,
            self._clock,
            Actor.command_line(),
            "access_review",
            cycle,
            "started",
            grants=sum(map(len, by_dataset.values())),
        )
        if by_dataset:
            await self.ensure_scheduled(uow, now)

    async def decide(self, actor: Actor, item_id: int, *, keep: bool) -> bool:
        """A data owner keeps or revokes one grant of the review; revoking sends a revocation task."""
        async with self._uow() as uow:
            member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
            item = await uow.access.review_item(item_id, for_update=True)
            grant = await uow.access.grant(item.grant_id) if item else None
            deny = partial(refuse, uow, self._clock, actor, "access_review", item_id)
            if item is None or grant is None or member is None:
                await deny(NotFound(N_("This review item no longer exists.")))
            assert item is not None and grant is not None and member is not None
            if item.state != "open":
                await deny(Conflict(N_("This grant has been reviewed already.")))
            dataset = await self._catalogue.dataset(uow, grant.dataset_id)
            if member.id not in {reviewer.id for reviewer in await self._reviewers(uow, dataset)}:
                await deny(NotAllowed(N_("Only the data owners of this data set can review its access.")))
            now = self._clock.now()
            item.state, item.decided_by, item.decided_at = ("kept" if keep else "revoked"), member.id, now
            await record(
                uow, self._clock, actor, "access_grant", grant.id, "review_" + item.state, member.id, cycle=item.cycle
            )
            if not keep and grant.state == "active":
                await self._grants.end(uow, grant, "review", now)
            await uow.commit()
            return keep

    async def _reviewers(self, uow: UnitOfWork, dataset: DatasetRow) -> list[Member]:
        """The data owners; without any, the information centre reviews in their place."""
        owners = await self._catalogue.owners(uow, dataset)
        if owners:
            return owners
        ladder = await self._grants.ladder(uow, dataset)
        return ladder[0] if ladder else []

    async def _send(
        self,
        uow: UnitOfWork,
        reviewer: Member,
        dataset: DatasetRow,
        cycle: str,
        grants: list[AccessGrant],
        items: dict,
        now: datetime,
    ) -> None:
        speaker = self._notices.speakers.to(reviewer)
        language, t = speaker.language, speaker._
        holders = await uow.approvals.members(grant.holder_id for grant in grants)
        for start in range(0, len(grants), ITEMS_PER_MESSAGE):
            chunk = grants[start : start + ITEMS_PER_MESSAGE]
            lines = [
                t(N_("🔎 Access review {cycle}: {dataset} — {count} active grants. Keep or revoke each one.")).format(
                    cycle=cycle, dataset=dataset.name(language), count=len(grants)
                )
            ]
            buttons = []
            for number, grant in enumerate(chunk, start=start + 1):
                holder = holders[grant.holder_id]
                lines.append(
                    f"{number}. {holder.name} · {self._catalogue.department_name(holder.department, language)} · "
                    f"{t(MODE_NAMES[grant.mode])} · {speaker.moment(grant.expires_at)}"
                )
                buttons.append((items[grant.id].id, f"{number}. {holder.name}"[:24]))
            await self._notices.say(
                uow,
                reviewer,
                f"access-review:{cycle}:{dataset.id}:{reviewer.id}:{start}",
                "\n".join(lines),
                now,
                review_actions(buttons, t),
                protect=self._catalogue.classified(dataset),
            )
