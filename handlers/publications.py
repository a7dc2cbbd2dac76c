"""/publications: the member's forms, what is in review (reviewers and managers), published items by
text and date, each form's card and whole history, recording publication per channel, and the export
of a period as CSV or XLSX (D5, D6)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.i18n import format_moment
from bot.outgoing.publication import PubCb
from bot.policy import Policy
from bot.services.actor import Actor
from bot.services.errors import N_, InvalidInput
from bot.services.publication_channels import ChannelDesk
from bot.services.publication_draft import clean_link, parse_moment
from bot.services.publication_listing import FormLine, HistoryEntry, PublicationListing
from bot.services.publication_render import ACTION_NAMES, CARD_BODY_LIMIT, Renderer
from bot.services.publications import FormView, PublicationService
from handlers.admin import actor_of
from handlers.filters import IsMember
from handlers.labels import department_name
from handlers.publication_buttons import (
    channels_to_record,
    form_card_keyboard,
    format_keyboard,
    list_keyboard,
    record_step_keyboard,
)

HISTORY_LIMIT = 3800  # characters of history lines in one message (Telegram takes 4,096)
DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
MONTH = re.compile(r"(\d{4})-(\d{1,2})")
EVENT_NAMES = {
    "submitted": N_("submitted"),
    "resubmitted": N_("resubmitted a revised version"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "returned": N_("returned for revision"),
    "reset": N_("approval reset: the content changed"),
    "escalated": N_("escalated"),
    "version_from_change": N_("new published version from change form"),
    "channel_published": N_("published on"),
    "channel_changed": N_("changed on"),
    "channel_removed": N_("removed from"),
}


class PublicationsFlow(StatesGroup):
    search = State()
    period = State()
    link = State()
    moment = State()


def _line(form: FormLine, renderer: Renderer) -> str:
    marker = {"change": "✏️", "takedown": "🗑"}.get(form.kind, "📄")
    return f"{marker} #{form.id} {form.title} · {renderer.state(form.state, _)}"


async def overview(
    message: Message, command: CommandObject, state: FSMContext, listing: PublicationListing, policy: Policy
) -> None:
    await state.clear()
    if command.args:
        await _search(message, listing, policy, command.args)
        return
    view = await listing.overview(actor_of(message))
    renderer = Renderer(policy)
    text = _("Your forms:") if view.mine else _("You have not submitted any forms yet. Send /publish to start.")
    await message.answer(
        text,
        reply_markup=list_keyboard(
            [(f.id, _line(f, renderer)) for f in view.mine], reviewer=view.reviewer, manager=view.manager
        ),
    )


async def back_to_list(query: CallbackQuery, state: FSMContext, listing: PublicationListing, policy: Policy) -> None:
    await state.clear()
    view = await listing.overview(actor_of(query))
    renderer = Renderer(policy)
    await query.answer()
    if query.message is not None:
        await query.message.answer(
            _("Your forms:"),
            reply_markup=list_keyboard(
                [(f.id, _line(f, renderer)) for f in view.mine], reviewer=view.reviewer, manager=view.manager
            ),
        )


async def in_review(query: CallbackQuery, listing: PublicationListing, policy: Policy) -> None:
    forms = await listing.in_review(actor_of(query))
    renderer = Renderer(policy)
    await query.answer()
    if query.message is not None:
        text = _("In review:") if forms else _("Nothing is in review.")
        await query.message.answer(
            text, reply_markup=list_keyboard([(f.id, _line(f, renderer)) for f in forms], reviewer=False, manager=False)
        )


# One form --------------------------------------------------------------------------------------------
def card_text(view: FormView, policy: Policy, language: str) -> str:
    renderer = Renderer(policy)
    zone = policy.organisation.zone
    lines = [
        f"#{view.id} · {renderer.kind(view.kind, view.target_id, _)} · {renderer.state(view.state, _)}",
        _("{drafter} · {department} · version {version} · submitted {moment}").format(
            drafter=view.drafter,
            department=department_name(policy, view.department, language),
            version=view.version,
            moment=format_moment(view.submitted_at, language, zone),
        ),
        "",
        renderer.summary(
            view.draft,
            view.kind,
            _,
            language,
            body_limit=CARD_BODY_LIMIT,
            shortened=N_("(shortened here; the whole text is in the message above)"),
        ),
    ]
    if view.kind != "takedown":
        lines += ["", renderer.flags(list(view.flags), _), renderer.checklist(view.draft.checklist, _)]
    if view.records or view.awaiting:
        lines += ["", _("Channels:")]
        for record in view.records:
            who = record.by or _("the bot")
            lines.append(
                f"• {renderer.channel_names([record.channel], language)}: {_(ACTION_NAMES[record.action])} "
                f"{format_moment(record.at, language, zone)} · {who}" + (f" · {record.link}" if record.link else "")
            )
        lines += [f"• {renderer.channel_names([code], language)}: " + _("not recorded yet") for code in view.awaiting]
    return "\n".join(lines)


async def open_form(
    query: CallbackQuery, callback_data: PubCb, publications: PublicationService, policy: Policy, language: str
) -> None:
    view = await publications.view(actor_of(query), callback_data.id)
    await query.answer()
    if query.message is not None:
        if len(view.draft.body) > CARD_BODY_LIMIT:  # the whole text first, as it will be published
            await query.message.answer(view.draft.body)
        await query.message.answer(
            card_text(view, policy, language),
            reply_markup=form_card_keyboard(
                view.id, may_revise=view.may_revise, may_record=view.may_record, may_change=view.may_change
            ),
        )


def history_line(entry: HistoryEntry, policy: Policy, language: str) -> str:
    who = entry.who or _("the bot")
    what = _(EVENT_NAMES.get(entry.what, entry.what))
    version = f" (v{entry.version})" if entry.version else ""
    channel = f" {Renderer(policy).channel_names([entry.channel], language)}" if entry.channel else ""
    detail = f" · {entry.detail}" if entry.detail else ""
    return f"{format_moment(entry.at, language, policy.organisation.zone)} · {who} · {what}{channel}{detail}{version}"


async def history(
    query: CallbackQuery, callback_data: PubCb, listing: PublicationListing, policy: Policy, language: str
) -> None:
    form, entries = await listing.history(actor_of(query), callback_data.id, language)
    await query.answer()
    if query.message is not None:
        lines = [history_line(entry, policy, language) for entry in entries]
        while len(lines) > 1 and sum(len(line) + 1 for line in lines) > HISTORY_LIMIT:
            lines = lines[1:]  # the newest entries matter most; the export has everything
        if len(lines) < len(entries):
            lines.insert(0, "…")
        header = _("History of #{id} «{title}»:").format(id=form.id, title=form.title)
        await query.message.answer("\n".join([header, *lines])[:4096])


# Recording a channel's publication (D5) -----------------------------------------------------------------
async def choose_channel(
    query: CallbackQuery,
    callback_data: PubCb,
    state: FSMContext,
    publications: PublicationService,
    policy: Policy,
    language: str,
) -> None:
    view = await publications.view(actor_of(query), callback_data.id)
    await state.clear()
    await query.answer()
    if query.message is None:
        return
    if not view.may_record:
        await query.message.answer(_("Nothing is waiting to be recorded for this channel."))
        return
    renderer = Renderer(policy)
    await query.message.answer(
        _("Which channel did it appear on?"),
        reply_markup=channels_to_record(
            view.id, [(code, renderer.channel_names([code], language)) for code in view.awaiting]
        ),
    )


async def ask_link(query: CallbackQuery, callback_data: PubCb, state: FSMContext) -> None:
    await state.set_state(PublicationsFlow.link)
    await state.set_data({"form": callback_data.id, "channel": callback_data.value})
    await query.answer()
    if query.message is not None:
        await query.message.answer(
            _("Send the link where it appeared, or skip if there is none."),
            reply_markup=record_step_keyboard(callback_data.id, "skip", _("Skip")),
        )


async def take_link(message: Message, state: FSMContext) -> None:
    await state.update_data(link=clean_link(message.text or ""))
    await _ask_moment(message, state)


async def skip_link(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if query.message is not None:
        await _ask_moment(query.message, state)  # type: ignore[arg-type]


async def _ask_moment(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(PublicationsFlow.moment)
    await message.answer(
        _("When did it appear? Send the time like 2026-03-05 09:30, or press Now."),
        reply_markup=record_step_keyboard(int(data["form"]), "now", _("Now")),
    )


async def take_moment(message: Message, state: FSMContext, desk: ChannelDesk, clock: Clock, policy: Policy) -> None:
    moment = parse_moment(message.text or "", policy.organisation.zone, clock.now(), future=False)
    await _record(state, desk, actor_of(message), moment)
    await message.answer(_("Recorded. Thank you."))


async def record_now(query: CallbackQuery, state: FSMContext, desk: ChannelDesk, clock: Clock) -> None:
    await _record(state, desk, actor_of(query), clock.now())
    await query.answer()
    if query.message is not None:
        await query.message.answer(_("Recorded. Thank you."))


async def _record(state: FSMContext, desk: ChannelDesk, actor: Actor, moment: datetime) -> None:
    data = await state.get_data()
    await desk.record_channel(actor, int(data["form"]), data["channel"], moment, data.get("link"))
    await state.clear()


# Search and export (D6) ------------------------------------------------------------------------------------
async def ask_search(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(PublicationsFlow.search)
    await query.answer()
    if query.message is not None:
        await query.message.answer(
            _(
                "Send words to look for in published items, optionally with dates: "
                "2026-03-01 2026-03-31 or one day. Only dates lists everything published then."
            )
        )


async def take_search(message: Message, state: FSMContext, listing: PublicationListing, policy: Policy) -> None:
    await state.clear()
    await _search(message, listing, policy, message.text or "")


async def _search(message: Message, listing: PublicationListing, policy: Policy, text: str) -> None:
    words, start, end = parse_query(text, policy)
    found = await listing.search(actor_of(message), words, start, end)
    renderer = Renderer(policy)
    reply = _("Published items found: {count}").format(count=len(found)) if found else _("No published item matches.")
    await message.answer(
        reply,
        reply_markup=list_keyboard([(f.id, _line(f, renderer)) for f in found], reviewer=False, manager=False)
        if found
        else None,
    )


def parse_query(text: str, policy: Policy) -> tuple[str, datetime | None, datetime | None]:
    """Words, and an optional day or period (``2026-03-01 2026-03-31`` or ``2026-03-01..2026-03-31``)."""
    days: list[date] = []
    words = []
    for token in text.replace("..", " ").split():
        match = DAY.fullmatch(token)
        if match:
            try:
                days.append(date(*(int(part) for part in match.groups())))
            except ValueError:
                raise InvalidInput(N_("Please send dates like 2026-03-01.")) from None
        else:
            words.append(token)
    if len(days) > 2:
        raise InvalidInput(N_("Please send at most two dates: the first and the last day."))
    if not days:
        return " ".join(words), None, None
    zone = policy.organisation.zone
    first, last = min(days), max(days)
    return (
        " ".join(words),
        datetime.combine(first, time(), zone),
        datetime.combine(last + timedelta(days=1), time(), zone),
    )


async def ask_period(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(PublicationsFlow.period)
    await query.answer()
    if query.message is not None:
        await query.message.answer(_("Export: send the period, e.g. 2026-03-01 2026-03-31, or a month: 2026-03."))


async def take_period(message: Message, state: FSMContext, policy: Policy) -> None:
    text = (message.text or "").strip()
    month = MONTH.fullmatch(text)
    if month and 1 <= int(month[2]) <= 12:
        first = date(int(month[1]), int(month[2]), 1)
        start = datetime.combine(first, time(), policy.organisation.zone)
        end = datetime.combine((first + timedelta(days=32)).replace(day=1), time(), policy.organisation.zone)
    else:
        words, start, end = parse_query(text, policy)  # type: ignore[assignment]
        if words or start is None:
            raise InvalidInput(N_("Please send a period of at most three years, e.g. 2026-03-01 2026-03-31."))
    await state.update_data(start=start.isoformat(), end=end.isoformat())
    await message.answer(_("Which format?"), reply_markup=format_keyboard())


async def export(
    query: CallbackQuery, callback_data: PubCb, state: FSMContext, listing: PublicationListing, language: str
) -> None:
    data = await state.get_data()
    if "start" not in data:
        await query.answer(_("This button is no longer valid. Please start again."), show_alert=True)
        return
    name, content = await listing.export(
        actor_of(query),
        datetime.fromisoformat(data["start"]),
        datetime.fromisoformat(data["end"]),
        callback_data.value,
        language,
    )
    await state.clear()
    await query.answer()
    if query.message is not None:
        await query.message.answer_document(BufferedInputFile(content, filename=name))


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(overview, Command("publications"))
    router.callback_query.register(back_to_list, PubCb.filter(F.action == "list"))
    router.callback_query.register(in_review, PubCb.filter(F.action == "review"))
    router.callback_query.register(open_form, PubCb.filter(F.action == "open"))
    router.callback_query.register(history, PubCb.filter(F.action == "hist"))
    router.callback_query.register(choose_channel, PubCb.filter(F.action == "rec"))
    router.callback_query.register(ask_link, PubCb.filter(F.action == "recch"))
    router.callback_query.register(skip_link, PublicationsFlow.link, PubCb.filter(F.action == "skip"))
    router.callback_query.register(record_now, PublicationsFlow.moment, PubCb.filter(F.action == "now"))
    router.callback_query.register(ask_search, PubCb.filter(F.action == "search"))
    router.callback_query.register(ask_period, PubCb.filter(F.action == "export"))
    router.callback_query.register(export, PublicationsFlow.period, PubCb.filter(F.action == "fmt"))
    not_command = ~F.text.startswith("/")
    router.message.register(take_link, PublicationsFlow.link, F.text, not_command)
    router.message.register(take_moment, PublicationsFlow.moment, F.text, not_command)
    router.message.register(take_search, PublicationsFlow.search, F.text, not_command)
    router.message.register(take_period, PublicationsFlow.period, F.text, not_command)
    return router
