"""Callback data, keyboards and input parsing of the deadlines flow. Buttons carry ids only; every
press is re-authorised by the service it calls (F3). The buttons under reminders and extension
requests live in bot/outgoing/deadlines.py."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.outgoing.deadlines import DeadlineCb
from handlers.keyboards import button


class DeadlineFormCb(CallbackData, prefix="dlf"):
    action: str  # back | cancel | ok | kind | today
    value: str = ""


async def replace(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Show the next step in the pressed message; a second tap on the same button changes nothing."""
    if query.message is None:
        return
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:
        if "message is not modified" not in str(error):
            raise


async def open_form(query: CallbackQuery, state: FSMContext, step: State, data: dict, question: str) -> None:
    """Start a form from a button under a message: its first step is asked in a new message."""
    await state.set_state(step)
    await state.set_data(data)
    await query.answer()
    if query.message:
        await query.message.answer(question, reply_markup=form_keyboard(first=True))


async def cancel_form(query: CallbackQuery, state: FSMContext) -> None:
    """Cancel on any step of a deadlines form (registered for each form's states)."""
    await state.clear()
    await query.answer()
    await replace(query, _("Cancelled. Nothing was saved."))


def not_a_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


def done_buttons(items: Iterable[tuple[int, str]]) -> InlineKeyboardMarkup | None:
    """A Done button for each of the member's own open items in /deadlines."""
    rows = [[button("✅ " + label, DeadlineCb(action="done", id=item_id))] for item_id, label in items]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def form_keyboard(*, confirm: str | None = None, today: bool = False, first: bool = False) -> InlineKeyboardMarkup:
    """Back (except on a form's first step) and Cancel on every step, the step's own buttons above them."""
    rows: list[list[InlineKeyboardButton]] = []
    if today:
        rows.append([button(_("Today"), DeadlineFormCb(action="today"))])
    if confirm:
        rows.append([button(confirm, DeadlineFormCb(action="ok"))])
    navigation = [] if first else [button(_("◀ Back"), DeadlineFormCb(action="back"))]
    rows.append([*navigation, button(_("Cancel"), DeadlineFormCb(action="cancel"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def event_kinds_keyboard(kinds: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
    rows = [[button(name, DeadlineFormCb(action="kind", value=code))] for code, name in kinds]
    rows.append([button(_("Cancel"), DeadlineFormCb(action="cancel"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


# Input ----------------------------------------------------------------------------------------------
DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_day(text: str) -> date | None:
    """ "2026-05-15" (also with / or . between the parts), else None."""
    match = DAY.fullmatch(re.sub(r"[/.]", "-", text.strip()))
    try:
        return date(int(match[1]), int(match[2]), int(match[3])) if match else None
    except ValueError:
        return None


def parse_moment(text: str, zone: ZoneInfo, default: time) -> datetime | None:
    """ "2026-04-10" (at ``default``) or "2026-04-10 18:00", in the organisation's time zone."""
    parts = text.split()
    day = parse_day(parts[0]) if 1 <= len(parts) <= 2 else None
    if day is None:
        return None
    at = default
    if len(parts) == 2:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", parts[1])
        if not match:
            return None
        at = time(int(match[1]), int(match[2]))
    return datetime.combine(day, at, tzinfo=zone)


def parse_period(text: str, today: date) -> tuple[date, date] | None:
    """The period of /timeliness: nothing (last month), 2026-03, 2026-Q1, 2026-H1, 2026, or two days."""
    text = text.strip().upper()
    if not text:
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(match[1]), int(match[2])
        return (date(year, month, 1), _month_end(year, month)) if 1 <= month <= 12 else None
    if match := re.fullmatch(r"(\d{4})-([QH])([1-4])", text):
        year, size, number = int(match[1]), 3 if match[2] == "Q" else 6, int(match[3])
        if number * size > 12:
            return None
        return date(year, (number - 1) * size + 1, 1), _month_end(year, number * size)
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 1, 1), date(int(text), 12, 31)
    days = [parse_day(part) for part in re.split(r"\s+|\.\.", text) if part]
    if len(days) == 2 and days[0] and days[1] and days[0] <= days[1]:
        return days[0], days[1]
    return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])
