"""Reporting an incident from a phone in under a minute (A1, A7): /report or the persistent button starts a
wizard (category, severity, what, where, when, loss for theft/fraud, photos and files, summary); /report with a
text or photo, or the Urgent button, reports at once and asks the rest afterwards. Back and Cancel everywhere;
the wizard's answers live in the FSM storage (the database), so a restart loses nothing. The quick path and
the questions after it are in handlers/incident_urgent.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.outgoing.speaker import Speaker
from bot.policy import Policy
from bot.services.incidents import Attachment, Draft, Reporting
from bot.services.incidents.render import place_text
from bot.services.incidents.reporting import MAX_ATTACHMENTS
from handlers.admin import actor_of
from handlers.filters import IsMember
from handlers.incident_keyboards import (
    ReportCb,
    back_cancel_keyboard,
    categories_keyboard,
    main_keyboard,
    moment_keyboard,
    place_keyboard,
    severities_keyboard,
    skip_keyboard,
    summary_keyboard,
)
from handlers.incident_parsing import asks_loss, attachment_of, parse_loss, parse_moment
from handlers.incident_texts import submitted_text
from handlers.incident_urgent import quick
from handlers.wizard_end import ending_with_the_work

ORDER = ("category", "severity", "description", "place", "moment", "loss", "attachments", "summary")


class ReportForm(StatesGroup):
    category = State()
    severity = State()
    description = State()
    place = State()
    moment = State()
    loss = State()
    attachments = State()
    summary = State()
    urgent = State()


# Starting ----------------------------------------------------------------------------------------
async def start(
    message: Message,
    state: FSMContext,
    reporting: Reporting,
    policy: Policy,
    language: str,
    clock: Clock,
    command: CommandObject | None = None,
) -> None:
    """/report or the persistent button; /report with a text or a photo is the quick path."""
    text = command.args if command else None
    attachment = attachment_of(message)
    if text or attachment:
        await quick(message, state, reporting, policy, language, clock, text or "", attachment)
        return
    await state.clear()
    await state.set_state(ReportForm.category)
    await state.update_data(submission=uuid4().hex)  # the Submit of this run files one report, however often
    await message.answer(
        _("New incident report. What kind of incident?"),
        reply_markup=categories_keyboard(policy, language, urgent=True),
    )


async def urgent(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(ReportForm.urgent)
    await query.answer()
    await _ask(
        query,
        _("Send a photo, a voice note or a few words now — it is reported at once; the rest is asked afterwards."),
        back_cancel_keyboard(),
    )


async def urgent_message(
    message: Message, state: FSMContext, reporting: Reporting, policy: Policy, language: str, clock: Clock
) -> None:
    text = message.text or message.caption or ""
    await quick(message, state, reporting, policy, language, clock, text, attachment_of(message))


# The wizard's steps -----------------------------------------------------------------------------------
async def choose(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    reporting: Reporting,
    policy: Policy,
    language: str,
) -> None:
    """A category or a severity button."""
    field, check = (
        ("category", reporting.check_category)
        if callback_data.action == "cat"
        else ("severity", reporting.check_severity)
    )
    check(callback_data.value)
    await state.update_data({field: callback_data.value})
    await query.answer()
    await _next(query.message, state, policy, language, field)


async def describe(message: Message, state: FSMContext, reporting: Reporting, policy: Policy, language: str) -> None:
    attachment = attachment_of(message)
    text = reporting.check_text(message.text or message.caption or "", has_media=attachment is not None)
    data = await state.get_data()
    attachments = data.get("attachments", [])
    if attachment:
        attachments = [*attachments, [attachment.kind, attachment.file_id]]
    await state.update_data(description=text, attachments=attachments)
    await _next(message, state, policy, language, "description")


async def place(message: Message, state: FSMContext, reporting: Reporting, policy: Policy, language: str) -> None:
    """A location pin, typed text, or the reply keyboard's Skip / Back / Cancel."""
    if message.text == _("Cancel"):
        await state.clear()
        await message.answer(_("Cancelled. Nothing was reported."), reply_markup=main_keyboard())
        return
    if message.text == _("◀ Back"):
        await message.answer("◀", reply_markup=main_keyboard())
        await _show(message, state, policy, language, await _previous(state, policy, "place"))
        return
    if message.location:
        await state.update_data(lat=message.location.latitude, lon=message.location.longitude)
    elif message.text == _("Skip"):
        await state.update_data(place=None, lat=None, lon=None)
    else:
        await state.update_data(place=reporting.check_place(message.text or ""))
    following = await _following(state, policy, "place")
    await state.set_state(getattr(ReportForm, following))  # saved with the place before "Noted": one write
    await message.answer(_("📍 Noted."), reply_markup=main_keyboard())
    await _show(message, state, policy, language, following)


async def moment_ago(
    query: CallbackQuery, callback_data: ReportCb, state: FSMContext, clock: Clock, policy: Policy, language: str
) -> None:
    minutes = int(callback_data.value) if callback_data.value.isdigit() else 0
    await state.update_data(occurred=(clock.now() - timedelta(minutes=minutes)).isoformat())
    await query.answer()
    await _next(query.message, state, policy, language, "moment")


async def moment_typed(
    message: Message, state: FSMContext, reporting: Reporting, clock: Clock, policy: Policy, language: str
) -> None:
    moment = parse_moment(message.text or "", clock.now(), policy.organisation.zone)
    if moment is None:
        await message.answer(_("Send the time as 14:30, or the date and time as 2026-03-01 14:30."))
        return
    await state.update_data(occurred=reporting.check_moment(moment).isoformat())
    await _next(message, state, policy, language, "moment")


async def loss(message: Message, state: FSMContext, reporting: Reporting, policy: Policy, language: str) -> None:
    value = parse_loss(message.text or "")
    if value is None:
        await message.answer(_("Send the estimated loss in yuan as a number, e.g. 12000 or 1.2万."))
        return
    await state.update_data(loss=reporting.check_loss(value))
    await _next(message, state, policy, language, "loss")


async def attach(message: Message, state: FSMContext) -> None:
    attachment = attachment_of(message)
    if attachment is None:
        await message.answer(_("Send a photo or a file, or tap Done."))
        return
    attachments = [*(await state.get_data()).get("attachments", []), [attachment.kind, attachment.file_id]]
    if len(attachments) > MAX_ATTACHMENTS:
        await message.answer(_("At most {limit} photos or files per report.").format(limit=MAX_ATTACHMENTS))
        return
    await state.update_data(attachments=attachments)
    await message.answer(
        _("Added ({count}). Send more, or tap Done.").format(count=len(attachments)),
        reply_markup=skip_keyboard(done=True),
    )


async def skip(query: CallbackQuery, state: FSMContext, policy: Policy, language: str) -> None:
    """Skip (loss unknown, no files) and Done (files sent) both move on."""
    current = (await state.get_state() or "").split(":")[-1]
    if current == "loss":
        await state.update_data(loss=None)
    await query.answer()
    await _next(query.message, state, policy, language, current)


async def edit(query: CallbackQuery, callback_data: ReportCb, state: FSMContext, policy: Policy, language: str) -> None:
    if callback_data.value not in ORDER:
        await query.answer()
        return
    await state.update_data(editing=True)
    await query.answer()
    await _show(query.message, state, policy, language, callback_data.value)


async def back(query: CallbackQuery, state: FSMContext, policy: Policy, language: str) -> None:
    current = (await state.get_state() or "").split(":")[-1]
    await query.answer()
    await _show(query.message, state, policy, language, await _previous(state, policy, current))


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if query.message:
        await query.message.answer(_("Cancelled. Nothing was reported."), reply_markup=main_keyboard())


async def submit(
    query: CallbackQuery, state: FSMContext, reporting: Reporting, clock: Clock, policy: Policy, language: str
) -> None:
    data = await state.get_data()
    draft = Draft(
        category=data.get("category", ""),
        severity=data.get("severity", ""),
        description=data.get("description", ""),
        occurred_at=datetime.fromisoformat(data["occurred"]) if data.get("occurred") else clock.now(),
        location_text=data.get("place"),
        latitude=data.get("lat"),
        longitude=data.get("lon"),
        loss_yuan=data.get("loss"),
        attachments=tuple(Attachment(kind, file_id) for kind, file_id in data.get("attachments", [])),
        submission_key=data.get("submission"),
    )
    async with ending_with_the_work(state):
        submitted = await reporting.submit(actor_of(query), draft)
    await query.answer()
    if query.message:
        await query.message.answer(submitted_text(submitted, policy, language), reply_markup=main_keyboard())


# Moving between steps ------------------------------------------------------------------------------------
async def _next(message: Message | None, state: FSMContext, policy: Policy, language: str, done: str) -> None:
    await _show(message, state, policy, language, await _following(state, policy, done))


async def _following(state: FSMContext, policy: Policy, done: str) -> str:
    """The step after `done`: the next in ORDER (the loss only where the category asks it), or, when editing,
    back to the summary unless a new category needs the loss."""
    data = await state.get_data()
    if data.get("editing"):
        needs_loss = done == "category" and asks_loss(policy, data) and data.get("loss") is None
        return "loss" if needs_loss else "summary"
    following = ORDER[ORDER.index(done) + 1] if done in ORDER[:-1] else "summary"
    return "attachments" if following == "loss" and not asks_loss(policy, data) else following


async def _previous(state: FSMContext, policy: Policy, current: str) -> str:
    data = await state.get_data()
    if current == "urgent":
        return "category"
    if data.get("editing") or current not in ORDER:
        return "summary"
    previous = ORDER[max(ORDER.index(current) - 1, 0)]
    if previous == "loss" and not asks_loss(policy, data):
        previous = "moment"
    return previous


async def _show(message: Message | None, state: FSMContext, policy: Policy, language: str, step: str) -> None:
    if message is None:
        return
    await state.set_state(getattr(ReportForm, step))
    data = await state.get_data()
    if step == "category":
        await message.answer(
            _("What kind of incident?"), reply_markup=categories_keyboard(policy, language, urgent=True)
        )
    elif step == "severity":
        await message.answer(_("How serious is it?"), reply_markup=severities_keyboard(policy, language))
    elif step == "description":
        await message.answer(
            _("What happened? Type it, or send a voice note or a photo with a caption."),
            reply_markup=back_cancel_keyboard(),
        )
    elif step == "place":
        await message.answer(
            _("Where? Tap the button to send your location, or type the place."), reply_markup=place_keyboard()
        )
    elif step == "moment":
        await message.answer(
            _("When did it happen? Tap a choice, or type the time (14:30) or date and time (2026-03-01 14:30)."),
            reply_markup=moment_keyboard(),
        )
    elif step == "loss":
        await message.answer(_("Estimated loss in yuan? (e.g. 12000 or 1.2万)"), reply_markup=skip_keyboard())
    elif step == "attachments":
        await message.answer(
            _("Add photos or files if you have any (several are fine), then tap Done."),
            reply_markup=skip_keyboard(done=True),
        )
    else:
        text = _summary(data, Speaker(get_i18n(), policy, language))
        await message.answer(text, reply_markup=summary_keyboard(asks_loss(policy, data)))


def _summary(data: dict[str, Any], w: Speaker) -> str:
    occurred = datetime.fromisoformat(data["occurred"]) if data.get("occurred") else None
    lines = [
        _("Please check your report:"),
        _("Category: {value}").format(value=w.category(data.get("category", ""))),
        _("Severity: {value}").format(value=w.severity(data.get("severity", ""))),
        _("What happened: {text}").format(text=data.get("description") or _("(see the photo or voice note)")),
        _("Where: {place}").format(place=place_text(w, data.get("place"), data.get("lat"), data.get("lon"))),
        _("When: {moment}").format(moment=w.moment(occurred) if occurred else _("just now")),
    ]
    if asks_loss(w.policy, data):
        value = data.get("loss")
        lines.append(_("Estimated loss: {loss} yuan").format(loss="?" if value is None else w.number(value)))
    lines.append(_("Photos and files: {count}").format(count=len(data.get("attachments", []))))
    return "\n".join(lines)


async def _ask(query: CallbackQuery, text: str, markup: Any) -> None:
    if query.message:
        await query.message.answer(text, reply_markup=markup)


def build(button_labels: set[str]) -> Router:
    """`button_labels`: the persistent button's text in every language, so it works whatever the member's language."""
    router = Router(name=__name__)
    router.message.filter(IsMember(), F.chat.type == "private")
    router.callback_query.filter(IsMember())
    not_command = ~F.text.startswith("/")
    router.message.register(start, Command("report"))
    router.message.register(start, F.text.in_(button_labels))
    router.callback_query.register(cancel, StateFilter(ReportForm), ReportCb.filter(F.action == "cancel"))
    router.callback_query.register(back, StateFilter(ReportForm), ReportCb.filter(F.action == "back"))
    router.callback_query.register(urgent, ReportForm.category, ReportCb.filter(F.action == "urgent"))
    router.message.register(urgent_message, ReportForm.urgent, not_command)
    router.callback_query.register(choose, ReportForm.category, ReportCb.filter(F.action == "cat"))
    router.callback_query.register(choose, ReportForm.severity, ReportCb.filter(F.action == "sev"))
    router.message.register(describe, ReportForm.description, not_command)
    router.message.register(place, ReportForm.place, not_command)
    router.callback_query.register(moment_ago, ReportForm.moment, ReportCb.filter(F.action == "ago"))
    router.message.register(moment_typed, ReportForm.moment, F.text, not_command)
    router.message.register(loss, ReportForm.loss, F.text, not_command)
    router.message.register(attach, ReportForm.attachments, not_command)
    router.callback_query.register(
        skip, StateFilter(ReportForm.loss, ReportForm.attachments), ReportCb.filter(F.action.in_({"skip", "done"}))
    )
    router.callback_query.register(edit, ReportForm.summary, ReportCb.filter(F.action == "edit"))
    router.callback_query.register(submit, ReportForm.summary, ReportCb.filter(F.action == "submit"))
    return router
