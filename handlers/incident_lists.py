"""Reading incidents in chat: /incident INC-…, /incidents (duty officers and managers), /myreports, and for
managers /stats (text and a PNG chart) and /export (CSV or XLSX with timelines) for a period (A5, A6)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.incidents import Queries
from bot.services.incidents.files import FORMATS, chart_png, table_bytes
from bot.services.incidents.periods import day_bounds, period_bounds
from handlers.admin import actor_of
from handlers.filters import IsMember
from handlers.incident_keyboards import ListCb, PeriodCb, export_format_keyboard, page_keyboard, period_keyboard
from handlers.incident_parsing import parse_day
from handlers.incident_respond import send_card
from handlers.incident_texts import figures_text, page_text, words
from handlers.working import showing


async def show_incident(
    message: Message, command: CommandObject, bot: Bot, queries: Queries, policy: Policy, language: str
) -> None:
    if not command.args:
        await message.answer(_("Send the number too, e.g. /incident INC-2026-000123."))
        return
    card = await queries.card(actor_of(message), number=command.args)
    await send_card(bot, actor_of(message), queries, card.incident.id, policy, language)


async def list_open(message: Message, queries: Queries, policy: Policy, language: str) -> None:
    await _send_page(message, queries, "open", 0, policy, language)


async def list_mine(message: Message, queries: Queries, policy: Policy, language: str) -> None:
    await _send_page(message, queries, "mine", 0, policy, language)


async def turn_page(
    query: CallbackQuery, callback_data: ListCb, queries: Queries, policy: Policy, language: str
) -> None:
    await query.answer()
    if query.message:
        await _send_page(
            query.message, queries, callback_data.kind, callback_data.page, policy, language, actor=actor_of(query)
        )


async def _send_page(
    message: Message,
    queries: Queries,
    kind: str,
    number: int,
    policy: Policy,
    language: str,
    actor: Actor | None = None,
) -> None:
    actor = actor or actor_of(message)
    if kind == "open":
        page, title = await queries.open_incidents(actor, number), _("Open incidents")
    else:
        page, title = await queries.my_reports(actor, number), _("Your reports")
    await message.answer(page_text(title, page, policy, language), reply_markup=page_keyboard(kind, page))


# Figures and exports for managers ---------------------------------------------------------------------------
async def stats(
    message: Message, command: CommandObject, bot: Bot, queries: Queries, clock: Clock, policy: Policy, language: str
) -> None:
    await queries.check_manager(actor_of(message))
    bounds = _typed_period(command.args, policy)
    if bounds is None:
        await message.answer(
            _("Figures for which period? Or type /stats 2026-01-01 2026-03-31."), reply_markup=period_keyboard("stats")
        )
        return
    await _send_stats(message, queries, bounds, policy, language)


async def export(message: Message, command: CommandObject, queries: Queries, policy: Policy, language: str) -> None:
    await queries.check_manager(actor_of(message))
    args = (command.args or "").split()
    fmt = args.pop() if args and args[-1].lower() in FORMATS else "xlsx"
    bounds = _typed_period(" ".join(args), policy)
    if bounds is None:
        await message.answer(
            _("Export which period? Or type /export 2026-01-01 2026-03-31 csv."), reply_markup=period_keyboard("export")
        )
        return
    await _send_export(message, queries, bounds, fmt.lower(), policy, language)


async def period_chosen(
    query: CallbackQuery, callback_data: PeriodCb, queries: Queries, clock: Clock, policy: Policy, language: str
) -> None:
    await query.answer()
    if query.message is None:
        return
    bounds = period_bounds(callback_data.period, clock.now(), policy.organisation.zone)
    if callback_data.what == "stats":
        await _send_stats(query.message, queries, bounds, policy, language, actor=actor_of(query))
    elif callback_data.what == "export":
        await query.message.answer(_("CSV or XLSX?"), reply_markup=export_format_keyboard(callback_data.period))
    else:
        await _send_export(query.message, queries, bounds, callback_data.what, policy, language, actor=actor_of(query))


def _typed_period(args: str | None, policy: Policy) -> tuple[datetime, datetime] | None:
    days = [parse_day(part) for part in (args or "").split()]
    if len(days) != 2 or None in days:
        return None
    return day_bounds(days[0], days[1], policy.organisation.zone)  # type: ignore[arg-type]


async def _send_stats(
    message: Message,
    queries: Queries,
    bounds: tuple[datetime, datetime],
    policy: Policy,
    language: str,
    actor: Actor | None = None,
) -> None:
    figures = await queries.figures(actor or actor_of(message), *bounds)
    await message.answer(figures_text(figures, policy, language))
    async with showing(message, ChatAction.UPLOAD_PHOTO):  # "sending a photo…" while the chart is drawn
        png = await asyncio.to_thread(chart_png, figures, words(policy, language))
        await message.answer_photo(BufferedInputFile(png, filename="incidents.png"))


async def _send_export(
    message: Message,
    queries: Queries,
    bounds: tuple[datetime, datetime],
    fmt: str,
    policy: Policy,
    language: str,
    actor: Actor | None = None,
) -> None:
    batches = queries.export(actor or actor_of(message), *bounds)
    first = await anext(batches, ())  # the first batch checks the caller's right (F3) before anything is shown
    async with showing(message, ChatAction.UPLOAD_DOCUMENT):  # "sending a file…" while the table is made
        cards = [*first, *[card async for batch in batches for card in batch]]
        data = table_bytes(words(policy, language), cards, fmt)
        zone = policy.organisation.zone
        name = f"incidents-{bounds[0].astimezone(zone):%Y%m%d}-{bounds[1].astimezone(zone):%Y%m%d}.{fmt}"
        await message.answer_document(
            BufferedInputFile(data, filename=name), caption=_("{count} incidents").format(count=len(cards))
        )


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(show_incident, Command("incident"))
    router.message.register(list_open, Command("incidents"))
    router.message.register(list_mine, Command("myreports"))
    router.callback_query.register(turn_page, ListCb.filter())
    router.message.register(stats, Command("stats"))
    router.message.register(export, Command("export"))
    router.callback_query.register(period_chosen, PeriodCb.filter(F.what.in_({"stats", "export", *FORMATS})))
    return router
