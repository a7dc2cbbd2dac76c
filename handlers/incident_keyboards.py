"""Keyboards and callback data of the incident flow. They only render choices; what a press may do is decided
by the service it reaches (F3). The buttons queued with alerts live in bot/outgoing/incidents.py."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.outgoing.ids import RowId
from bot.outgoing.incidents import IncidentCb
from bot.policy import Policy
from bot.services.incidents.views import Page
from handlers.keyboards import InlineKeyboard, button

AGO_MINUTES = (0, 15, 30, 60)


class ReportCb(CallbackData, prefix="rpt"):
    action: str  # cat | urgent | sev | ago | skip | done | edit | submit | back | cancel | keep
    value: str = ""


class ListCb(CallbackData, prefix="incl"):
    kind: str  # open | mine
    page: RowId


class PeriodCb(CallbackData, prefix="per"):
    what: str  # stats | csv | xlsx
    period: str  # 7d | 30d | month | last_month | year


class FilingCb(CallbackData, prefix="fil"):
    action: str  # now | body | skip | back | cancel
    value: str = ""


def report_label() -> str:
    return _("🚨 Report incident")


def main_keyboard() -> ReplyKeyboardMarkup:
    """The persistent button that starts a report from any screen (A1)."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=report_label())]], resize_keyboard=True, is_persistent=True
    )


def place_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_("📍 Send my location"), request_location=True)],
            [KeyboardButton(text=_("Skip")), KeyboardButton(text=_("◀ Back")), KeyboardButton(text=_("Cancel"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def _back_cancel(back: bool = True) -> list[InlineKeyboardButton]:
    row = [button(_("◀ Back"), ReportCb(action="back"))] if back else []
    return [*row, button(_("Cancel"), ReportCb(action="cancel"))]


def categories_keyboard(
    policy: Policy, language: str, *, urgent: bool, keep: str | None = None
) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    if urgent:
        builder.row(button(_("⚡ Urgent: report now, details later"), ReportCb(action="urgent")))
    for category in policy.incidents.categories:
        builder.row(button(category.name.get(language), ReportCb(action="cat", value=category.code)))
    if keep is not None:
        builder.row(button(_("Keep it as it is"), ReportCb(action="keep")))
    else:
        builder.row(*_back_cancel(back=False))
    return builder.as_markup()


def severities_keyboard(policy: Policy, language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    for severity in policy.incidents.severities:
        builder.button(text=severity.name.get(language), callback_data=ReportCb(action="sev", value=severity.code))
    builder.adjust(2)
    builder.row(*_back_cancel())
    return builder.as_markup()


def moment_keyboard() -> InlineKeyboardMarkup:
    labels = {0: _("Just now"), 15: _("15 minutes ago"), 30: _("30 minutes ago"), 60: _("1 hour ago")}
    builder = InlineKeyboard()
    for minutes in AGO_MINUTES:
        builder.button(text=labels[minutes], callback_data=ReportCb(action="ago", value=str(minutes)))
    builder.adjust(2)
    builder.row(*_back_cancel())
    return builder.as_markup()


def skip_keyboard(done: bool = False) -> InlineKeyboardMarkup:
    first = button(_("Done ▶"), ReportCb(action="done")) if done else button(_("Skip"), ReportCb(action="skip"))
    return InlineKeyboardMarkup(inline_keyboard=[[first], _back_cancel()])


def back_cancel_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[_back_cancel()])


def summary_keyboard(asks_loss: bool) -> InlineKeyboardMarkup:
    fields = [
        ("category", _("Category")),
        ("severity", _("Severity")),
        ("description", _("What happened")),
        ("place", _("Where")),
        ("moment", _("When")),
        *([("loss", _("Loss"))] if asks_loss else []),
        ("attachments", _("Photos and files")),
    ]
    builder = InlineKeyboard()
    for field, label in fields:
        builder.button(text="✏️ " + label, callback_data=ReportCb(action="edit", value=field))
    builder.adjust(2)
    builder.row(button(_("✅ Submit the report"), ReportCb(action="submit")))
    builder.row(button(_("Cancel"), ReportCb(action="cancel")))
    return builder.as_markup()


ACTION_LABELS = {
    "ack": "✅",
    "prog": "🛠",
    "res": "✔️",
    "close": "🗄",
    "reopen": "↩️",
    "note": "📝",
    "reas": "👥",
    "flag": "📤",
    "file": "📤",
    "dup": "🔗",
}


def incident_button(text: str, action: str, incident_id: int, value: int = 0) -> InlineKeyboardButton:
    return button(text, IncidentCb(action=action, id=incident_id, value=value))


def card_keyboard(incident_id: int, actions: Iterable[str]) -> InlineKeyboardMarkup | None:
    labels = {
        "ack": _("Acknowledge"),
        "prog": _("In progress"),
        "res": _("Resolve"),
        "close": _("Close"),
        "reopen": _("Reopen"),
        "note": _("Note or photo"),
        "reas": _("Hand over"),
        "flag": _("Must be reported outside"),
        "file": _("Record the outside report"),
        "dup": _("Duplicate of…"),
    }
    builder = InlineKeyboard()
    for action in actions:
        builder.add(incident_button(f"{ACTION_LABELS[action]} {labels[action]}", action, incident_id))
    builder.adjust(2)
    return builder.as_markup() if actions else None


def candidates_keyboard(incident_id: int, candidates: Iterable[tuple[int, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    for member_id, name in candidates:
        builder.button(text=name, callback_data=IncidentCb(action="to", id=incident_id, value=member_id))
    builder.adjust(2)
    builder.row(incident_button(_("◀ Back"), "det", incident_id))
    return builder.as_markup()


def page_keyboard(kind: str, page: Page) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    for incident in page.items:
        builder.row(incident_button(incident.number, "det", incident.id))
    navigation = []
    if page.page > 0:
        navigation.append(button("◀", ListCb(kind=kind, page=page.page - 1)))
    if page.page + 1 < page.pages:
        navigation.append(button("▶", ListCb(kind=kind, page=page.page + 1)))
    if navigation:
        builder.row(*navigation)
    return builder.as_markup()


def period_keyboard(what: str) -> InlineKeyboardMarkup:
    labels = {
        "7d": _("Last 7 days"),
        "30d": _("Last 30 days"),
        "month": _("This month"),
        "last_month": _("Last month"),
        "year": _("This year"),
    }
    builder = InlineKeyboard()
    for period, label in labels.items():
        builder.button(text=label, callback_data=PeriodCb(what=what, period=period))
    builder.adjust(2)
    return builder.as_markup()


def export_format_keyboard(period: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button("CSV", PeriodCb(what="csv", period=period)),
                button("XLSX", PeriodCb(what="xlsx", period=period)),
            ]
        ]
    )


def bodies_keyboard(policy: Policy, language: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboard()
    for body in policy.incidents.external_report.bodies:
        builder.row(button(body.name.get(language), FilingCb(action="body", value=body.code)))
    builder.row(button(_("Cancel"), FilingCb(action="cancel")))
    return builder.as_markup()


def filing_moment_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("Just now"), FilingCb(action="now"))],
            [button(_("Cancel"), FilingCb(action="cancel"))],
        ]
    )


def filing_file_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("Skip: no file"), FilingCb(action="skip"))],
            [button(_("Cancel"), FilingCb(action="cancel"))],
        ]
    )


def cancel_note_keyboard(incident_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[incident_button(_("Cancel"), "det", incident_id)]])
