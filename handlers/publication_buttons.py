"""Buttons of publication review. They carry ids only; every press is re-authorised by the service (F3)."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.outgoing.publication import PubCb
from handlers.keyboards import InlineKeyboard, button

SHEET_FIELDS = ("title", "body", "files", "channels", "audience", "quantity", "planned", "embargo", "options")


class FormCb(CallbackData, prefix="pf"):
    """The /publish wizard: kind | item | next | skip | back | cancel | ch | opt | edit | chk | submit | now."""

    action: str
    value: str = ""


def back_cancel() -> list[InlineKeyboardButton]:
    return [button(_("◀ Back"), FormCb(action="back")), button(_("Cancel"), FormCb(action="cancel"))]


def step_keyboard(*extra: tuple[str, FormCb]) -> InlineKeyboardMarkup:
    rows = [[button(text, data)] for text, data in extra]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, back_cancel()])


def kind_keyboard(can_change: bool) -> InlineKeyboardMarkup:
    rows = [[button(_("🆕 New item"), FormCb(action="kind", value="new"))]]
    if can_change:
        rows.append([button(_("✏️ Change a published item"), FormCb(action="kind", value="change"))])
        rows.append([button(_("🗑 Take down a published item"), FormCb(action="kind", value="takedown"))])
    rows.append([button(_("Cancel"), FormCb(action="cancel"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def items_keyboard(items: Iterable[tuple[int, str]]) -> InlineKeyboardMarkup:
    rows = [[button(f"#{item_id} {title[:48]}", FormCb(action="item", value=str(item_id)))] for item_id, title in items]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, back_cancel()])


def toggles_keyboard(choices: Iterable[tuple[str, str, bool]], action: str, done: str) -> InlineKeyboardMarkup:
    """Multi-select (channels, options, checklist): ✅ chosen, ▫️ not; then ``done``."""
    builder = InlineKeyboard()
    for code, label, chosen in choices:
        builder.row(button(("✅ " if chosen else "▫️ ") + label, FormCb(action=action, value=code)))
    builder.row(button(done, FormCb(action="next")))
    builder.row(*back_cancel())
    return builder.as_markup()


def sheet_keyboard(kind: str, labels: dict[str, str], revising: bool) -> InlineKeyboardMarkup:
    """The summary before submission: edit any field, tick the checklist, submit (D3, D4)."""
    if kind == "takedown":
        fields: tuple[str, ...] = ("planned", "note")
    else:  # the channels of a change are those of the published item
        fields = tuple(f for f in SHEET_FIELDS if kind == "new" or f != "channels")
    builder = InlineKeyboard()
    for field in fields:
        builder.button(text="✏️ " + labels[field], callback_data=FormCb(action="edit", value=field))
    builder.adjust(3)
    if kind != "takedown":
        builder.row(button(_("☑️ Prohibited-content checklist"), FormCb(action="edit", value="checklist")))
    if revising and kind != "takedown":  # a take-down's note is its reason, edited above
        builder.row(button(_("📝 Note for the reviewers"), FormCb(action="edit", value="note")))
    builder.row(
        button(_("📤 Submit for review"), FormCb(action="submit")), button(_("Cancel"), FormCb(action="cancel"))
    )
    return builder.as_markup()


def form_card_keyboard(form_id: int, *, may_revise: bool, may_record: bool, may_change: bool) -> InlineKeyboardMarkup:
    rows = [[button(_("🕘 History"), PubCb(action="hist", id=form_id))]]
    if may_revise:
        rows.append([button(_("✏️ Revise and resubmit"), PubCb(action="revise", id=form_id))])
    if may_record:
        rows.append([button(_("📌 Record publication on a channel"), PubCb(action="rec", id=form_id))])
    if may_change:
        rows.append(
            [
                button(_("✏️ Change"), PubCb(action="change", id=form_id)),
                button(_("🗑 Take down"), PubCb(action="takedown", id=form_id)),
            ]
        )
    rows.append([button(_("◀ Back to the list"), PubCb(action="list"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def list_keyboard(forms: Iterable[tuple[int, str]], *, reviewer: bool, manager: bool) -> InlineKeyboardMarkup:
    rows = [[button(label[:60], PubCb(action="open", id=form_id))] for form_id, label in forms]
    tools = [button(_("🔎 Search published"), PubCb(action="search"))]
    if reviewer:
        tools.insert(0, button(_("📋 In review"), PubCb(action="review")))
    rows.append(tools)
    if manager:
        rows.append([button(_("📊 Export CSV/XLSX"), PubCb(action="export"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def channels_to_record(form_id: int, channels: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
    rows = [[button(name, PubCb(action="recch", id=form_id, value=code))] for code, name in channels]
    rows.append([button(_("◀ Back"), PubCb(action="open", id=form_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def record_step_keyboard(form_id: int, action: str, label: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(label, PubCb(action=action, id=form_id))],
            [button(_("◀ Back"), PubCb(action="rec", id=form_id)), button(_("Cancel"), PubCb(action="list"))],
        ]
    )


def format_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button("CSV", PubCb(action="fmt", value="csv")),
                button("XLSX", PubCb(action="fmt", value="xlsx")),
                button(_("Cancel"), PubCb(action="list")),
            ]
        ]
    )
