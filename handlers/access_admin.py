"""The information centre's buttons (provisioning and revocation tasks, the access review) and
/grants for managers and information officers: who holds access to a data set right now, and
requests and grants of a period as CSV or XLSX (C3, C6, C7, F1)."""

from __future__ import annotations

from datetime import date, timedelta

from aiogram import F, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.i18n import format_moment
from bot.outgoing.access import AccessCb
from bot.policy import Policy
from bot.services.access_catalogue import MODE_NAMES, CatalogueService
from bot.services.access_grants import GrantService
from bot.services.access_reports import AccessReports
from bot.services.access_review import ReviewService
from handlers.access_buttons import ReportCb, choices
from handlers.admin import actor_of
from handlers.dates import parse_period
from handlers.filters import IsMember
from handlers.working import showing

CANCEL = ReportCb(action="cancel")


class ExportWizard(StatesGroup):
    period = State()
    file_format = State()


# Tasks and the access review --------------------------------------------------------------------------
async def task_done(query: CallbackQuery, callback_data: AccessCb, access_grants: GrantService) -> None:
    action = await access_grants.confirm(actor_of(query), callback_data.id)
    await query.answer(_("Thank you: access granted.") if action == "grant" else _("Thank you: access removed."))


async def review_decision(query: CallbackQuery, callback_data: AccessCb, access_review: ReviewService) -> None:
    keep = await access_review.decide(actor_of(query), callback_data.id, keep=callback_data.action == "keep")
    await query.answer(_("Kept.") if keep else _("Revoked: a revocation task has gone to the information centre."))


# /grants ------------------------------------------------------------------------------------------------
async def menu(message: Message, access_reports: AccessReports) -> None:
    await access_reports.check(actor_of(message))
    options = [
        (_("Who holds access now"), ReportCb(action="holders")),
        (_("Export requests"), ReportCb(action="export", value="requests")),
        (_("Export grants"), ReportCb(action="export", value="grants")),
    ]
    await message.answer(_("Access records: what would you like to see?"), reply_markup=choices(options, _))


async def choose_dataset(
    query: CallbackQuery, access_reports: AccessReports, catalogue_service: CatalogueService, language: str
) -> None:
    await access_reports.check(actor_of(query))
    views = await catalogue_service.listing(actor_of(query), language)
    await query.answer()
    if query.message:
        options = [(view.name, ReportCb(action="ds", value=str(view.id))) for view in views]
        await query.message.answer(_("Which data set?"), reply_markup=choices(options, _, cancel=CANCEL))


async def show_holders(
    query: CallbackQuery, callback_data: ReportCb, access_reports: AccessReports, policy: Policy, language: str
) -> None:
    holders = await access_reports.holders(actor_of(query), int(callback_data.value), language)
    states = {
        "active": _("until {until}"),
        "provisioning": _("being set up; until {until}"),
        "revoking": _("ended; removal not yet confirmed"),
    }
    lines = [_("Holders right now: {count}").format(count=len(holders))]
    for holder in holders:
        until = format_moment(holder.expires_at, language, policy.organisation.zone)
        state = states[holder.state].format(until=until)
        lines.append(f"• {holder.name} · {holder.department} · {_(MODE_NAMES[holder.mode])} — {state}")
    await query.answer()
    if query.message:  # who holds access to what is an access record: never forwarded
        await query.message.answer("\n".join(lines), protect_content=True)


async def choose_period(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    access_reports: AccessReports,
    clock: Clock,
    policy: Policy,
) -> None:
    await access_reports.check(actor_of(query))
    await state.set_state(ExportWizard.period)
    await state.set_data({"what": callback_data.value})
    today = clock.now().astimezone(policy.organisation.zone).date()
    options = [(label, ReportCb(action="period", value=f"{start}_{end}")) for label, start, end in _periods(today)]
    await query.answer()
    if query.message:
        await query.message.answer(
            _("Which period? Tap one, or send two dates such as {example}.").format(
                example=f"{today.replace(day=1)} {today}"
            ),
            reply_markup=choices(options, _, cancel=CANCEL),
        )


async def period_chosen(query: CallbackQuery, callback_data: ReportCb, state: FSMContext) -> None:
    start, end = callback_data.value.split("_")
    await query.answer()
    if query.message:
        await _ask_format(query.message, state, date.fromisoformat(start), date.fromisoformat(end))


async def period_typed(message: Message, state: FSMContext, clock: Clock, policy: Policy) -> None:
    period = parse_period(message.text or "", clock.now().astimezone(policy.organisation.zone).date())
    if period is None:
        await message.answer(
            _("Send the first and the last day, such as {example}.").format(example="2026-01-01 2026-03-31")
        )
        return
    await _ask_format(message, state, *period)


async def _ask_format(message: Message, state: FSMContext, start: date, end: date) -> None:
    await state.set_state(ExportWizard.file_format)
    await state.update_data(start=start.isoformat(), end=end.isoformat())
    options = [
        ("CSV", ReportCb(action="format", value="csv")),
        ("Excel (XLSX)", ReportCb(action="format", value="xlsx")),
    ]
    await message.answer(
        _("{start} to {end}: which format?").format(start=start, end=end),
        reply_markup=choices(
            options, _, back=ReportCb(action="export", value=(await state.get_data())["what"]), cancel=CANCEL
        ),
    )


async def export(
    query: CallbackQuery, callback_data: ReportCb, state: FSMContext, access_reports: AccessReports, language: str
) -> None:
    data = await state.get_data()
    name, content = await access_reports.export(
        actor_of(query),
        data["what"],
        date.fromisoformat(data["start"]),
        date.fromisoformat(data["end"]),
        callback_data.value,
        language,
    )
    await state.clear()
    await query.answer()
    if query.message:
        async with showing(query.message, ChatAction.UPLOAD_DOCUMENT):  # "sending a file…" while it uploads
            await query.message.answer_document(BufferedInputFile(content, filename=name), protect_content=True)


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if query.message:
        await query.message.answer(_("Cancelled. Nothing was changed."))


def _periods(today: date) -> list[tuple[str, date, date]]:
    month = today.replace(day=1)
    last_month = (month - timedelta(days=1)).replace(day=1)
    quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    last_quarter = (quarter - timedelta(days=1)).replace(day=1)
    last_quarter = last_quarter.replace(month=(last_quarter.month - 1) // 3 * 3 + 1)
    return [
        (_("This month"), month, today),
        (_("Last month"), last_month, month - timedelta(days=1)),
        (_("This quarter"), quarter, today),
        (_("Last quarter"), last_quarter, quarter - timedelta(days=1)),
        (_("This year"), today.replace(month=1, day=1), today),
    ]


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.callback_query.register(task_done, AccessCb.filter(F.action == "done"))
    router.callback_query.register(review_decision, AccessCb.filter(F.action.in_({"keep", "drop"})))
    router.message.register(menu, Command("grants"))
    router.callback_query.register(choose_dataset, ReportCb.filter(F.action == "holders"))
    router.callback_query.register(show_holders, ReportCb.filter(F.action == "ds"))
    router.callback_query.register(choose_period, ReportCb.filter(F.action == "export"))
    router.callback_query.register(period_chosen, ExportWizard.period, ReportCb.filter(F.action == "period"))
    router.message.register(period_typed, ExportWizard.period, F.text, ~F.text.startswith("/"))
    router.callback_query.register(export, ExportWizard.file_format, ReportCb.filter(F.action == "format"))
    router.callback_query.register(cancel, ReportCb.filter(F.action == "cancel"))
    return router
