"""Alerting and escalation (A2): the primary on duty first, then the category's chain, one step per missed
acknowledgement window, then repeats to the last step; unreachable recipients are skipped at once.

Everything here runs inside the caller's unit of work (a report, a timer, an outbox failure hook)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.channels.feishu import CHANNEL as FEISHU
from bot.outgoing.cards import Actions, Card
from bot.outgoing.incidents import alert_actions
from bot.outgoing.speaker import Speaker
from bot.policy.schema import SMS, TELEGRAM, DutyRoom, step_channel
from bot.services.actor import Actor
from bot.services.incidents import render
from bot.services.incidents.common import ENTITY, Context, names
from bot.services.incidents.similar import Similar, similar
from bot.services.messages import queue_edit, queue_text
from storage.incidents_models import REPORTED, Incident, IncidentAlert
from storage.models import Member, OutboxMessage, Timer
from storage.uow import UnitOfWork

ESCALATE = "incident.escalate"
ALERT_FAILURE = "incident.alert"
PROVIDER_METHODS = {"sms": "sms", "voice": "call"}  # outbox methods the SMS provider carries (bot/outbox.py)
SYSTEM = Actor.command_line()
Render = Callable[[Speaker], str]
Buttons = Callable[[Speaker], Actions]
MEDIA_METHODS = {
    "photo": ("sendPhoto", "photo"),
    "document": ("sendDocument", "document"),
    "voice": ("sendVoice", "voice"),
}
ALBUM_KINDS = ("photo", "document")  # Telegram groups photos with photos, files with files; voice notes go alone
ALBUM_SIZE = 10  # sendMediaGroup takes 2–10 items


def alert_ref(incident_id: int) -> str:
    """Alerts, pins and media of an incident share this ref, so unsent ones are dropped on acknowledgement."""
    return f"incident-alert:{incident_id}"


def escalate_key(incident_id: int, round: int) -> str:
    return f"{ESCALATE}:{incident_id}:{round}"


class Escalation:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # Alerting --------------------------------------------------------------------------------
    async def alert_round(self, uow: UnitOfWork, incident: Incident, round: int, now: datetime) -> list[Member]:
        """Alert the step of `round`. A step with nobody to alert is skipped at once (and said so), so a
        roster gap never costs a window. Schedules the next round. Returns who was alerted."""
        steps = self.ctx.steps(incident)
        alerts = await uow.incidents.alerts(incident.id)
        in_telegram = [
            a for a in alerts if a.member_id and step_channel(steps[min(a.round, len(steps) - 1)])[0] == TELEGRAM
        ]
        alerted = {alert.member_id for alert in in_telegram}  # an SMS or a call says nothing of Telegram
        unreachable = {alert.member_id for alert in in_telegram if not alert.reachable}
        while True:
            repeat = round >= len(steps)
            step = steps[min(round, len(steps) - 1)]
            candidates = await self.ctx.step_members(uow, incident, step, now)
            if step_channel(step)[0] == TELEGRAM:
                members = [m for m in candidates if m.id not in unreachable and (repeat or m.id not in alerted)]
            else:  # SMS and calls reach members with a number, even those alerted or unreachable in Telegram
                members = [m for m in candidates if m.phone]
            incident.alert_round = round
            if members or repeat:
                break
            await self.ctx.record(uow, SYSTEM, incident, "step_empty", step=step, round=round)
            round += 1
        channel = step_channel(step)[0]
        same = await similar(uow, self.ctx.policy, incident) if channel == TELEGRAM and members else []
        for member in members:
            if channel == TELEGRAM:
                await self._alert(uow, incident, member, round, steps, now, first=member.id not in alerted, same=same)
            else:
                await self._call(uow, incident, member, channel, round, now)
        if members:
            await self.ctx.record(uow, SYSTEM, incident, "alerted", step=step, round=round, names=names(members))
        if round == len(steps):  # the whole chain passed without an acknowledgement: administrators are told
            await self.ctx.record(uow, SYSTEM, incident, "chain_exhausted")
            await self._tell_administrators(uow, incident, now, reached=bool(members))
        rules = self.ctx.policy.incidents  # every step gets the window; then repeats at the policy's pace
        minutes = rules.ack_window_minutes if round < len(steps) else rules.repeat_minutes
        await uow.timers.schedule(
            kind=ESCALATE,
            ref=str(incident.id),
            due_at=now + timedelta(minutes=minutes),
            now=now,
            key=escalate_key(incident.id, round + 1),
        )
        return members

    async def alert_group(self, uow: UnitOfWork, incident: Incident, now: datetime) -> None:
        """The duty room's Telegram group, when it has one, gets the first alert too (presses there are
        authorised per member). The outbox paces groups at 20 messages a minute."""
        room = self._room(incident)
        if room is None or room.group_chat_id is None:
            return
        w = self.ctx.speaker()
        reporter = await self._reporter_name(uow, incident)
        same = await similar(uow, self.ctx.policy, incident)
        text = render.alert_text(
            w, incident, reporter, round=0, steps=self.ctx.steps(incident), skipped=[], similar=same
        )
        actions = alert_actions(w._, incident.id)
        outbox_id = await self._queue_alert(
            uow, incident, None, room.group_chat_id, text, actions, 0, now, thread=room.group_topic_id
        )
        await self._queue_media(uow, incident, room.group_chat_id, now, thread=room.group_topic_id)
        if outbox_id is not None:  # pinned while nobody has acknowledged (issue 14)
            await uow.outbox.add(
                key=f"incident:{incident.id}:group-pin",
                chat_id=room.group_chat_id,
                method="pinChatMessage",
                payload={"chat_id": room.group_chat_id, "disable_notification": True},
                now=now,
                edit_of=outbox_id,
                ref=alert_ref(incident.id),
            )
        await self.ctx.record(uow, SYSTEM, incident, "group_alerted")

    async def close_alerts(
        self,
        uow: UnitOfWork,
        incident: Incident,
        now: datetime,
        *,
        why: str,
        line: Callable[[Speaker], str],
        actions: Callable[[Speaker], Actions],
    ) -> None:
        """Every alert already sent ends with `line` instead of its call to act, and gets `actions` in its
        recipient's language (an SMS or a call cannot be edited). `why` keeps each reason's edits apart."""
        for alert in await uow.incidents.alerts(incident.id):
            original = await uow.outbox.get(alert.outbox_id or 0)
            if original is None or not alert.reachable or original.state == "cancelled":
                continue
            if original.method != "sendMessage":
                continue
            member = await uow.members.get(alert.member_id) if alert.member_id else None
            w = self.ctx.speaker(member)
            await queue_edit(
                uow,
                now,
                key=f"incident:{incident.id}:{why}-edit:{alert.id}",
                original_id=original.id,
                chat_id=alert.chat_id,
                text=original.payload["text"].rsplit("\n", 1)[0] + "\n\n" + line(w),
                actions=actions(w),
            )

    async def unpin_group(self, uow: UnitOfWork, incident: Incident, now: datetime) -> None:
        """Once acknowledged (or linked to another report), the group's alert is unpinned — unless its pin was
        never sent (dropped with the unsent alerts), so nothing is unpinned that was not pinned."""
        room = self._room(incident)
        if room is None or room.group_chat_id is None:
            return
        pins = [r for r in await uow.outbox.by_ref(alert_ref(incident.id)) if r.method == "pinChatMessage"]
        for pin in pins:
            if pin.state in ("cancelled", "failed", "undeliverable") or pin.edit_of is None:
                continue
            await uow.outbox.add(
                key=f"incident:{incident.id}:group-unpin:{pin.id}",
                chat_id=pin.chat_id,
                method="unpinChatMessage",
                payload={"chat_id": pin.chat_id},
                now=now,
                edit_of=pin.edit_of,
            )

    async def _alert(
        self,
        uow: UnitOfWork,
        incident: Incident,
        member: Member,
        round: int,
        steps: tuple[str, ...],
        now: datetime,
        *,
        first: bool,
        same: Sequence[Similar] = (),
    ) -> None:
        w = self.ctx.speaker(member)
        reporter = await self._reporter_name(uow, incident)
        skipped = await self._skipped(uow, incident, w)
        text = render.alert_text(w, incident, reporter, round=round, steps=steps, skipped=skipped, similar=same)
        queued = await self._queue_alert(
            uow, incident, member.id, member.telegram_id, text, alert_actions(w._, incident.id), round, now
        )
        if queued is not None and first:  # the pin and the media once per recipient, not with every repeat
            await self._queue_media(uow, incident, member.telegram_id, now)

    async def _call(
        self, uow: UnitOfWork, incident: Incident, member: Member, channel: str, round: int, now: datetime
    ) -> None:
        """An SMS or a voice call through the provider, queued in the outbox like a Telegram alert: the same
        idempotency key, claims and retries, and the same failure hook when the number cannot be reached."""
        w = self.ctx.speaker(member)
        text = render.sms_text(w, incident) if channel == SMS else render.speech_text(w, incident)
        outbox_id = await uow.outbox.add(
            key=f"incident:{incident.id}:{channel}:{round}:{member.id}",
            chat_id=member.telegram_id,
            method=PROVIDER_METHODS[channel],
            payload={"phone": member.phone, "text": text, "language": w.language},
            now=now,
            ref=alert_ref(incident.id),
            on_failure=ALERT_FAILURE,
        )
        if outbox_id is not None:
            uow.incidents.add_alert(
                IncidentAlert(
                    incident_id=incident.id,
                    round=round,
                    member_id=member.id,
                    chat_id=member.telegram_id,
                    outbox_id=outbox_id,
                    reachable=True,
                    created_at=now,
                )
            )

    async def _queue_alert(
        self,
        uow: UnitOfWork,
        incident: Incident,
        member_id: int | None,
        chat_id: int,
        text: str,
        actions: Actions,
        round: int,
        now: datetime,
        *,
        thread: int | None = None,
    ) -> int | None:
        """The alert's outbox row id, or None when it was queued before (idempotent)."""
        outbox_id = await uow.outbox.add(
            key=f"incident:{incident.id}:alert:{round}:{member_id or chat_id}",
            chat_id=chat_id,
            method="sendMessage",
            payload=_in_topic({"chat_id": chat_id, **Card(text, actions).payload()}, thread),
            now=now,
            ref=alert_ref(incident.id),
            on_failure=ALERT_FAILURE,
        )
        if outbox_id is None:
            return None
        uow.incidents.add_alert(
            IncidentAlert(
                incident_id=incident.id,
                round=round,
                member_id=member_id,
                chat_id=chat_id,
                outbox_id=outbox_id,
                reachable=True,
                created_at=now,
            )
        )
        return outbox_id

    async def _queue_media(
        self, uow: UnitOfWork, incident: Incident, chat_id: int, now: datetime, *, thread: int | None = None
    ) -> None:
        """The location as a map pin and the photos, files and voice notes, re-sent by file id (A2). Photos go
        as one album (sendMediaGroup, up to 10 a message), files likewise: one request per album instead of
        one per photo, which costs a chat a second each and a group a twentieth of its minute (issue 14)."""
        ref = alert_ref(incident.id)
        prefix = f"incident:{incident.id}:media:{chat_id}"
        if incident.latitude is not None and incident.longitude is not None:
            payload = _in_topic(
                {"chat_id": chat_id, "latitude": incident.latitude, "longitude": incident.longitude}, thread
            )
            await uow.outbox.add(
                key=f"{prefix}:pin", chat_id=chat_id, method="sendLocation", payload=payload, now=now, ref=ref
            )
        media = list(await uow.incidents.media(incident.id))
        for kind in ALBUM_KINDS:
            items = [m for m in media if m.kind == kind]
            for start in range(0, len(items), ALBUM_SIZE):
                album = items[start : start + ALBUM_SIZE]
                if len(album) < 2:
                    continue  # a single one goes on its own below
                payload = {
                    "chat_id": chat_id,
                    "media": [
                        {"type": kind, "media": m.file_id, **({"caption": incident.number} if i == 0 else {})}
                        for i, m in enumerate(album)
                    ],
                }
                await uow.outbox.add(
                    key=f"{prefix}:album:{album[0].id}",
                    chat_id=chat_id,
                    method="sendMediaGroup",
                    payload=_in_topic(payload, thread),
                    now=now,
                    ref=ref,
                )
                media = [m for m in media if m not in album]
        for one in media:
            method, field = MEDIA_METHODS.get(one.kind, MEDIA_METHODS["document"])
            payload = _in_topic({"chat_id": chat_id, field: one.file_id, "caption": incident.number}, thread)
            await uow.outbox.add(
                key=f"{prefix}:{one.id}", chat_id=chat_id, method=method, payload=payload, now=now, ref=ref
            )

    async def _skipped(self, uow: UnitOfWork, incident: Incident, w: Speaker) -> list[str]:
        """What the next step should know was skipped: unreachable members and steps with nobody in them."""
        skipped = []
        if uow.incidents.created_here(incident.id):  # a new report's timeline is this transaction's entries
            entries = uow.audit.appended(ENTITY, incident.id)
        else:
            entries = await uow.audit.for_entity(ENTITY, incident.id)
        for entry in entries:
            if entry.action == "unreachable":
                skipped.append(entry.details.get("name", ""))
            elif entry.action == "step_empty":
                skipped.append(w._("nobody as {step}").format(step=render.step_name(w, entry.details.get("step", ""))))
        return skipped

    async def _tell_administrators(self, uow: UnitOfWork, incident: Incident, now: datetime, *, reached: bool) -> None:
        minutes = self.ctx.policy.incidents.repeat_minutes

        def text(w: Speaker) -> str:
            if reached:
                message = w._(
                    "🔁 {number}: nobody acknowledged after the whole chain. The alert repeats to the "
                    "last step every {minutes} minutes."
                )
            else:
                message = w._(
                    "❗ {number}: nobody could be alerted — no one is on duty or in the chain. Check "
                    "the roster; alerting is tried again every {minutes} minutes."
                )
            return message.format(number=incident.number, minutes=minutes)

        await self.notify(uow, incident, await self.ctx.administrators(uow), text, now, purpose="exhausted")

    # Timers and failures -----------------------------------------------------------------------
    async def on_timer(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        """The window of a round passed: alert the next round unless someone acknowledged meanwhile."""
        round = int(timer.key.rsplit(":", 1)[1])
        incident = await uow.incidents.get(int(timer.ref), lock=True)
        if incident is None or incident.status != REPORTED or incident.alert_round >= round:
            return
        await self.alert_round(uow, incident, round, now)

    async def on_unreachable(self, uow: UnitOfWork, row: OutboxMessage, now: datetime, refused_by: str) -> None:
        """A channel refused an alert (`refused_by`: Telegram when they never started the bot or blocked it,
        Feishu, a phone number): skip the recipient at once, tell the administrators, and when nobody of the
        step is left, alert the next step now instead of after the window."""
        alert = await uow.incidents.alert_for_outbox(row.id)
        if alert is None or not alert.reachable:
            return
        alert.reachable = False
        incident = await self.ctx.incident(uow, alert.incident_id, lock=True)
        member = await uow.members.get(alert.member_id) if alert.member_id else None
        who = member.name if member else str(alert.chat_id)
        await self.ctx.record(uow, SYSTEM, incident, "unreachable", name=who, round=alert.round)
        by_phone = row.method in PROVIDER_METHODS.values()
        reason = (row.last_error or "-").rstrip(".")

        def text(w: Speaker) -> str:
            if by_phone:
                return w._("⚠️ {number}: could not reach {name} by {channel}: {reason}. They were skipped.").format(
                    number=incident.number,
                    name=who,
                    channel=w._("SMS") if row.method == PROVIDER_METHODS[SMS] else w._("phone call"),
                    reason=reason,
                )
            if refused_by == FEISHU:  # a linked member's alert goes there (bot/feishu_outbox.py)
                return w._("⚠️ {number}: could not reach {name} in Feishu: {reason}. They were skipped.").format(
                    number=incident.number, name=who, reason=reason
                )
            return w._(
                "⚠️ {number}: could not reach {name} (they never started the bot or blocked it). They were skipped."
            ).format(number=incident.number, name=who)

        await self.notify(
            uow, incident, await self.ctx.administrators(uow), text, now, purpose=f"unreachable:{alert.id}"
        )
        steps = self.ctx.steps(incident)
        if incident.status != REPORTED or alert.member_id is None or alert.round != incident.alert_round:
            return
        if alert.round >= len(steps):  # repeats go on at their pace; an unreachable member is not retried
            return
        if not await self._others_reachable(uow, alert):
            await uow.timers.cancel(escalate_key(incident.id, alert.round + 1))
            await self.alert_round(uow, incident, alert.round + 1, now)

    @staticmethod
    async def _others_reachable(uow: UnitOfWork, failed: IncidentAlert) -> bool:
        alerts: Sequence[IncidentAlert] = await uow.incidents.alerts(failed.incident_id)
        return any(a.round == failed.round and a.member_id and a.reachable and a.id != failed.id for a in alerts)

    # Shared helpers ------------------------------------------------------------------------------
    def _room(self, incident: Incident) -> DutyRoom | None:
        try:
            return self.ctx.policy.duty_room(incident.duty_room)
        except KeyError:
            return None

    async def _reporter_name(self, uow: UnitOfWork, incident: Incident) -> str:
        reporter = await uow.members.get(incident.reporter_id)
        return reporter.name if reporter else "-"

    async def notify(
        self,
        uow: UnitOfWork,
        incident: Incident,
        members: Iterable[Member],
        text: Render,
        now: datetime,
        *,
        purpose: str,
        buttons: Buttons | None = None,
    ) -> None:
        """A message about the incident to each member once, in that member's language."""
        token = secrets.token_hex(4)  # several changes may share one moment; each is its own message
        seen: set[int] = set()
        for member in members:
            if member.id in seen:
                continue
            seen.add(member.id)
            w = self.ctx.speaker(member)
            await queue_text(
                uow,
                now,
                key=f"incident:{incident.id}:{purpose}:{member.id}:{token}",
                chat_id=member.telegram_id,
                text=text(w),
                actions=buttons(w) if buttons else (),
            )

    async def post_to_group(self, uow: UnitOfWork, incident: Incident, text: Render, now: datetime) -> None:
        """Status changes go to the duty room's group too, when it has one."""
        room = self._room(incident)
        if room is None or room.group_chat_id is None:
            return
        await uow.outbox.add(
            key=f"incident:{incident.id}:group:{secrets.token_hex(6)}",
            chat_id=room.group_chat_id,
            method="sendMessage",
            payload=_in_topic(
                {"chat_id": room.group_chat_id, **Card(text(self.ctx.speaker())).payload()}, room.group_topic_id
            ),
            now=now,
        )


def _in_topic(payload: dict[str, Any], thread: int | None) -> dict[str, Any]:
    """A duty room's group that is a forum gets the room's messages in its topic (issue 14)."""
    return {**payload, "message_thread_id": thread} if thread is not None else payload
