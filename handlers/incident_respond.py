"""Answering an incident in chat (A2, A3, A4): Acknowledge and Details on alerts, then the card's buttons —
in progress, resolve (with a note), close, reopen, note or photo, hand over, mark for the outside report, and
record the filing (when, to which body, reference, optional file). Cards go to the member's private chat, so a
press in a duty room's group never shows an incident to the whole group; every press is re-authorised (F3)."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.outgoing.incidents import IncidentCb
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.incidents import Queries, Response
from bot.services.incidents.render import card_text
from handlers.admin import actor_of
from handlers.filters import IsMember
from handlers.incident_keyboards import (
    FilingCb,
    bodies_keyboard,
    cancel_note_keyboard,
    candidates_keyboard,
    card_keyboard,
    filing_file_keyboard,
    filing_moment_keyboard,
)
from handlers.incident_parsing import parse_moment
from handlers.incident_report import attachment_of
from handlers.incident_texts import words


class NoteForm(StatesGroup):
    note = State()
    resolution = State()


class FilingForm(StatesGroup):
    moment = State()
    body = State()
    reference = State()
    file = State()


async def send_card(bot: Bot, actor: Actor, queries: Queries, incident_id: int, policy: Policy, language: str) -> None:
    """The card goes to the member's private chat, wherever they pressed."""
    card = await queries.card(actor, incident_id=incident_id)
    await bot.send_message(
        actor.telegram_id or 0,
        card_text(words(policy, language), card),
        reply_markup=card_keyboard(card.incident.id, card.actions),
    )


# Alert buttons ----------------------------------------------------------------------------------------
async def acknowledge(
    query: CallbackQuery, callback_data: IncidentCb, response: Response, policy: Policy, language: str
) -> None:
    incident = await response.acknowledge(actor_of(query), callback_data.id)
    text = _("Acknowledged. You are handling {number}; the reporter was told.").format(number=incident.number)
    category = policy.incidents.category(incident.category)
    if category.serious and category.external_contact:
        text += "\n" + _("⚠️ Serious: call {body} on {phone} now.").format(
            body=category.external_contact.name.get(language), phone=category.external_contact.phone
        )
    await query.answer(text, show_alert=True)


async def details(
    query: CallbackQuery,
    callback_data: IncidentCb,
    bot: Bot,
    queries: Queries,
    policy: Policy,
    language: str,
    state: FSMContext,
) -> None:
    await state.clear()  # also the Cancel of a note or filing form
    await send_card(bot, actor_of(query), queries, callback_data.id, policy, language)
    await query.answer()


# Card buttons -----------------------------------------------------------------------------------------
async def move(
    query: CallbackQuery,
    callback_data: IncidentCb,
    bot: Bot,
    response: Response,
    queries: Queries,
    policy: Policy,
    language: str,
) -> None:
    """In progress, close, reopen — and marking it for the outside report; then the refreshed card."""
    if callback_data.action == "flag":
        await response.flag(actor_of(query), callback_data.id)
        await query.answer(_("Marked: it must be reported outside."), show_alert=True)
    else:
        await response.move(actor_of(query), callback_data.id, callback_data.action)
        await query.answer(_("Done."))
    await send_card(bot, actor_of(query), queries, callback_data.id, policy, language)


async def ask_text(query: CallbackQuery, callback_data: IncidentCb, state: FSMContext, response: Response) -> None:
    incident = await response.permit(actor_of(query), callback_data.id, callback_data.action)
    target = NoteForm.resolution if callback_data.action == "res" else NoteForm.note
    await state.set_state(target)
    await state.update_data(incident_id=incident.id)
    await query.answer()
    prompt = (
        _("How was {number} resolved? Send a short resolution note.")
        if target == NoteForm.resolution
        else _("Send a note, a photo or a file for {number}.")
    )
    await query.bot.send_message(
        query.from_user.id,
        prompt.format(number=incident.number),  # type: ignore[union-attr]
        reply_markup=cancel_note_keyboard(incident.id),
    )


async def resolution(
    message: Message, state: FSMContext, bot: Bot, response: Response, queries: Queries, policy: Policy, language: str
) -> None:
    incident_id = (await state.get_data())["incident_id"]
    await response.move(actor_of(message), incident_id, "res", note=message.text or "")
    await state.clear()
    await send_card(bot, actor_of(message), queries, incident_id, policy, language)


async def note(
    message: Message, state: FSMContext, bot: Bot, response: Response, queries: Queries, policy: Policy, language: str
) -> None:
    incident_id = (await state.get_data())["incident_id"]
    await response.add_note(
        actor_of(message), incident_id, message.text or message.caption or "", attachment_of(message)
    )
    await state.clear()
    await message.answer(_("Added to the timeline."))
    await send_card(bot, actor_of(message), queries, incident_id, policy, language)


async def choose_assignee(query: CallbackQuery, callback_data: IncidentCb, response: Response) -> None:
    candidates = await response.candidates(actor_of(query), callback_data.id)
    await query.answer()
    text = _("Hand it to which duty officer?") if candidates else _("There is no other duty officer.")
    await query.bot.send_message(
        query.from_user.id,
        text,  # type: ignore[union-attr]
        reply_markup=candidates_keyboard(callback_data.id, candidates),
    )


async def reassign(query: CallbackQuery, callback_data: IncidentCb, response: Response) -> None:
    incident = await response.reassign(actor_of(query), callback_data.id, callback_data.value)
    await query.answer(_("{number} was handed over.").format(number=incident.number), show_alert=True)


# Recording the outside report (A4) --------------------------------------------------------------------------
async def start_filing(query: CallbackQuery, callback_data: IncidentCb, state: FSMContext, response: Response) -> None:
    incident = await response.permit(actor_of(query), callback_data.id, "file")
    await state.set_state(FilingForm.moment)
    await state.set_data({"incident_id": incident.id})
    await query.answer()
    await query.bot.send_message(  # type: ignore[union-attr]
        query.from_user.id,
        _(
            "Outside report for {number} — when was it filed? Tap Just now, or type the time (14:30 or "
            "2026-03-01 14:30)."
        ).format(number=incident.number),
        reply_markup=filing_moment_keyboard(),
    )


async def filing_now(query: CallbackQuery, state: FSMContext, clock: Clock, policy: Policy, language: str) -> None:
    await state.update_data(filed_at=clock.now().isoformat())
    await query.answer()
    if query.message:
        await _ask_body(query.message, state, policy, language)


async def filing_moment(message: Message, state: FSMContext, clock: Clock, policy: Policy, language: str) -> None:
    moment = parse_moment(message.text or "", clock.now(), policy.organisation.zone)
    if moment is None:
        await message.answer(_("Send the time as 14:30, or the date and time as 2026-03-01 14:30."))
        return
    await state.update_data(filed_at=moment.isoformat())
    await _ask_body(message, state, policy, language)


async def _ask_body(message: Message, state: FSMContext, policy: Policy, language: str) -> None:
    await state.set_state(FilingForm.body)
    await message.answer(_("To which body? Tap one, or type its name."), reply_markup=bodies_keyboard(policy, language))


async def filing_body(
    query: CallbackQuery, callback_data: FilingCb, state: FSMContext, policy: Policy, language: str
) -> None:
    names = {body.code: body.name.get(language) for body in policy.incidents.external_report.bodies}
    await query.answer()
    if callback_data.value in names and query.message:
        await _ask_reference(query.message, state, names[callback_data.value])


async def filing_body_typed(message: Message, state: FSMContext, response: Response) -> None:
    await _ask_reference(message, state, response.check_body(message.text or ""))


async def _ask_reference(message: Message, state: FSMContext, body: str) -> None:
    await state.update_data(body=body)
    await state.set_state(FilingForm.reference)
    await message.answer(_("The reference number of the filing?"))


async def filing_reference(message: Message, state: FSMContext, response: Response) -> None:
    await state.update_data(reference=response.check_reference(message.text or ""))
    await state.set_state(FilingForm.file)
    await message.answer(_("Attach the filed document or a photo of it, or skip."), reply_markup=filing_file_keyboard())


async def filing_file(
    message: Message, state: FSMContext, bot: Bot, response: Response, queries: Queries, policy: Policy, language: str
) -> None:
    attachment = attachment_of(message)
    if attachment is None:
        await message.answer(_("Send a photo or a file, or tap Skip."))
        return
    await _record_filing(
        actor_of(message), message, state, bot, response, queries, policy, language, attachment.file_id
    )


async def filing_skip(
    query: CallbackQuery,
    state: FSMContext,
    bot: Bot,
    response: Response,
    queries: Queries,
    policy: Policy,
    language: str,
) -> None:
    await query.answer()
    if query.message:
        await _record_filing(actor_of(query), query.message, state, bot, response, queries, policy, language, None)


async def _record_filing(
    actor: Actor,
    message: Message,
    state: FSMContext,
    bot: Bot,
    response: Response,
    queries: Queries,
    policy: Policy,
    language: str,
    file_id: str | None,
) -> None:
    data = await state.get_data()
    await response.record_filing(
        actor,
        data["incident_id"],
        filed_at=datetime.fromisoformat(data["filed_at"]),
        body=data.get("body", ""),
        reference=data.get("reference", ""),
        file_id=file_id,
    )
    await state.clear()
    await message.answer(_("The outside report is recorded; the deadline is closed."))
    await send_card(bot, actor, queries, data["incident_id"], policy, language)


async def filing_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("Cancelled. Nothing was saved."))


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    not_command = ~F.text.startswith("/")
    router.callback_query.register(acknowledge, IncidentCb.filter(F.action == "ack"))
    router.callback_query.register(details, IncidentCb.filter(F.action == "det"))
    router.callback_query.register(move, IncidentCb.filter(F.action.in_({"prog", "close", "reopen", "flag"})))
    router.callback_query.register(ask_text, IncidentCb.filter(F.action.in_({"res", "note"})))
    router.callback_query.register(choose_assignee, IncidentCb.filter(F.action == "reas"))
    router.callback_query.register(reassign, IncidentCb.filter(F.action == "to"))
    router.callback_query.register(start_filing, IncidentCb.filter(F.action == "file"))
    router.message.register(resolution, NoteForm.resolution, F.text, not_command)
    router.message.register(note, NoteForm.note, not_command)
    router.callback_query.register(filing_cancel, StateFilter(FilingForm), FilingCb.filter(F.action == "cancel"))
    router.callback_query.register(filing_now, FilingForm.moment, FilingCb.filter(F.action == "now"))
    router.message.register(filing_moment, FilingForm.moment, F.text, not_command)
    router.callback_query.register(filing_body, FilingForm.body, FilingCb.filter(F.action == "body"))
    router.message.register(filing_body_typed, FilingForm.body, F.text, not_command)
    router.message.register(filing_reference, FilingForm.reference, F.text, not_command)
    router.message.register(filing_file, FilingForm.file, not_command)
    router.callback_query.register(filing_skip, FilingForm.file, FilingCb.filter(F.action == "skip"))
    return router
