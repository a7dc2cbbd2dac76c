"""The quick path for emergencies (A1): an incident stored and alerted from one message, then the details asked
afterwards — category, place, loss — each stored and shown to everyone alerted as soon as it is given."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.policy import Policy
from bot.services.incidents import Attachment, Draft, Reporting
from handlers.admin import actor_of
from handlers.filters import IsMember
from handlers.incident_keyboards import ReportCb, categories_keyboard, main_keyboard, place_keyboard, skip_keyboard
from handlers.incident_parsing import asks_loss, parse_loss
from handlers.incident_texts import submitted_text


class FollowUp(StatesGroup):
    category = State()
    place = State()
    loss = State()


async def quick(
    message: Message,
    state: FSMContext,
    reporting: Reporting,
    policy: Policy,
    language: str,
    clock: Clock,
    text: str,
    attachment: Attachment | None,
) -> None:
    """Stored and alerted with the policy's urgent category and severity; the details are asked next."""
    rules = policy.incidents
    draft = Draft(
        category=rules.quick_category,
        severity=rules.quick_severity,
        description=reporting.check_text(text, has_media=attachment is not None),
        occurred_at=clock.now(),
        attachments=(attachment,) if attachment else (),
    )
    submitted = await reporting.submit(actor_of(message), draft, urgent=True)
    await state.clear()
    await state.set_state(FollowUp.category)
    await state.update_data(incident_id=submitted.incident_id, category=draft.category)
    await message.answer(submitted_text(submitted, policy, language), reply_markup=main_keyboard())
    await message.answer(
        _("Now the details, if you can. Which category fits best?"),
        reply_markup=categories_keyboard(policy, language, urgent=False, keep=draft.category),
    )


# The details, each stored as soon as it is given --------------------------------------------------------
async def follow_category(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    reporting: Reporting,
    policy: Policy,
    language: str,
) -> None:
    data = await state.get_data()
    if callback_data.action == "cat":
        await reporting.amend(actor_of(query), data["incident_id"], category=callback_data.value)
        await state.update_data(category=callback_data.value)
    await query.answer()
    await state.set_state(FollowUp.place)
    if query.message:
        await query.message.answer(
            _("Where? Tap the button to send your location, or type the place."), reply_markup=place_keyboard()
        )


async def follow_place(
    message: Message, state: FSMContext, reporting: Reporting, policy: Policy, language: str
) -> None:
    data = await state.get_data()
    actor = actor_of(message)
    if message.text == _("◀ Back"):
        await state.set_state(FollowUp.category)
        await message.answer("◀", reply_markup=main_keyboard())
        await message.answer(
            _("Now the details, if you can. Which category fits best?"),
            reply_markup=categories_keyboard(policy, language, urgent=False, keep=data.get("category")),
        )
        return
    if message.text in (_("Cancel"), _("Skip")):
        pass
    elif message.location:
        pin = (message.location.latitude, message.location.longitude)
        await reporting.amend(actor, data["incident_id"], pin=pin)
    else:
        await reporting.amend(actor, data["incident_id"], place=message.text or "")
    if message.text != _("Cancel") and asks_loss(policy, data):
        await state.set_state(FollowUp.loss)
        await message.answer(_("📍 Noted."), reply_markup=main_keyboard())
        await message.answer(_("Estimated loss in yuan? (e.g. 12000 or 1.2万)"), reply_markup=skip_keyboard())
        return
    await _follow_done(message, state)


async def follow_loss(message: Message, state: FSMContext, reporting: Reporting) -> None:
    value = parse_loss(message.text or "")
    if value is None:
        await message.answer(_("Send the estimated loss in yuan as a number, e.g. 12000 or 1.2万."))
        return
    await reporting.amend(actor_of(message), (await state.get_data())["incident_id"], loss=value)
    await _follow_done(message, state)


async def follow_skip(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if query.message:
        await _follow_done(query.message, state)


async def _follow_done(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Thank you. The duty officers see what you added."), reply_markup=main_keyboard())


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember(), F.chat.type == "private")
    router.callback_query.filter(IsMember())
    not_command = ~F.text.startswith("/")
    router.callback_query.register(follow_category, FollowUp.category, ReportCb.filter(F.action.in_({"cat", "keep"})))
    router.message.register(follow_place, FollowUp.place, not_command)
    router.message.register(follow_loss, FollowUp.loss, F.text, not_command)
    router.callback_query.register(
        follow_skip, FollowUp.loss, ReportCb.filter(F.action.in_({"skip", "back", "cancel"}))
    )
    return router
