"""What Feishu members do, turned into the same service calls as Telegram's buttons and commands (issue 12).

Events arrive over the long connection (bot/feishu_ws.py), so the bot needs no public HTTPS endpoint:

- ``card.action.trigger``: a button of a card we sent. The button's value carries the action id, which is the
  packed callback data of the Telegram button, so it decodes with the same CallbackData classes and reaches
  the same call: an alert's Acknowledge (``Response.acknowledge``) and Details, an approval card's Approve
  (``ApprovalService.approve``), Reject, Ask and Return (the reason is the member's next message). The press
  acts as the member linked to the Feishu user who pressed, and the service re-authorises it exactly as a
  Telegram press (F3). An action we do not know, or a press by someone who is not a member, is refused
  politely and audited. The answer is Feishu's toast, in the member's language.
- ``im.message.receive_v1``: a text in the bot's private chat. From a stranger, an invitation code joins
  them (F2, once: bot/services/member_channels.py); from a member, the reason a Reject/Ask/Return waits for,
  or ``/language`` (the language buttons, also under the welcome; a press sets it as in Telegram).

Replies other than toasts go through the outbox like every message (addressed to the member, so routed to
Feishu). Feishu may deliver an event twice; a repeated event id is ignored.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import I18n

from bot import languages
from bot.channels.feishu import FeishuClient, stand_in_chat_id
from bot.clock import Clock
from bot.feishu_outbox import OPEN_ID
from bot.outgoing.approvals import ApprovalCb, confirm_actions, decision_actions
from bot.outgoing.cards import Action, Actions
from bot.outgoing.feishu import action_id
from bot.outgoing.incidents import ACK, DETAILS, IncidentCb
from bot.outgoing.speaker import Speaker
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.approvals import ApprovalService
from bot.services.audit import AuditService
from bot.services.errors import N_, DomainError, InvalidInput
from bot.services.incidents import IncidentServices
from bot.services.incidents.render import card_text
from bot.services.member_channels import MemberChannels
from bot.services.members import MembershipService, MemberView
from bot.services.messages import queue_text
from handlers.callbacks import LanguageCb
from storage.uow import UnitOfWorkFactory

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

CARD_ACTION = "card.action.trigger"
MESSAGE = "im.message.receive_v1"
MAX_TEXT = 4000
WAITING = "feishu:await:"  # key_values, + member id: the Reject/Ask/Return that waits for their text
REASONS = {
    "no": N_("Why do you reject this request? Send the reason; the requester will read it."),
    "ask": N_("Send your question; the requester answers in this chat and the answer comes back to you."),
    "ret": N_("What should be revised? Send your comment for the requester."),
}
CANCEL_WORDS = {"/cancel", "cancel", "取消"}
_CODE = re.compile(r"(?:start=)?([A-Za-z0-9_-]{1,64})\s*$")


def toast(kind: str, text: str) -> dict[str, Any]:
    """Feishu's answer to a card action: a short notice over the card (info, success, warning, error)."""
    return {"toast": {"type": kind, "content": text}}


def _unpack(data: str) -> CallbackData | None:
    for kind in (IncidentCb, ApprovalCb, LanguageCb):
        if data.startswith(kind.__prefix__ + ":"):
            try:
                return kind.unpack(data)
            except (TypeError, ValueError):
                return None
    return None


class FeishuInbound:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: Policy,
        i18n: I18n,
        channels: MemberChannels,
        members: MembershipService,
        audit: AuditService,
        incidents: IncidentServices,
        approvals: ApprovalService,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._i18n = i18n
        self.channels = channels
        self._members = members
        self._audit = audit
        self._incidents = incidents
        self._approvals = approvals
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def handle(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """One event (schema 2.0: ``header.event_type``, ``event``); returns the answer for a card action."""
        header = body.get("header") if isinstance(body.get("header"), dict) else {}
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        event_id = str(header.get("event_id") or "")
        if event_id and self._repeated(event_id):
            return None
        kind = header.get("event_type")
        if kind == CARD_ACTION:
            return await self.card_action(event)
        if kind == MESSAGE:
            await self.message(event)
        return None

    def _repeated(self, event_id: str) -> bool:
        if event_id in self._seen:
            return True
        self._seen[event_id] = None
        while len(self._seen) > 1000:
            self._seen.popitem(last=False)
        return False

    def _speaker(self, member: MemberView | None) -> Speaker:
        language = (member.language if member else None) or self._policy.organisation.default_language
        return Speaker(self._i18n, self._policy, language)

    # Card buttons ---------------------------------------------------------------------------------
    async def card_action(self, event: dict[str, Any]) -> dict[str, Any]:
        operator = event.get("operator") if isinstance(event.get("operator"), dict) else {}
        open_id = str(operator.get("open_id") or "")
        action = event.get("action") if isinstance(event.get("action"), dict) else {}
        data = action_id(action.get("value"))
        member = await self.channels.member_of(open_id)
        w = self._speaker(member)
        # the audit's chat (F1) is the Feishu user's stand-in id: an entry says the press came from Feishu
        chat = stand_in_chat_id(open_id or "-")
        actor = Actor(member.telegram_id, chat) if member else Actor(chat, chat)
        pressed = _unpack(data) if data and member else None
        if pressed is None:  # a stranger, or an action we never sent (old, forged or replayed): F3
            await self._audit.stale_button(actor, data or json.dumps(action.get("value"), ensure_ascii=False)[:64])
            if member is None:
                return toast("error", w._("You are not a member yet. Ask your administrator for an invitation."))
            return toast("error", w._("This button is no longer valid. Please start again."))
        assert member is not None
        if not (isinstance(pressed, ApprovalCb) and pressed.action in REASONS):
            await self._forget_waiting(member)  # another button: a reason asked for earlier is no longer awaited
        try:
            if isinstance(pressed, IncidentCb):
                return await self._incident(actor, member, pressed, w, data or "")
            if isinstance(pressed, LanguageCb):
                changed = await self._members.set_language(member.telegram_id, pressed.code)
                w = self._speaker(changed)
                name = languages.language(pressed.code).name
                return toast("success", w._("Language set to {language}.").format(language=name))
            return await self._approval(actor, member, pressed, w, data or "")
        except DomainError as error:  # refused by the service, which audited it where it is a refusal (F3)
            return toast("error", w.gettext(error.msgid, **error.params))

    async def _incident(
        self, actor: Actor, member: MemberView, pressed: IncidentCb, w: Speaker, data: str
    ) -> dict[str, Any]:
        if pressed.action == ACK:
            incident = await self._incidents.response.acknowledge(actor, pressed.id)
            text = w._("Acknowledged. You are handling {number}; the reporter was told.").format(number=incident.number)
            category = self._policy.incidents.category(incident.category)
            if category.serious and category.external_contact:
                text += "\n" + w._("⚠️ Serious: call {body} on {phone} now.").format(
                    body=category.external_contact.name.get(w.language), phone=category.external_contact.phone
                )
            return toast("success", text)
        if pressed.action == DETAILS:
            card = await self._incidents.queries.card(actor, incident_id=pressed.id)
            await self._say(member, card_text(w, card), purpose=f"incident:{pressed.id}")
            return toast("info", card.incident.number)
        return await self._unsupported(actor, w, data)

    async def _approval(
        self, actor: Actor, member: MemberView, pressed: ApprovalCb, w: Speaker, data: str
    ) -> dict[str, Any]:
        if pressed.action == "ok":
            confirmation = await self._approvals.confirmation(actor, pressed.step, w.language)
            if confirmation is not None:  # 绝密, full or export: what it grants first; Confirm approves (C4, C5)
                actions = confirm_actions(pressed.step, w._)
                await self._say(member, confirmation.text, actions, purpose=f"approval:{pressed.step}")
                return toast("info", w._("Sent."))
        if pressed.action in ("ok", "yes"):
            decided = await self._approvals.approve(actor, pressed.step, confirmed=pressed.action == "yes")
            if decided.state == "pending":
                text = w._("Approved. The request now goes to {names}.").format(names=", ".join(decided.holders) or "—")
            else:
                text = w._("Approved. That was the last step.")
            return toast("success", text)
        if pressed.action == "back":
            return toast("info", w._("Not approved. The request still waits for your decision."))
        if pressed.action in REASONS:
            await self._approvals.check_decider(actor, pressed.step)
            async with self._uow() as uow:
                value = json.dumps({"action": pressed.action, "step": pressed.step})
                await uow.key_values.set(WAITING + str(member.id), value)
                await uow.commit()
            prompt = w._(REASONS[pressed.action]) + "\n" + w._("Send /cancel to leave it.")
            await self._say(member, prompt, purpose=f"approval:{pressed.step}")
            return toast("info", w._(REASONS[pressed.action]))
        if pressed.action == "open":
            view = await self._approvals.card(actor, pressed.step, w.language)
            actions = decision_actions(pressed.step, view.returnable, w._)
            await self._say(member, view.text, actions, purpose=f"approval:{pressed.step}")
            return toast("info", w._("Sent."))
        return await self._unsupported(actor, w, data)

    async def _forget_waiting(self, member: MemberView) -> None:
        async with self._uow() as uow:
            if await uow.key_values.get(WAITING + str(member.id)):
                await uow.key_values.set(WAITING + str(member.id), "")
                await uow.commit()

    async def _unsupported(self, actor: Actor, w: Speaker, data: str) -> dict[str, Any]:
        """An action that exists in Telegram but was never put on a Feishu card: refused like a stale one."""
        await self._audit.stale_button(actor, data)
        return toast("error", w._("This button is no longer valid. Please start again."))

    # Messages -------------------------------------------------------------------------------------
    async def message(self, event: dict[str, Any]) -> None:
        sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
        ids = sender.get("sender_id") if isinstance(sender.get("sender_id"), dict) else {}
        open_id = str(ids.get("open_id") or "")
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        if not open_id or sender.get("sender_type", "user") != "user" or message.get("chat_type", "p2p") != "p2p":
            return
        text = ""
        if message.get("message_type") == "text":
            try:
                text = str(json.loads(message.get("content") or "{}").get("text") or "")
            except (ValueError, AttributeError):
                text = ""
        text = text.strip()[:MAX_TEXT]
        member = await self.channels.member_of(open_id)
        if member is None:
            await self._join(open_id, text)
            return
        await self._from_member(member, open_id, text)

    async def _join(self, open_id: str, text: str) -> None:
        w = self._speaker(None)
        found = _CODE.search(text)
        if not found:
            await self._tell_stranger(open_id, w._("Send the invitation code your administrator gave you to join."))
            return
        try:
            member = await self.channels.join(open_id, found[1])
        except DomainError as error:
            await self._tell_stranger(open_id, w.gettext(error.msgid, **error.params))
            return
        w = self._speaker(member)
        welcome = w._("Welcome, {name}. Alerts and approval cards will come here; answer them with their buttons.")
        text = welcome.format(name=member.name) + "\n\n" + w._("Which language do you prefer?")
        await self._say(member, text, self._language_actions(), purpose="joined")

    def _language_actions(self) -> Actions:
        codes = self._policy.organisation.languages
        return (tuple(Action.of(languages.language(code).name, LanguageCb(code=code)) for code in codes),)

    async def _from_member(self, member: MemberView, open_id: str, text: str) -> None:
        w = self._speaker(member)
        async with self._uow() as uow:
            waiting = await uow.key_values.get(WAITING + str(member.id))
            if waiting is not None:
                await uow.key_values.set(WAITING + str(member.id), "")
                await uow.commit()
        if not waiting:
            if text.lower().startswith("/language"):
                await self._say(member, w._("Which language do you prefer?"), self._language_actions())
            else:
                hint = w._("Alerts and approval cards come to this chat; answer them with their buttons.")
                await self._say(member, hint + "\n" + w._("Send /language to choose your language."))
            return
        if text.lower() in CANCEL_WORDS or not text:
            await self._say(member, w._("Cancelled. Nothing was changed."))
            return
        pending = json.loads(waiting)
        actor = Actor(member.telegram_id, stand_in_chat_id(open_id))
        try:
            if pending["action"] == "no":
                await self._approvals.reject(actor, pending["step"], text)
                reply = w._("Rejected. The requester has been told why.")
            elif pending["action"] == "ask":
                await self._approvals.ask(actor, pending["step"], text)
                reply = w._("Your question was sent. The answer will come to this chat.")
            else:
                await self._approvals.return_for_revision(actor, pending["step"], text)
                reply = w._("Returned for revision. The requester has your comment.")
        except DomainError as error:
            reply = w.gettext(error.msgid, **error.params)
            if isinstance(error, InvalidInput):  # e.g. too short: the same question still waits for words
                async with self._uow() as uow:
                    await uow.key_values.set(WAITING + str(member.id), waiting)
                    await uow.commit()
        await self._say(member, reply)

    # Replies through the outbox ---------------------------------------------------------------------
    async def _say(self, member: MemberView, text: str, actions: Actions = (), *, purpose: str = "reply") -> None:
        async with self._uow() as uow:
            await queue_text(
                uow,
                self._clock.now(),
                key=f"feishu:{member.id}:{purpose}:{secrets.token_hex(6)}",
                chat_id=member.telegram_id,
                text=text,
                actions=actions,
            )
            await uow.commit()

    async def _tell_stranger(self, open_id: str, text: str) -> None:
        """Someone who is not a member yet: addressed by their stand-in id, the open_id in the row."""
        chat_id = stand_in_chat_id(open_id)
        async with self._uow() as uow:
            await uow.outbox.add(
                key=f"feishu:stranger:{chat_id}:{secrets.token_hex(6)}",
                chat_id=chat_id,
                method="sendMessage",
                payload={"chat_id": chat_id, "text": text, OPEN_ID: open_id},
                now=self._clock.now(),
            )
            await uow.commit()


def install(app: App, client: FeishuClient) -> FeishuInbound:
    """Feishu's events in the running app: the long connection is one of the app's workers (started with the
    outbox and the timers, by the instance that takes updates); /feishu links a Telegram member."""
    from aiogram.utils.i18n import lazy_gettext as __

    from bot.feishu_ws import FeishuLongConnection
    from handlers import feishu as feishu_handlers
    from handlers.commands import CommandInfo

    channels = MemberChannels(app.uow, app.clock, app.members)
    inbound = FeishuInbound(
        app.uow,
        app.clock,
        app.policy,
        app.i18n,
        channels,
        app.members,
        app.audit,
        app.flows.incidents,
        app.flows.approvals,
    )
    app.workers.append(FeishuLongConnection(client, inbound.handle))
    app.dispatcher.workflow_data["member_channels"] = channels
    app.flow_routers.append(feishu_handlers.build())
    app.commands.append(CommandInfo("feishu", __("Get your alerts and approval cards in Feishu")))
    return inbound
