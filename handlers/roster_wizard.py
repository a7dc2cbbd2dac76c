"""/roster: administrators and roster owners change a duty room's roster in chat (B1) — assign a
member to dates, swap one shift, look at the next 7 days, import a CSV file. Back and Cancel on
every step; every step asks the service, which re-checks the member's right (F3)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.policy import Policy
from bot.services.errors import N_, InvalidInput
from bot.services.roster import POSITIONS, RosterService
from bot.services.roster_import import RosterImport
from handlers import roster_keyboards as kb
from handlers.admin import actor_of
from handlers.roster_keyboards import RosterCb
from handlers.roster_texts import crew_lines, problem_lines

MAX_CSV_BYTES = 512 * 1024
MAX_BUTTONS = 60
DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")


class RosterWizard(StatesGroup):
    room = State()
    action = State()
    shift = State()
    member = State()
    position = State()
    dates = State()
    day = State()
    replaces = State()
    confirm = State()
    week = State()
    upload = State()


PATHS = {
    "assign": ("room", "action", "shift", "member", "position", "dates", "confirm"),
    "swap": ("room", "action", "shift", "member", "position", "day", "replaces", "confirm"),
    "week": ("room", "action", "week"),
    "import": ("room", "upload"),
}


class Step:
    """Shows one step of the wizard; each asks the service first, so a press is re-authorised (F3)."""

    def __init__(self, event: Message | CallbackQuery, state: FSMContext, data: dict[str, Any]) -> None:
        self.event, self.state = event, state
        self.roster: RosterService = data["roster"]
        self.policy: Policy = data["policy"]
        self.clock: Clock = data["clock"]
        self.language: str = data["language"]
        self.actor = actor_of(event)

    async def show(self, step: str) -> None:
        await self.state.set_state(getattr(RosterWizard, step))
        values = await self.state.get_data()
        room = values.get("room", "")
        text, markup = await getattr(self, f"_{step}")(values, room)
        if isinstance(self.event, CallbackQuery):
            await kb.replace(self.event, text, markup)
        else:
            await self.event.answer(text, reply_markup=markup)

    def room_name(self, room: str) -> str:
        return self.policy.duty_room(room).name.get(self.language)

    async def _room(self, values: dict, room: str) -> tuple[str, InlineKeyboardMarkup]:
        rooms = await self.roster.editable_rooms(self.actor)
        return _("Duty roster: which duty room?"), kb.rooms_keyboard((code, self.room_name(code)) for code in rooms)

    async def _action(self, values: dict, room: str) -> tuple[str, InlineKeyboardMarkup]:
        await self.roster.check_editor(self.actor, room)
        return _("{room}: what would you like to do?").format(room=self.room_name(room)), kb.actions_keyboard()

    async def _shift(self, values: dict, room: str) -> tuple[str, InlineKeyboardMarkup]:
        await self.roster.check_editor(self.actor, room)
        shifts = self.policy.duty_room(room).shifts
        options = [(s.code, f"{s.name.get(self.language)} {s.start:%H:%M}–{s.end:%H:%M}") for s in shifts]
        return _("{room}: which shift?").format(room=self.room_name(room)), kb.choices(options, "shift", columns=1)

    async def _member(self, values: dict, room: str) -> tuple[str, InlineKeyboardMarkup]:
        officers = await self.roster.officers(self.actor, room)
        if not officers:
            return _("Nobody holds the duty officer role yet. Give it to members in /members first."), kb.back_only()
        text = _("Who stands the shift?")
        if len(officers) > MAX_BUTTONS:  # Telegram takes 100 buttons at most
            text += "\n" + _("Only the first {count} are shown; put others on the roster with a CSV file.").format(
                count=MAX_BUTTONS
            )
        return text, kb.choices([(str(m.id), m.name) for m in officers[:MAX_BUTTONS]], "member")

    async def _position(self, values: dict, room: str) -> tuple[str, InlineKeyboardMarkup]:
        await self.roster.check_editor(self.actor, room)
        return _("{name} as primary or backup officer?").format(name=values["member_name"]), kb.positions_keyboard()

    async def _dates(self, values: dict, room: str) -> tuple[str, InlineKeyboardMarkup]:
        await self.roster.check_editor(self.actor, room)
        text = _("Which dates? Send one date (2026-03-05) or the first and last (2026-03-05 2026-03-11), or tap:")
        return text, kb.spans_keyboard()

    async def _day(self, values: dict, room: str) -> tuple[str, InlineKeyboardMarkup]:
        await self.roster.check_editor(self.actor, room)
        today = self.today()
        days = [(d.isoformat(), f"{d:%m-%d}") for d in (today + timedelta(days=n) for n in range(8))]
        return _("Which date's shift? Tap one or send a date (2026-03-05)."), kb.choices(days, "day", columns=4)

    async def _replaces(self, values: dict, room: str) -> tuple[str, InlineKeyboardMarkup]:
        crew = await self.roster.slot(self.actor, room, values["shift"], date.fromisoformat(values["day"]))
        current = crew.primary if values["position"] == "primary" else crew.backup
        options = [(str(m.id), _("Instead of {name}").format(name=m.name)) for m in current]
        options.append(("", _("Instead of everyone in this position") if current else _("Nobody is there yet: add")))
        return _("Whom does {name} replace?").format(name=values["member_name"]), kb.choices(options, "repl", columns=1)

    async def _confirm(self, values: dict, room: str) -> tuple[str, InlineKeyboardMarkup]:
        await self.roster.check_editor(self.actor, room)
        position = _("Primary") if values["position"] == "primary" else _("Backup")
        lines = [
            _("Shift: {shift}").format(shift=self.roster.texts.shift(self.language, room, values["shift"])),
            _("Member: {name} ({position})").format(name=values["member_name"], position=position),
        ]
        if values["kind"] == "assign":
            lines.append(_("Dates: {first} to {last}").format(first=values["first"], last=values["last"]))
        else:
            replaced = values.get("replaces_name") or _("everyone in this position")
            lines.append(_("Date: {day}, instead of {name}").format(day=values["day"], name=replaced))
        return "\n".join(lines), kb.save_keyboard()

    async def _week(self, values: dict, room: str) -> tuple[str, InlineKeyboardMarkup]:
        shifts = await self.roster.upcoming(self.actor, room)
        lines = [self.room_name(room)]
        for crew in shifts:
            lines += ["", *crew_lines(crew, self.policy, self.language)]
        return "\n".join(lines), kb.back_only()

    async def _upload(self, values: dict, room: str) -> tuple[str, InlineKeyboardMarkup]:
        await self.roster.editable_rooms(self.actor)
        text = _(
            "Send the roster as a CSV file. One row per person and shift: room, date, shift, member, position — "
            "e.g. dispatch,2026-03-05,night,王芳,primary. The member is a Telegram id or the exact name; the "
            "position is primary or backup. Rows replace what the roster had for the same room, date, shift and "
            "position. Every row is checked first: with any mistake nothing is stored."
        )
        return text, kb.back_only()

    def today(self) -> date:
        return self.clock.now().astimezone(self.policy.organisation.zone).date()


# Handlers --------------------------------------------------------------------------------------
async def start(message: Message, state: FSMContext, **data: Any) -> None:
    await state.set_data({"kind": ""})  # a fresh start, whatever was left of an earlier one
    await Step(message, state, data).show("room")


async def pressed(query: CallbackQuery, callback_data: RosterCb, state: FSMContext, **data: Any) -> None:
    """Every button of the wizard: remember the choice, then show the step after it."""
    step, value = Step(query, state, data), callback_data.value
    values = await state.get_data()
    action = callback_data.action
    if not _well_formed(action, value):  # a forged or garbled button: the service never sees it
        raise InvalidInput(N_("This button is no longer valid. Please start again."))
    if action == "room":
        await state.update_data(room=value, kind="")
    elif action in ("do", "import"):
        await state.update_data(kind=value or "import")
    elif action == "shift":
        await state.update_data(shift=value)
    elif action == "member":
        officers = {str(m.id): m.name for m in await step.roster.officers(step.actor, values.get("room", ""))}
        await state.update_data(member_id=value, member_name=officers.get(value, "?"))
    elif action == "pos":
        await state.update_data(position=value)
    elif action == "span":
        today = step.today()
        await state.update_data(first=today.isoformat(), last=(today + timedelta(days=int(value) - 1)).isoformat())
    elif action == "day":
        await state.update_data(day=value)
    elif action == "repl":
        crew = await step.roster.slot(step.actor, values["room"], values["shift"], date.fromisoformat(values["day"]))
        names = {str(m.id): m.name for m in crew.everyone}
        await state.update_data(replaces=value, replaces_name=names.get(value, ""))
    await step.show(_next(await state.get_data(), await state.get_state()))


async def back(query: CallbackQuery, state: FSMContext, **data: Any) -> None:
    values, current = await state.get_data(), _step_name(await state.get_state())
    path = PATHS.get(values.get("kind", ""), ("room", "action"))
    previous = path[max(path.index(current) - 1, 0)] if current in path else "room"
    await Step(query, state, data).show(previous)


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await kb.replace(query, _("Cancelled. The roster was not changed."))


async def typed_dates(message: Message, state: FSMContext, **data: Any) -> None:
    found = DATE.findall(message.text or "")
    days = [_parse(text) for text in found]
    if not 1 <= len(days) <= 2 or None in days:
        await message.answer(_("Write a date like 2026-03-05, or two dates for a range."))
        return
    current = await state.get_state()
    if current == RosterWizard.day.state:
        await state.update_data(day=days[0].isoformat())
    else:
        await state.update_data(first=days[0].isoformat(), last=days[-1].isoformat())
    await Step(message, state, data).show(_next(await state.get_data(), current))


async def save(query: CallbackQuery, state: FSMContext, **data: Any) -> None:
    step, values = Step(query, state, data), await state.get_data()
    roster, actor, member_id = step.roster, step.actor, int(values["member_id"])
    common = dict(room=values["room"], shift=values["shift"], member_id=member_id, position=values["position"])
    if values["kind"] == "assign":
        first, last = date.fromisoformat(values["first"]), date.fromisoformat(values["last"])
        days = await roster.assign_days(actor, first=first, last=last, **common)
        text = _("Saved: {name} is on the roster for {count} shift(s), {first} to {last}.").format(
            name=values["member_name"], count=len(days), first=days[0], last=days[-1]
        )
    else:
        replaces = int(values["replaces"]) if values.get("replaces") else None
        await roster.swap(actor, day=date.fromisoformat(values["day"]), replaces=replaces, **common)
        text = _("Saved: {name} takes the shift on {day}. Both sides have been told.").format(
            name=values["member_name"], day=values["day"]
        )
    await state.clear()
    await kb.replace(query, text)


async def uploaded(message: Message, state: FSMContext, bot: Bot, roster_import: RosterImport) -> None:
    document = message.document
    if document is None or (document.file_size or 0) > MAX_CSV_BYTES:
        await message.answer(_("Please send a CSV file of at most 512 KB as a document, or /cancel."))
        return
    downloaded = await bot.download(document.file_id)
    result = await roster_import.import_csv(actor_of(message), downloaded.read() if downloaded else b"")
    if result.problems:
        await message.answer(
            "\n".join(
                [_("Nothing was imported. Fix these rows and send the file again:"), *problem_lines(result.problems)]
            )
        )
        return
    await state.clear()
    await message.answer(_("Imported {count} roster rows. Everyone concerned has been told.").format(count=result.rows))


def _well_formed(action: str, value: str) -> bool:
    checks = {
        "member": value.isdigit,
        "repl": lambda: value == "" or value.isdigit(),
        "pos": lambda: value in POSITIONS,
        "span": lambda: value in ("7", "30"),
        "day": lambda: _parse(value) is not None,
    }
    return checks.get(action, lambda: True)()


def _next(values: dict[str, Any], current: str | None) -> str:
    path = PATHS.get(values.get("kind", ""), ("room", "action"))
    name = _step_name(current)
    return path[path.index(name) + 1] if name in path and path.index(name) + 1 < len(path) else path[-1]


def _step_name(state: str | None) -> str:
    return (state or "").rpartition(":")[2]


def _parse(text: str) -> date | None:
    try:
        year, month, day = (int(part) for part in re.split(r"[-/.]", text))
        return date(year, month, day)
    except ValueError:
        return None


def register(router: Router) -> None:
    router.message.register(start, Command("roster"))
    wizard = StateFilter(RosterWizard)
    router.callback_query.register(cancel, wizard, RosterCb.filter(F.action == "cancel"))
    router.callback_query.register(back, wizard, RosterCb.filter(F.action == "back"))
    router.callback_query.register(save, RosterWizard.confirm, RosterCb.filter(F.action == "save"))
    for action, state in (
        ("room", RosterWizard.room),
        ("import", RosterWizard.room),
        ("do", RosterWizard.action),
        ("shift", RosterWizard.shift),
        ("member", RosterWizard.member),
        ("pos", RosterWizard.position),
        ("span", RosterWizard.dates),
        ("day", RosterWizard.day),
        ("repl", RosterWizard.replaces),
    ):
        router.callback_query.register(pressed, state, RosterCb.filter(F.action == action))
    router.message.register(
        typed_dates, StateFilter(RosterWizard.dates, RosterWizard.day), F.text, ~F.text.startswith("/")
    )
    router.message.register(uploaded, RosterWizard.upload, ~F.text.startswith("/"))
