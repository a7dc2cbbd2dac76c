"""Publishing an approved form (rules D5, D6).

After the final approval a form is "approved for publication" and a durable timer is set for its
planned time, never before its embargo. When it fires the bot carries the form out on the
channels it serves itself (a Telegram chat in the policy): it posts a new item exactly as
approved, edits the post for an approved change, deletes it for a take-down. Every other channel
is recorded by the drafter or an information officer (time, link). With "designated platform
first", nothing — record or post — is accepted for another channel before the designated one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.outgoing.speaker import language_of
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.errors import N_, Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.messages import queue_text
from bot.services.publication_draft import Flag, designated_channel
from bot.services.publication_render import Renderer
from bot.services.publications import ENTITY, RECORDER_ROLE, PublicationService, draft_of, version_of
from storage.models import Member, OutboxMessage, Timer
from storage.publication_models import Publication, PublicationRecord, PublicationVersion
from storage.uow import UnitOfWork, UnitOfWorkFactory

TIMER = "publication_apply"
POST_FAILURE = "publication_post"
ACTIONS = {"new": "published", "change": "changed", "takedown": "removed"}
FILE_METHODS = {"photo": ("sendPhoto", "photo"), "document": ("sendDocument", "document")}


class ChannelDesk:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: Policy,
        i18n: I18n,
        publications: PublicationService,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._i18n = i18n
        self._publications = publications
        self._render = Renderer(policy)

    # After the final approval (called by the review hook, inside the engine's transaction) -----------
    async def approved(self, uow: UnitOfWork, form: Publication, now: datetime) -> None:
        form.state, form.decided_at = "approved", now
        version = form.current
        due = max(moment for moment in (now, version.planned_at, version.embargo_until) if moment is not None)
        await uow.timers.schedule(kind=TIMER, ref=str(form.id), due_at=due, now=now)
        await self._tell_drafter(
            uow,
            form,
            "approved",
            now,
            N_(
                "✅ Your form #{id} «{title}» is approved for publication. The bot posts it to its own channels at "
                "the planned time; record every other channel in /publications once it is out."
            ),
        )

    # The timer (the runner's unit of work) ---------------------------------------------------------
    async def on_timer(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        form = await uow.publications.get(int(timer.ref), for_update=True)
        if form is None or form.state not in ("approved", "published", "applied"):
            return  # rejected, or already carried out
        version = form.current
        if version.embargo_until and now < version.embargo_until:  # never before the embargo (D5)
            await uow.timers.schedule(
                kind=TIMER, ref=str(form.id), due_at=version.embargo_until, now=now, key=f"{TIMER}:{form.id}:embargo"
            )
            return
        item = await self._item(uow, form)
        if form.kind != "new" and form.applied_at is None:
            await self._carry_out(uow, form, item, now)
        records = await uow.publications.records_of_form(form.id)
        done = {r.channel for r in records}
        for channel in version.channels:
            chat_id = self._publications.bot_chat(channel)
            if chat_id is None or channel in done or not self._order_allows(version, channel, records):
                continue
            await self._post(uow, form, item, channel, chat_id, now)
            self._add_record(uow, form, item, channel, now, None, None, now)
            await record(
                uow,
                self._clock,
                Actor.command_line(),
                ENTITY,
                form.id,
                "channel_" + ACTIONS[form.kind],
                channel=channel,
                by="bot",
            )

    async def _carry_out(self, uow: UnitOfWork, form: Publication, item: Publication, now: datetime) -> None:
        """An approved change becomes the item's next version; a take-down ends the item (D2)."""
        form.state, form.applied_at = "applied", now
        if form.kind == "change":
            approved = form.current
            flags = [Flag(**flag) for flag in approved.flags]
            copy = version_of(draft_of(approved), item.version + 1, flags, approved.created_by, now)
            copy.source_id = form.id
            item.versions.append(copy)
            item.version += 1
        else:
            item.state, item.applied_at = "taken_down", now
        await record(
            uow,
            self._clock,
            Actor.command_line(),
            ENTITY,
            item.id,
            form.kind + "_applied",
            form=form.id,
            version=item.version,
        )

    async def _post(
        self, uow: UnitOfWork, form: Publication, item: Publication, channel: str, chat_id: int, now: datetime
    ) -> None:
        """Post, edit or delete the channel's messages so that it shows exactly the approved version."""
        live: list[int] = list(item.posts.get(channel, []))
        version, key = item.current, f"{ENTITY}:{form.id}:{channel}"
        text, entities = post_text(version)
        if form.kind == "new":
            row = await uow.outbox.add(
                key=f"{key}:text",
                chat_id=chat_id,
                method="sendMessage",
                payload={"chat_id": chat_id, "text": text, "entities": entities},
                now=now,
                on_failure=POST_FAILURE,
                ref=key,
            )
            live = [row, *await self._send_files(uow, key, chat_id, version, now)] if row else live
        elif form.kind == "takedown":
            await self._delete(uow, key, chat_id, live)
            live = []
        elif live:  # a change: edit the text in place; replace the files if they changed
            await uow.outbox.add(
                key=f"{key}:edit",
                chat_id=chat_id,
                method="editMessageText",
                payload={"chat_id": chat_id, "text": text, "entities": entities},
                now=now,
                edit_of=live[0],
            )
            previous = item.numbered(item.version - 1)
            if previous is not None and _files(previous) != _files(version):
                await self._delete(uow, key, chat_id, live[1:])
                live = [live[0], *await self._send_files(uow, key, chat_id, version, now)]
        item.posts = {**item.posts, channel: live}

    async def _delete(self, uow: UnitOfWork, key: str, chat_id: int, rows: list[int]) -> None:
        for row_id in rows:
            await uow.outbox.add(
                key=f"{key}:delete:{row_id}",
                chat_id=chat_id,
                method="deleteMessage",
                payload={"chat_id": chat_id},
                now=self._clock.now(),
                edit_of=row_id,
            )

    async def _send_files(
        self, uow: UnitOfWork, key: str, chat_id: int, version: PublicationVersion, now: datetime
    ) -> list[int]:
        rows = []
        for index, attachment in enumerate(version.attachments):
            method, field = FILE_METHODS[attachment["kind"]]
            row = await uow.outbox.add(
                key=f"{key}:v{version.number}:file{index}",
                chat_id=chat_id,
                method=method,
                payload={"chat_id": chat_id, field: attachment["file_id"]},
                now=now,
            )
            if row is not None:
                rows.append(row)
        return rows

    async def on_post_failure(self, uow: UnitOfWork, row: OutboxMessage, now: datetime, refused_by: str) -> None:
        """The bot could not post to its channel (removed from it, no right to post): its record is
        withdrawn, the channel waits for a person to post and record it, and the drafter is told (D5, D6)."""
        _entity, form_id, channel = (row.ref or "").split(":")
        form = await uow.publications.get(int(form_id), for_update=True)
        if form is None:
            return
        await uow.publications.remove_bot_record(form.id, channel)
        form.posts = {**form.posts, channel: []}  # tried and failed: a person records it now
        remaining = await uow.publications.records_of_form(form.id)
        form.published_at = min((r.at for r in remaining), default=None)
        if form.state == "published" and not remaining:
            form.state = "approved"
        await record(
            uow,
            self._clock,
            Actor.command_line(),
            ENTITY,
            form.id,
            "channel_post_failed",
            channel=channel,
            error=row.last_error,
        )
        await self._tell_drafter(
            uow,
            form,
            f"failed:{channel}",
            now,
            N_(
                "⚠️ The bot could not post your form #{id} «{title}» to its Telegram channel. Post it there by "
                "hand and record it in /publications, or ask an administrator to give the bot the right to post."
            ),
        )

    # Recording other channels (D5, D6) ----------------------------------------------------------------
    async def record_channel(self, actor: Actor, form_id: int, channel: str, at: datetime, link: str | None) -> None:
        """The drafter or an information officer records when (and where) the form went out on a channel."""
        async with self._uow() as uow:
            member = await self._publications.member(uow, actor)
            form = await uow.publications.get(form_id, for_update=True)
            if form is None:
                raise NotFound(N_("This form does not exist or is not yours to see."))
            if form.drafter_id != member.id and RECORDER_ROLE not in member.roles:
                await refuse(
                    uow,
                    self._clock,
                    actor,
                    ENTITY,
                    form.id,
                    NotAllowed(N_("Only the drafter or an information officer can record publication.")),
                )
            records = list(await uow.publications.records_of_form(form.id))
            if channel not in self._publications.awaiting(form, records):
                raise Conflict(N_("Nothing is waiting to be recorded for this channel."))
            version, now = form.current, self._clock.now()
            if at > now:
                raise InvalidInput(N_("That time is still to come. Please send when it actually happened."))
            if at < (form.decided_at or now) or (version.embargo_until and at < version.embargo_until):
                raise InvalidInput(
                    N_(
                        "That is before the form was approved or before its embargo; it cannot have "
                        "gone out then. Please check the time."
                    )
                )
            if not self._order_allows(version, channel, records, at):
                designated = [designated_channel(self._policy.publication) or ""]
                raise Conflict(
                    N_(
                        "The designated platform ({channel}) must be recorded first, and nothing may appear "
                        "elsewhere earlier."
                    ),
                    channel=self._render.channel_names(designated, self._language(member)),
                )
            item = await self._item(uow, form)
            self._add_record(uow, form, item, channel, at, link, member.id, now)
            await record(
                uow,
                self._clock,
                actor,
                ENTITY,
                form.id,
                "channel_" + ACTIONS[form.kind],
                member.id,
                channel=channel,
                at=at.isoformat(),
                link=link,
            )
            if channel == designated_channel(self._policy.publication) and version.designated_first:
                # the bot's own channels were held back for the designated platform: go now if due
                due = max(m for m in (now, version.planned_at, version.embargo_until) if m is not None)
                await uow.timers.schedule(
                    kind=TIMER, ref=str(form.id), due_at=due, now=now, key=f"{TIMER}:{form.id}:designated"
                )
            await uow.commit()

    # Helpers ---------------------------------------------------------------------------------------
    def _order_allows(
        self, version: PublicationVersion, channel: str, records: Any, at: datetime | None = None
    ) -> bool:
        """Designated platform first (D5): another channel only once the designated one is recorded,
        and not at an earlier time."""
        designated = designated_channel(self._policy.publication)
        if not version.designated_first or channel == designated:
            return True
        first = next((r for r in records if r.channel == designated), None)
        return first is not None and (at is None or at >= first.at)

    @staticmethod
    def _add_record(
        uow: UnitOfWork,
        form: Publication,
        item: Publication,
        channel: str,
        at: datetime,
        link: str | None,
        by: int | None,
        now: datetime,
    ) -> None:
        """A channel carried the form out (by: None for the bot); a new item is published from its first."""
        uow.publications.add_record(
            PublicationRecord(
                item_id=item.id,
                form_id=form.id,
                channel=channel,
                action=ACTIONS[form.kind],
                at=at,
                link=link,
                recorded_by=by,
                recorded_at=now,
            )
        )
        if form.kind == "new":
            form.state = "published"
            if form.published_at is None or at < form.published_at:
                form.published_at = at

    async def _item(self, uow: UnitOfWork, form: Publication) -> Publication:
        if form.target_id is None:
            return form
        item = await uow.publications.get(form.target_id, for_update=True)
        assert item is not None
        return item

    def _language(self, member: Member) -> str:
        return language_of(member, self._policy)

    async def _tell_drafter(self, uow: UnitOfWork, form: Publication, event: str, now: datetime, msgid: str) -> None:
        drafter = await uow.members.get(form.drafter_id)
        if drafter is None or not drafter.active:
            return
        text = self._i18n.gettext(msgid, locale=self._language(drafter))
        await queue_text(
            uow,
            now,
            key=f"{ENTITY}:{form.id}:v{form.version}:{event}",
            chat_id=drafter.telegram_id,
            text=text.format(id=form.id, title=form.current.title),
        )


def post_text(version: PublicationVersion) -> tuple[str, list[dict[str, Any]]]:
    """The channel message: the title in bold, then the body with the drafter's own formatting."""
    title = version.title
    shift = _utf16(title) + 2
    entities = [{"type": "bold", "offset": 0, "length": _utf16(title)}]
    if not version.body:
        return title, entities
    entities += [{**entity, "offset": entity["offset"] + shift} for entity in version.entities]
    return f"{title}\n\n{version.body}", entities


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _files(version: PublicationVersion) -> list[str]:
    return [attachment["file_id"] for attachment in version.attachments]
