"""Buttons of the approval engine. Services queue them in the recipient's language (``gettext`` is
bound to that language); every press is re-authorised by the engine (F3)."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.button_ids import RowId

Translate = Callable[[str], str]


class ApprovalCb(CallbackData, prefix="apv"):
    action: str  # ok | no | ask | ret | open
    step: RowId


class AnswerCb(CallbackData, prefix="apa"):
    question: RowId


class AwayCb(CallbackData, prefix="away"):
    action: str  # to | off | cancel
    member: RowId = 0


def card_keyboard(step_id: int, returnable: bool, gettext: Translate) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(gettext("✅ Approve"), ApprovalCb(action="ok", step=step_id)),
            _button(gettext("⛔ Reject"), ApprovalCb(action="no", step=step_id)),
        ],
        [_button(gettext("❓ Ask a question"), ApprovalCb(action="ask", step=step_id))],
    ]
    if returnable:
        rows[1].append(_button(gettext("↩️ Return for revision"), ApprovalCb(action="ret", step=step_id)))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def answer_keyboard(question_id: int, gettext: Translate) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_button(gettext("✍️ Answer"), AnswerCb(question=question_id))]])


def queue_keyboard(items: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button(label, ApprovalCb(action="open", step=step_id))] for step_id, label in items]
    )


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())
