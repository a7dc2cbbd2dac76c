"""Help, cancel and language for every member."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, KeyboardButton, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot import languages
from bot.policy import Policy
from bot.services.members import MembershipService, MemberView
from handlers.callbacks import LanguageCb
from handlers.commands import CommandInfo
from handlers.filters import IsMember
from handlers.incident_keyboards import main_keyboard
from handlers.keyboards import language_keyboard
from handlers.texts import help_text


async def cancel(message: Message, state: FSMContext) -> None:
    """Leaves any wizard, from any step."""
    if await state.get_state() is None:
        await message.answer(_("There is nothing to cancel."))
    else:
        await state.clear()
        await message.answer(_("Cancelled. Nothing was saved."))


async def show_help(message: Message, member: MemberView, policy: Policy, commands: list[CommandInfo]) -> None:
    await message.answer(help_text(member, policy, commands))


async def choose_language(message: Message, policy: Policy) -> None:
    await message.answer(
        _("Which language do you prefer?"), reply_markup=language_keyboard(policy.organisation.languages)
    )


async def set_language(query: CallbackQuery, callback_data: LanguageCb, members: MembershipService) -> None:
    member = await members.set_language(query.from_user.id, callback_data.code)
    with get_i18n().use_locale(member.language or callback_data.code):
        text = _("Language set to {language}.").format(language=languages.language(callback_data.code).name)
        await query.answer(text)
        if query.message is not None:
            await query.message.answer(text)


async def ask_phone(message: Message) -> None:
    """SMS and voice escalation steps reach a member at the number they share here (issue 12)."""
    button = KeyboardButton(text=_("📱 Share my number"), request_contact=True)
    await message.answer(
        _(
            "Share your phone number with the button below: urgent alerts that you do not acknowledge in "
            "Telegram may then reach you by SMS or phone call. Only administrators see it."
        ),
        reply_markup=ReplyKeyboardMarkup(keyboard=[[button]], resize_keyboard=True, one_time_keyboard=True),
    )


async def contact_shared(message: Message, members: MembershipService) -> None:
    assert message.contact is not None and message.from_user is not None
    contact = message.contact
    phone = await members.set_phone(message.from_user.id, contact.user_id, contact.phone_number)
    await message.answer(
        _("Saved: SMS and phone alerts go to the number ending in {last}.").format(last=phone[-4:]),
        reply_markup=main_keyboard(),
    )


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(cancel, Command("cancel"))
    router.message.register(show_help, Command("help"))
    router.message.register(choose_language, Command("language"))
    router.callback_query.register(set_language, LanguageCb.filter())
    router.message.register(ask_phone, Command("phone"))
    router.message.register(contact_shared, F.contact)
    return router
