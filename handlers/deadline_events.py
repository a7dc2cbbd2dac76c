"""/event: record an event from which the policy derives deadlines (E2, E6) — kind, date,
description, confirm — then they are assigned and reminded like every other deadline."""

from __future__ import annotations

from datetime import date

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.deadlines.events import MAX_DESCRIPTION, EventService
from bot.services.deadlines.views import DeadlineTexts
from handlers.admin import actor_of
from handlers.deadline_ui import (
    DeadlineFormCb,
    cancel_form,
    event_kinds_keyboard,
    form_keyboard,
    not_a_command,
    parse_day,
    replace,
)
from handlers.filters import IsMember


class EventForm(StatesGroup):
    kind = State()
    day = State()
    description = State()
    confirm = State()


async def start_event(
    message: Message, state: FSMContext, deadline_events: EventService, deadline_texts: DeadlineTexts, language: str
) -> None:
    text, markup = await _kind_step(actor_of(message), deadline_events, deadline_texts, language)
    await state.set_state(EventForm.kind)
    await state.set_data({})
    await message.answer(text, reply_markup=markup)


async def _kind_step(
    actor: Actor, deadline_events: EventService, texts: DeadlineTexts, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    events = await deadline_events.recordable(actor)
    kinds = ((event.code, texts.event_name(event.code, language)) for event in events)
    return _("Record an event — step 1 of 4: which event?"), event_kinds_keyboard(kinds)


async def choose_kind(query: CallbackQuery, callback_data: DeadlineFormCb, state: FSMContext) -> None:
    await state.update_data(kind=callback_data.value)
    await state.set_state(EventForm.day)
    await query.answer()
    await replace(query, _day_question(), form_keyboard(today=True))


def _day_question() -> str:
    return _(
        "Step 2 of 4: on which day did it happen, or will it happen (a meeting, a planned change)? "
        "Send a date such as 2026-05-15, or tap Today."
    )


async def day_typed(message: Message, state: FSMContext, deadline_events: EventService) -> None:
    day = parse_day(message.text or "")
    if day is None:
        await message.answer(_("Please send a date such as 2026-05-15."))
        return
    await _take_day(message, actor_of(message), state, deadline_events, day)


async def day_today(
    query: CallbackQuery, state: FSMContext, deadline_events: EventService, clock: Clock, policy: Policy
) -> None:
    await query.answer()
    if query.message:
        today = clock.now().astimezone(policy.organisation.zone).date()
        await _take_day(query.message, actor_of(query), state, deadline_events, today)


async def _take_day(
    message: Message, actor: Actor, state: FSMContext, deadline_events: EventService, day: date
) -> None:
    await deadline_events.preview(actor, (await state.get_data()).get("kind", ""), day)  # checks right and date
    await state.update_data(day=day.isoformat())
    await state.set_state(EventForm.description)
    await message.answer(_description_question(), reply_markup=form_keyboard())


def _description_question() -> str:
    return _("Step 3 of 4: describe the event in a few words (for example the resolution's subject).")


async def description_typed(
    message: Message, state: FSMContext, deadline_events: EventService, deadline_texts: DeadlineTexts, language: str
) -> None:
    description = " ".join((message.text or "").split())
    if not description:
        await message.answer(_("Please describe the event in a few words."))
        return
    if len(description) > MAX_DESCRIPTION:
        await message.answer(
            _("The description is too long: at most {limit} characters.").format(limit=MAX_DESCRIPTION)
        )
        return
    await state.update_data(description=description)
    await state.set_state(EventForm.confirm)
    data = await state.get_data()
    text = await _confirmation(actor_of(message), data, deadline_events, deadline_texts, language)
    await message.answer(text, reply_markup=form_keyboard(confirm=_("Record the event")))


async def _confirmation(actor: Actor, data: dict, events: EventService, texts: DeadlineTexts, language: str) -> str:
    day = date.fromisoformat(data["day"])
    deadlines = await events.preview(actor, data["kind"], day)
    lines = [
        _("Step 4 of 4: record this event?"),
        _("{event} on {day}: {description}").format(
            event=texts.event_name(data["kind"], language),
            day=texts.day(day, language),
            description=data["description"],
        ),
        _("Deadlines it creates:"),
    ]
    for item in deadlines:
        line = _("• {name}: due {due}").format(
            name=texts.name(item.code, language), due=texts.moment(item.due.utc, language)
        )
        if item.due.provisional:
            line = _("{line} (provisional date)").format(line=line)
        lines.append(line)
    return "\n".join(lines)


async def record_confirmed(
    query: CallbackQuery, state: FSMContext, deadline_events: EventService, deadline_texts: DeadlineTexts, language: str
) -> None:
    data = await state.get_data()
    views = await deadline_events.record_event(
        actor_of(query),
        data.get("kind", ""),
        date.fromisoformat(data.get("day", "1970-01-01")),
        data.get("description", ""),
    )
    await state.clear()
    await query.answer()
    lines = [_("Recorded. The owners have been told and will be reminded:")]
    lines += [deadline_texts.line(view, language) for view in views]
    await replace(query, "\n".join(lines))


async def event_back(
    query: CallbackQuery, state: FSMContext, deadline_events: EventService, deadline_texts: DeadlineTexts, language: str
) -> None:
    current = await state.get_state()
    await query.answer()
    if current == EventForm.day.state:
        text, markup = await _kind_step(actor_of(query), deadline_events, deadline_texts, language)
        await state.set_state(EventForm.kind)
        await replace(query, text, markup)
    elif current == EventForm.description.state:
        await state.set_state(EventForm.day)
        await replace(query, _day_question(), form_keyboard(today=True))
    elif current == EventForm.confirm.state:
        await state.set_state(EventForm.description)
        await replace(query, _description_question(), form_keyboard())


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(start_event, Command("event"))
    router.callback_query.register(choose_kind, EventForm.kind, DeadlineFormCb.filter(F.action == "kind"))
    router.message.register(day_typed, EventForm.day, not_a_command)
    router.callback_query.register(day_today, EventForm.day, DeadlineFormCb.filter(F.action == "today"))
    router.message.register(description_typed, EventForm.description, not_a_command)
    router.callback_query.register(record_confirmed, EventForm.confirm, DeadlineFormCb.filter(F.action == "ok"))
    router.callback_query.register(event_back, DeadlineFormCb.filter(F.action == "back"), EventForm.day)
    router.callback_query.register(event_back, DeadlineFormCb.filter(F.action == "back"), EventForm.description)
    router.callback_query.register(event_back, DeadlineFormCb.filter(F.action == "back"), EventForm.confirm)
    router.callback_query.register(cancel_form, StateFilter(EventForm), DeadlineFormCb.filter(F.action == "cancel"))
    return router
