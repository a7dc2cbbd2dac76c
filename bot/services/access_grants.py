"""Grants and the information centre's tasks (C3, C6, C7).

After the last approval the data owners and the information centre get a provisioning task and
confirm it with a button; only then is the grant active and the holder told. Grants expire on
their own: the holder is warned before, and at expiry a revocation task goes out. A task nobody
confirms is reminded and then escalated like an idle approval. Deactivating a member turns all
their grants into revocation tasks at once (C6). With ``access.provisioning_webhook`` set, every
grant and revocation decision is also posted there (after commit, retried).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from bot.clock import Clock
from bot.outgoing.access import extend_actions, task_actions
from bot.outgoing.cards import Actions
from bot.outgoing.speaker import Translate
from bot.policy import Policy
from bot.services.access_catalogue import MODE_NAMES, Catalogue
from bot.services.actor import Actor
from bot.services.approval_notices import Notices
from bot.services.approval_routing import ApproverRouting, StepWindow, distinct_levels
from bot.services.audit import record, refuse
from bot.services.errors import N_, Conflict, NotAllowed, NotFound
from storage.access_models import AccessGrant, AccessRequest, AccessTask, DatasetRow
from storage.models import Member, Timer
from storage.repositories.access import LIVE_GRANT
from storage.uow import UnitOfWork, UnitOfWorkFactory

TASK_TIMER, WARN_TIMER, EXPIRY_TIMER = "access_task", "access_warn", "access_expiry"
END_REASONS = {
    "expired": N_("the grant expired"),
    "deactivated": N_("the holder was deactivated (C6)"),
    "review": N_("revoked in the access review"),
}


def task_ref(task_id: int) -> str:
    return f"access-task:{task_id}"


class GrantService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: Policy,
        catalogue: Catalogue,
        routing: ApproverRouting,
        notices: Notices,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._catalogue = catalogue
        self._routing = routing
        self._notices = notices
        self._window = StepWindow(working_days=policy.access.step_window_working_days)
        # called (uow, now) when a grant becomes active: the access review schedules itself from it
        self.on_activated: list[Callable[[UnitOfWork, datetime], Awaitable[None]]] = []

    # After the last approval ------------------------------------------------------------------------
    async def approved(self, uow: UnitOfWork, request: AccessRequest, dataset: DatasetRow, now: datetime) -> None:
        grant = uow.access.add_grant(
            AccessGrant(
                request_id=request.id,
                holder_id=request.requester_id,
                dataset_id=dataset.id,
                mode=request.mode,
                state="provisioning",
                approved_at=now,
                expires_at=request.until,
            )
        )
        await uow.session.flush()
        await record(uow, self._clock, Actor.command_line(), "access_grant", grant.id, "approved", request=request.id)
        await self._open_task(uow, grant, dataset, "grant", None, now)
        await self._tell_holder(
            uow,
            grant,
            dataset,
            f"access-approved:{grant.id}",
            N_(
                "✅ Your request #{request} was approved. The information centre is setting up your access "
                "to {dataset}; you will be told when it is ready."
            ),
            now,
        )

    # Tasks ------------------------------------------------------------------------------------------------
    async def confirm(self, actor: Actor, task_id: int) -> str:
        """A data owner or the information centre confirms a task: access granted or removed."""
        async with self._uow() as uow:
            member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
            task = await uow.access.task(task_id, for_update=True)
            grant = await uow.access.grant(task.grant_id) if task else None
            deny = partial(refuse, uow, self._clock, actor, "access_task", task_id)
            if task is None or grant is None or member is None:
                await deny(NotFound(N_("This task no longer exists.")))
            assert task is not None and grant is not None and member is not None
            if task.state != "open":
                await deny(Conflict(N_("This task is already done; nothing was changed.")))
            dataset = await self._catalogue.dataset(uow, grant.dataset_id)
            ladder = await self.ladder(uow, dataset)
            if member.id not in {m.id for level in ladder[: task.level + 1] for m in level}:
                await deny(NotAllowed(N_("Only the data owners and the information centre can confirm this task.")))
            now = self._clock.now()
            task.state, task.done_by, task.done_at = "done", member.id, now
            await uow.timers.cancel_ref(TASK_TIMER, str(task.id))
            await self._notices.close_cards(
                uow, task_ref(task.id), lambda t, _: t(N_("✅ Done by {name}.")).format(name=member.name), now
            )
            if task.action == "grant":
                await self._activate(uow, grant, dataset, now)
            else:
                grant.state, grant.revoked_at = "revoked", now
            await record(
                uow, self._clock, actor, "access_grant", grant.id, f"{task.action}_confirmed", member.id, task=task.id
            )
            await uow.commit()
            return task.action

    async def on_task_timer(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """An unconfirmed task is reminded, then escalated to the superiors (C7, like an approval)."""
        task = await uow.access.task(int(timer.ref))
        if task is None or task.state != "open":
            return
        grant = await uow.access.grant(task.grant_id)
        assert grant is not None
        dataset = await self._catalogue.dataset(uow, grant.dataset_id)
        ladder = await self.ladder(uow, dataset)
        if task.reminded and task.level + 1 < len(ladder):
            task.level, task.reminded = task.level + 1, False
            header = N_("⏫ Escalated to you: this task was not confirmed in time.")
            await record(uow, self._clock, Actor.command_line(), "access_task", task.id, "escalated", level=task.level)
        else:
            task.reminded = True
            header = N_("⏰ Reminder: this task is still open.")
        people = ladder[min(task.level, len(ladder) - 1)] if ladder else []
        await self._send_task(uow, task, grant, dataset, people, header, now)
        await self._schedule_task(uow, task, now)

    async def _open_task(
        self, uow: UnitOfWork, grant: AccessGrant, dataset: DatasetRow, action: str, reason: str | None, now: datetime
    ) -> None:
        task = uow.access.add_task(AccessTask(grant_id=grant.id, action=action, state="open", level=0, created_at=now))
        await uow.session.flush()
        ladder = await self.ladder(uow, dataset)
        header = N_("🛠 New task for the information centre.")
        await self._send_task(uow, task, grant, dataset, ladder[0] if ladder else [], header, now, reason)
        await self._schedule_task(uow, task, now)
        await self._post(uow, action, grant, dataset, reason, now)

    async def _send_task(
        self,
        uow: UnitOfWork,
        task: AccessTask,
        grant: AccessGrant,
        dataset: DatasetRow,
        people: list[Member],
        header: str,
        now: datetime,
        reason: str | None = None,
    ) -> None:
        holder = await self._member(uow, grant.holder_id)
        request = await uow.access.request(grant.request_id)
        reason = reason or grant.end_reason
        for member in people:
            speaker = self._notices.speakers.to(member)
            language, t = speaker.language, speaker._
            values = self._words(grant, dataset, holder, language)
            if task.action == "grant":
                body = t(N_("Grant {mode} access to {dataset} for {holder} ({department}) until {until}.")).format(
                    **values
                )
                if request is not None and request.extends_grant_id:
                    body += "\n" + t(N_("This extends grant #{grant}.")).format(grant=request.extends_grant_id)
            else:
                body = t(N_("Remove {mode} access to {dataset} from {holder} ({department}): {reason}.")).format(
                    **values, reason=t(END_REASONS.get(reason or "", N_("the grant ended")))
                )
            await self._notices.say(
                uow,
                member,
                f"access-task:{task.id}:{member.id}:{task.level}:{now.timestamp():.0f}",
                f"{t(header)}\n\n{body}",
                now,
                task_actions(task.id, task.action, t),
                ref=task_ref(task.id),  # so the card can be closed once the task is done
                protect=self._catalogue.classified(dataset),
            )

    async def _schedule_task(self, uow: UnitOfWork, task: AccessTask, now: datetime) -> None:
        due = self._routing.window_end(now, self._window)
        await uow.timers.schedule(
            kind=TASK_TIMER, ref=str(task.id), due_at=due, now=now, key=f"{TASK_TIMER}:{task.id}:{due.timestamp():.0f}"
        )

    async def ladder(self, uow: UnitOfWork, dataset: DatasetRow) -> list[list[Member]]:
        """The data owners with the information centre, then the heads above them, then the leaders."""
        access = self._policy.access
        holders = list(await self._catalogue.owners(uow, dataset))
        if access.provisioning_department:
            holders += await uow.members.with_role(access.provisioning_role, access.provisioning_department)
        above = self._routing.chain_of(access.provisioning_department or dataset.department)
        return distinct_levels([holders, *await self._routing.superiors(uow, above)], set())

    # Grant life ---------------------------------------------------------------------------------------
    async def _activate(self, uow: UnitOfWork, grant: AccessGrant, dataset: DatasetRow, now: datetime) -> None:
        grant.state, grant.granted_at = "active", now
        request = await uow.access.request(grant.request_id)
        if request is not None and request.extends_grant_id:
            previous = await uow.access.grant(request.extends_grant_id)
            if previous is not None and previous.state in LIVE_GRANT:  # the extension takes over
                previous.state, previous.end_reason, previous.ended_at = "superseded", "superseded", now
                await self._cancel_timers(uow, previous)
        warn_at = grant.expires_at - timedelta(days=self._policy.access.expiry_warning_days)
        if self._policy.access.expiry_warning_days and warn_at > now:
            await uow.timers.schedule(kind=WARN_TIMER, ref=str(grant.id), due_at=warn_at, now=now)
        await uow.timers.schedule(kind=EXPIRY_TIMER, ref=str(grant.id), due_at=max(grant.expires_at, now), now=now)
        ready = N_("🔓 Your {mode} access to {dataset} is ready. It ends on {until}.")
        await self._tell_holder(uow, grant, dataset, f"access-ready:{grant.id}", ready, now)
        for callback in self.on_activated:
            await callback(uow, now)

    async def on_warning(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """C7: the holder is warned before expiry and offered an extension (a new request)."""
        grant = await uow.access.grant(int(timer.ref))
        if grant is None or grant.state != "active":
            return
        dataset = await self._catalogue.dataset(uow, grant.dataset_id)
        warning = N_("⏳ Your {mode} access to {dataset} ends on {until}. Need longer? Ask for an extension.")
        actions = partial(extend_actions, grant.id)
        await self._tell_holder(uow, grant, dataset, f"access-warning:{grant.id}", warning, now, actions=actions)
        await record(uow, self._clock, Actor.command_line(), "access_grant", grant.id, "expiry_warned")

    async def on_expiry(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        grant = await uow.access.grant(int(timer.ref))
        if grant is not None and grant.state in LIVE_GRANT:
            await self.end(uow, grant, "expired", now)

    async def on_deactivated(self, uow: UnitOfWork, member: Member, now: datetime) -> None:
        """C6: every grant of a departing member goes to revocation at once; the revocation tasks
        tell the data owners and the information centre why."""
        for grant in await uow.access.grants_of(member.id, LIVE_GRANT):
            await self.end(uow, grant, "deactivated", now)

    async def end(self, uow: UnitOfWork, grant: AccessGrant, reason: str, now: datetime) -> None:
        """Access ends (expired, holder deactivated, revoked in review): a revocation task goes out."""
        await self._cancel_timers(uow, grant)
        for task in await uow.access.open_tasks(grant.id):  # access never given: the grant task is moot
            task.state, task.done_at = "cancelled", now
            await uow.timers.cancel_ref(TASK_TIMER, str(task.id))
            await self._notices.close_cards(uow, task_ref(task.id), lambda t, _: t(N_("— No longer needed.")), now)
        grant.state, grant.end_reason, grant.ended_at = "revoking", reason, now
        await record(
            uow, self._clock, Actor.command_line(), "access_grant", grant.id, "revocation_requested", reason=reason
        )
        dataset = await self._catalogue.dataset(uow, grant.dataset_id)
        await self._open_task(uow, grant, dataset, "revoke", reason, now)
        ended = N_("🔒 Your {mode} access to {dataset} has ended: {reason}.")
        await self._tell_holder(uow, grant, dataset, f"access-ended:{grant.id}", ended, now, reason=reason)

    async def _tell_holder(
        self,
        uow: UnitOfWork,
        grant: AccessGrant,
        dataset: DatasetRow,
        key: str,
        msgid: str,
        now: datetime,
        *,
        reason: str | None = None,
        actions: Callable[[Translate], Actions] | None = None,
    ) -> None:
        """The holder hears about their grant in their own language (a departed holder hears nothing)."""
        holder = await self._member(uow, grant.holder_id)
        if not holder.active:
            return
        speaker = self._notices.speakers.to(holder)
        language, t = speaker.language, speaker._
        why = t(END_REASONS[reason]) if reason else ""
        text = t(msgid).format(**self._words(grant, dataset, holder, language), reason=why)
        protect = self._catalogue.classified(dataset)
        await self._notices.say(uow, holder, key, text, now, actions(t) if actions else (), protect=protect)

    def _words(self, grant: AccessGrant, dataset: DatasetRow, holder: Member, language: str) -> dict[str, str | int]:
        """What messages about a grant name: its request, mode, data set, holder and end."""
        speaker = self._notices.speakers.in_language(language)
        t = speaker._
        return {
            "request": grant.request_id,
            "mode": t(MODE_NAMES[grant.mode]),
            "dataset": dataset.name(language),
            "holder": holder.name,
            "department": self._catalogue.department_name(holder.department, language),
            "until": speaker.moment(grant.expires_at),
        }

    async def _cancel_timers(self, uow: UnitOfWork, grant: AccessGrant) -> None:
        await uow.timers.cancel_ref(WARN_TIMER, str(grant.id))
        await uow.timers.cancel_ref(EXPIRY_TIMER, str(grant.id))

    async def _post(
        self, uow: UnitOfWork, action: str, grant: AccessGrant, dataset: DatasetRow, reason: str | None, now: datetime
    ) -> None:
        """The decision for organisations that provision automatically, delivered after commit."""
        url = self._policy.access.provisioning_webhook
        if not url:
            return
        holder = await self._member(uow, grant.holder_id)
        payload = {
            "event": action,
            "grant": grant.id,
            "request": grant.request_id,
            "dataset": dataset.code,
            "mode": grant.mode,
            "holder": {
                "member": holder.id,
                "telegram_id": holder.telegram_id,
                "name": holder.name,
                "department": holder.department,
            },
            "expires_at": grant.expires_at.isoformat(),
            "reason": reason,
            "at": now.isoformat(),
        }
        await uow.access.queue_webhook(key=f"access:{action}:{grant.id}", url=url, payload=payload, now=now)

    async def _member(self, uow: UnitOfWork, member_id: int) -> Member:
        member = await uow.members.get(member_id)
        assert member is not None
        return member
