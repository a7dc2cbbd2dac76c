"""Inline keyboards. They only render choices; what a press may do is decided by the service."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import languages
from handlers.callbacks import InviteCb, LanguageCb, MemberCb


def language_keyboard(codes: Iterable[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    for code in codes:
        builder.button(text=languages.language(code).name, callback_data=LanguageCb(code=code))
    return builder.as_markup()


def invite_roles_keyboard(roles: Iterable[tuple[str, str]], chosen: set[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    for code, name in roles:
        builder.button(
            text=("✅ " if code in chosen else "▫️ ") + name, callback_data=InviteCb(action="role", value=code)
        )
    builder.adjust(2)
    builder.row(
        button(_("Next ▶"), InviteCb(action="next")),
        button(_("Cancel"), InviteCb(action="cancel")),
    )
    return builder.as_markup()


def invite_departments_keyboard(departments: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    for code, name in departments:
        builder.button(text=name, callback_data=InviteCb(action="dept", value=code))
    builder.adjust(2)
    builder.row(*_back_cancel(InviteCb(action="back").pack(), InviteCb(action="cancel").pack()))
    return builder.as_markup()


def invite_name_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("Skip: use their Telegram name"), InviteCb(action="skip"))],
            _back_cancel(InviteCb(action="back").pack(), InviteCb(action="cancel").pack()),
        ]
    )


def invite_confirm_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("Create invitation"), InviteCb(action="create"))],
            _back_cancel(InviteCb(action="back").pack(), InviteCb(action="cancel").pack()),
        ]
    )


def members_page_keyboard(rows: Iterable[tuple[int, str]], page: int, pages: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    for member_id, label in rows:
        builder.row(button(label, MemberCb(action="open", member_id=member_id)))
    navigation = []
    if page > 0:
        navigation.append(
            InlineKeyboardButton(text="◀", callback_data=MemberCb(action="page", value=str(page - 1)).pack())
        )
    if page + 1 < pages:
        navigation.append(
            InlineKeyboardButton(text="▶", callback_data=MemberCb(action="page", value=str(page + 1)).pack())
        )
    if navigation:
        builder.row(*navigation)
    return builder.as_markup()


def member_card_keyboard(member_id: int, roles: Iterable[tuple[str, str, bool]], active: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    if active:
        for code, name, held in roles:
            builder.button(
                text=("✅ " if held else "▫️ ") + name,
                callback_data=MemberCb(action="role", member_id=member_id, value=code),
            )
        builder.adjust(2)
        builder.row(
            button(_("Change department"), MemberCb(action="depts", member_id=member_id)),
            button(_("Deactivate"), MemberCb(action="deact", member_id=member_id)),
        )
    builder.row(button(_("◀ Back to the list"), MemberCb(action="page", value="0")))
    return builder.as_markup()


def member_departments_keyboard(member_id: int, departments: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    for code, name in departments:
        builder.button(text=name, callback_data=MemberCb(action="dept", member_id=member_id, value=code))
    builder.adjust(2)
    builder.row(button(_("◀ Back"), MemberCb(action="open", member_id=member_id)))
    return builder.as_markup()


def confirm_deactivation_keyboard(member_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Yes, deactivate"), callback_data=MemberCb(action="deact_ok", member_id=member_id).pack()
                ),
                button(_("No"), MemberCb(action="open", member_id=member_id)),
            ]
        ]
    )


class InlineKeyboard(InlineKeyboardBuilder):
    """aiogram's builder deep-copies every button (each a pydantic model) when it makes the keyboard: ~3% of a
    wizard step's CPU (issue 15). Nothing changes a button afterwards, so only the rows are copied."""

    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _back_cancel(back: str, cancel: str) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(text=_("◀ Back"), callback_data=back),
        InlineKeyboardButton(text=_("Cancel"), callback_data=cancel),
    ]
