"""/access: the member's requests and grants, and the request wizard (C1–C5, C7):
data set (search or browse) → mode → [why full access] → purpose → duration → notice → confirm.
Every step has Back and Cancel; the wizard's state is kept in the database."""

from __future__ import annotations

from datetime import date

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.outgoing.access import AccessCb
from bot.policy import Policy
from bot.services.access import AccessService, Draft
from bot.services.access_catalogue import MODE_NAMES, DatasetView
from bot.services.actor import Actor
from handlers.access_buttons import AskCb, choices
from handlers.access_texts import overview_text
from handlers.admin import actor_of
from handlers.dates import parse_day
from handlers.filters import IsMember


class AccessWizard(StatesGroup):
    dataset = State()
    mode = State()
    reason = State()
    purpose = State()
    duration = State()
    notice = State()
    confirm = State()


CANCEL = AskCb(action="cancel")
BACK = AskCb(action="back")


async def overview(message: Message, access: AccessService, policy: Policy, language: str) -> None:
    requests, grants = await access.overview(actor_of(message), language)
    options = [(_("➕ New request"), AccessCb(action="new"))]
    options += [
        (_("Withdraw #{id}").format(id=r.id), AccessCb(action="withdraw", id=r.id))
        for r in requests
        if r.state == "pending"
    ]
    text = overview_text(requests, grants, language, policy.organisation.zone)
    protect = any(item.classified for item in [*requests, *grants])  # classified details: no forwarding
    await message.answer(text, reply_markup=choices(options, _), protect_content=protect)


async def new_request(query: CallbackQuery, state: FSMContext, access: AccessService, language: str) -> None:
    await query.answer()
    await state.clear()
    if query.message:
        await _ask_dataset(query.message, actor_of(query), state, access, language)


async def withdraw(query: CallbackQuery, callback_data: AccessCb, access: AccessService) -> None:
    await access.withdraw(actor_of(query), callback_data.id)
    await query.answer()
    if query.message:
        await query.message.answer(_("Request #{id} was withdrawn.").format(id=callback_data.id))


async def extend(
    query: CallbackQuery, callback_data: AccessCb, state: FSMContext, access: AccessService, language: str
) -> None:
    """C7: an extension is a new request prefilled from the old one; it starts at the duration."""
    draft = await access.extension(actor_of(query), callback_data.id)
    await state.set_data(_data(draft))
    await query.answer()
    if query.message:
        await query.message.answer(
            _("Extension of grant #{id}: everything is copied from your last request.").format(id=callback_data.id)
        )
        await _ask_duration(query.message, actor_of(query), state, access, language)


# Step 1: the data set -----------------------------------------------------------------------------------
async def _ask_dataset(message: Message, actor: Actor, state: FSMContext, access: AccessService, language: str) -> None:
    await state.set_state(AccessWizard.dataset)
    departments = await access.departments(actor, language)
    options = [(name, AskCb(action="dept", value=code)) for code, name in departments]
    await message.answer(
        _("New request — step 1: which data set? Type part of its name, or browse by department."),
        reply_markup=choices(options, _, back=None, cancel=CANCEL),
    )


async def browse_department(query: CallbackQuery, callback_data: AskCb, access: AccessService, language: str) -> None:
    found = await access.find(actor_of(query), language, department=callback_data.value)
    await query.answer()
    if query.message:
        await _offer_datasets(query.message, found)


async def search_dataset(message: Message, access: AccessService, language: str) -> None:
    found = await access.find(actor_of(message), language, text=message.text or "")
    await _offer_datasets(message, found)


async def _offer_datasets(message: Message, found: list[DatasetView]) -> None:
    if not found:
        await message.answer(_("No data set matches. Type another part of the name, or browse by department."))
        return
    options = [(view.name, AskCb(action="ds", value=str(view.id))) for view in found]
    await message.answer(
        _("Tap the data set:"), reply_markup=choices(options, _, back=AskCb(action="restart"), cancel=CANCEL)
    )


async def choose_dataset(
    query: CallbackQuery, callback_data: AskCb, state: FSMContext, access: AccessService, language: str
) -> None:
    # a forged value finds no data set (id 0) rather than failing int() or PostgreSQL's integer range (F3)
    value = callback_data.value
    view = await access.dataset(
        actor_of(query), int(value) if value.isascii() and value.isdigit() and len(value) < 10 else 0, language
    )
    mode = "read_only" if "read_only" in view.modes else view.modes[0]  # C4: read-only unless asked
    await state.update_data(dataset_id=view.id, mode=mode)
    await query.answer()
    if query.message:
        await _ask_mode(query.message, actor_of(query), state, access, language)


async def restart(query: CallbackQuery, state: FSMContext, access: AccessService, language: str) -> None:
    await query.answer()
    if query.message:
        await _ask_dataset(query.message, actor_of(query), state, access, language)


# Step 2: the mode ---------------------------------------------------------------------------------------
async def _ask_mode(message: Message, actor: Actor, state: FSMContext, access: AccessService, language: str) -> None:
    data = await state.get_data()
    view = await access.dataset(actor, data["dataset_id"], language)
    await state.set_state(AccessWizard.mode)
    options = [
        (("✅ " if mode == data["mode"] else "▫️ ") + _(MODE_NAMES[mode]), AskCb(action="mode", value=mode))
        for mode in view.modes
    ]
    options.append((_("Next ▶"), AskCb(action="next")))
    text = _(
        "{name}\n{description}\n\nStep 2: which access do you need? Read-only is preselected; "
        "full access and export need the top approval (C4, C5)."
    ).format(name=view.name, description=view.description)
    await message.answer(text, reply_markup=choices(options, _, back=BACK, cancel=CANCEL))


async def choose_mode(
    query: CallbackQuery, callback_data: AskCb, state: FSMContext, access: AccessService, language: str
) -> None:
    data = await state.get_data()
    await access.dataset(actor_of(query), data["dataset_id"], language, mode=callback_data.value)
    await state.update_data(mode=callback_data.value)
    await query.answer()
    if query.message:
        await _ask_mode(query.message, actor_of(query), state, access, language)


async def mode_chosen(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if query.message:
        full = (await state.get_data())["mode"] == "full"
        await (_ask_reason(query.message, state) if full else _ask_purpose(query.message, state))


# Steps 3 and 4: why full access, and the purpose ------------------------------------------------------------
async def _ask_reason(message: Message, state: FSMContext) -> None:
    await state.set_state(AccessWizard.reason)
    await message.answer(
        _("Full access needs a written reason (C4): why is read-only not enough?"),
        reply_markup=choices([], _, back=BACK, cancel=CANCEL),
    )


async def _ask_purpose(message: Message, state: FSMContext) -> None:
    await state.set_state(AccessWizard.purpose)
    await message.answer(
        _("Step 3: what do you need the data for? Write at least one full sentence."),
        reply_markup=choices([], _, back=BACK, cancel=CANCEL),
    )


async def reason_given(message: Message, state: FSMContext, access: AccessService) -> None:
    await state.update_data(full_reason=access.check_purpose(message.text or ""))
    await _ask_purpose(message, state)


async def purpose_given(message: Message, state: FSMContext, access: AccessService, language: str) -> None:
    await state.update_data(purpose=access.check_purpose(message.text or ""))
    await _ask_duration(message, actor_of(message), state, access, language)


# Step 5: how long ---------------------------------------------------------------------------------------
async def _ask_duration(
    message: Message, actor: Actor, state: FSMContext, access: AccessService, language: str
) -> None:
    data = await state.get_data()
    presets, last = await access.presets(actor, data["dataset_id"], data["mode"])
    await state.set_state(AccessWizard.duration)
    options = [
        (
            _("{days} days (until {day})").format(days=days, day=day.isoformat()),
            AskCb(action="date", value=day.isoformat()),
        )
        for days, day in presets
    ]
    await message.answer(
        _("Step 4: until when? Tap a duration or send a date up to {last}.").format(last=last.isoformat()),
        reply_markup=choices(options, _, back=BACK, cancel=CANCEL),
    )


async def duration_chosen(query: CallbackQuery, callback_data: AskCb, state: FSMContext, access: AccessService) -> None:
    try:
        day = date.fromisoformat(callback_data.value)
    except ValueError:  # a forged button
        await query.answer(_("That is not a date I understand. Send it like {example}.").format(example="2026-03-31"))
        return
    await query.answer()
    if query.message:
        await _take_until(query.message, actor_of(query), state, access, day)


async def duration_typed(
    message: Message, state: FSMContext, access: AccessService, clock: Clock, policy: Policy
) -> None:
    day = parse_day(message.text or "", clock.now().astimezone(policy.organisation.zone).date())
    if day is None:
        await message.answer(_("That is not a date I understand. Send it like {example}.").format(example="2026-03-31"))
        return
    await _take_until(message, actor_of(message), state, access, day)


async def _take_until(message: Message, actor: Actor, state: FSMContext, access: AccessService, day: date) -> None:
    data = await state.get_data()
    day = await access.check_until(actor, data["dataset_id"], data["mode"], day)
    await state.update_data(until=day.isoformat())
    await _ask_notice(message, state)


# Step 6: the notice, then confirm ---------------------------------------------------------------------------
async def _ask_notice(message: Message, state: FSMContext) -> None:
    await state.set_state(AccessWizard.notice)
    await message.answer(
        _(
            "Step 5: the notice (C5). Data you receive must not be given to third parties, and classified "
            "material is not copied or carried out without approval. Confidentiality continues after you leave."
        ),
        reply_markup=choices([(_("✅ I accept"), AskCb(action="accept"))], _, back=BACK, cancel=CANCEL),
    )


async def notice_accepted(query: CallbackQuery, state: FSMContext, access: AccessService, language: str) -> None:
    await state.update_data(accepted=True)
    await query.answer()
    if query.message:
        await _ask_confirm(query.message, actor_of(query), state, access, language)


async def _ask_confirm(message: Message, actor: Actor, state: FSMContext, access: AccessService, language: str) -> None:
    data = await state.get_data()
    mode = data["mode"]
    view = await access.dataset(actor, data["dataset_id"], language)
    chain = await access.chain(actor, data["dataset_id"], mode, language)
    await state.set_state(AccessWizard.confirm)
    lines = [
        _("Step 6: check and submit."),
        _("Data set: {name}").format(name=view.name),
        _("Mode: {mode}").format(mode=_(MODE_NAMES[mode])),
        _("Until: {day} (end of the day)").format(day=data["until"]),
        _("Purpose: {purpose}").format(purpose=data["purpose"]),
    ]
    if data.get("full_reason") and mode == "full":
        lines.append(_("Why full access is needed: {reason}").format(reason=data["full_reason"]))
    lines.append(_("Approvals: {chain}").format(chain=" → ".join(chain)))
    await message.answer(
        "\n".join(lines), reply_markup=choices([(_("📨 Submit"), AskCb(action="submit"))], _, back=BACK, cancel=CANCEL)
    )


async def submit(query: CallbackQuery, state: FSMContext, access: AccessService, language: str) -> None:
    data = await state.get_data()
    draft = Draft(
        data["dataset_id"],
        data["mode"],
        data.get("purpose", ""),
        data.get("full_reason"),
        date.fromisoformat(data["until"]) if data.get("until") else None,
        data.get("extends"),
    )
    view = await access.submit(actor_of(query), draft, notice_accepted=bool(data.get("accepted")), language=language)
    await state.clear()
    await query.answer()
    if query.message and view.status:
        await query.message.answer(
            _("Request #{id} submitted. It is at step {position} of {total} ({step}), with {names}.").format(
                id=view.id,
                position=view.status.position,
                total=view.status.total,
                step=view.status.step,
                names=", ".join(view.status.holders) or "—",
            )
        )


# Back and cancel ---------------------------------------------------------------------------------------------
async def back(query: CallbackQuery, state: FSMContext, access: AccessService, language: str) -> None:
    current, data = await state.get_state(), await state.get_data()
    await query.answer()
    message, actor = query.message, actor_of(query)
    if message is None:
        return
    if current in (AccessWizard.mode.state, AccessWizard.dataset.state):
        await _ask_dataset(message, actor, state, access, language)
    elif current == AccessWizard.reason.state or (current == AccessWizard.purpose.state and data["mode"] != "full"):
        await _ask_mode(message, actor, state, access, language)
    elif current == AccessWizard.purpose.state:
        await _ask_reason(message, state)
    elif current == AccessWizard.duration.state:
        await _ask_purpose(message, state)
    elif current == AccessWizard.notice.state:
        await _ask_duration(message, actor, state, access, language)
    elif current == AccessWizard.confirm.state:
        await _ask_notice(message, state)


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if query.message:
        await query.message.answer(_("Cancelled. Nothing was submitted."))


def _data(draft: Draft) -> dict:
    return {
        "dataset_id": draft.dataset_id,
        "mode": draft.mode,
        "purpose": draft.purpose,
        "full_reason": draft.full_reason,
        "extends": draft.extends_grant_id,
    }


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    text = (F.text, ~F.text.startswith("/"))
    router.message.register(overview, Command("access"))
    router.callback_query.register(new_request, AccessCb.filter(F.action == "new"))
    router.callback_query.register(withdraw, AccessCb.filter(F.action == "withdraw"))
    router.callback_query.register(extend, AccessCb.filter(F.action == "extend"))
    router.callback_query.register(cancel, AskCb.filter(F.action == "cancel"))
    router.callback_query.register(back, AskCb.filter(F.action == "back"))
    router.callback_query.register(restart, AccessWizard.dataset, AskCb.filter(F.action == "restart"))
    router.callback_query.register(browse_department, AccessWizard.dataset, AskCb.filter(F.action == "dept"))
    router.message.register(search_dataset, AccessWizard.dataset, *text)
    router.callback_query.register(choose_dataset, AccessWizard.dataset, AskCb.filter(F.action == "ds"))
    router.callback_query.register(choose_mode, AccessWizard.mode, AskCb.filter(F.action == "mode"))
    router.callback_query.register(mode_chosen, AccessWizard.mode, AskCb.filter(F.action == "next"))
    router.message.register(reason_given, AccessWizard.reason, *text)
    router.message.register(purpose_given, AccessWizard.purpose, *text)
    router.callback_query.register(duration_chosen, AccessWizard.duration, AskCb.filter(F.action == "date"))
    router.message.register(duration_typed, AccessWizard.duration, *text)
    router.callback_query.register(notice_accepted, AccessWizard.notice, AskCb.filter(F.action == "accept"))
    router.callback_query.register(submit, AccessWizard.confirm, AskCb.filter(F.action == "submit"))
    return router
