"""/deadlines, /timeliness and marking a deadline done with evidence (E4)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.i18n import pgettext
from bot.outgoing.deadlines import DeadlineCb
from bot.policy import Policy
from bot.services.deadlines.reporting import report_chart, report_text
from bot.services.deadlines.service import MAX_NOTE, DeadlineService
from bot.services.deadlines.timeliness import TimelinessService
from bot.services.deadlines.views import DeadlineTexts, DeadlineView
from bot.services.text import visible_text
from handlers.admin import actor_of
from handlers.deadline_ui import (
    DeadlineFormCb,
    cancel_form,
    done_buttons,
    form_keyboard,
    not_a_command,
    open_form,
    parse_period,
    replace,
)
from handlers.filters import IsMember
from handlers.working import showing

LISTED = 10  # lines per section of /deadlines, well within Telegram's 4096 characters
DONE_BUTTONS = 8


class EvidenceForm(StatesGroup):
    evidence = State()
    confirm = State()


def outcome_text(outcome: str | None) -> str:
    return {
        "on_time": _("on time"),
        "extended": _("within the extension"),
        "late": pgettext("deadline", "late"),
        "missed": _("after it was missed"),
    }.get(outcome or "", "")


# /deadlines ----------------------------------------------------------------------------------------
async def show_deadlines(
    message: Message, command: CommandObject, deadlines: DeadlineService, deadline_texts: DeadlineTexts, language: str
) -> None:
    if (command.args or "").strip().lower() == "ics":
        data = await deadlines.calendar_file(actor_of(message))
        caption = _("The deadlines as a calendar file: open it, or import it into your calendar app.")
        await message.answer_document(BufferedInputFile(data, "deadlines.ics"), caption=caption)
        return
    overview = await deadlines.overview(actor_of(message))
    lines = [_("Your deadlines:")]
    lines += _listed(overview.mine, deadline_texts, language) or [_("Nothing is open for you.")]
    if overview.scope:
        lines += [
            "",
            _("Your department's open deadlines:") if overview.scope == "department" else _("All open deadlines:"),
        ]
        lines += _listed(overview.others, deadline_texts, language) or [_("None.")]
        lines += ["", _("Send /deadlines ics for a calendar file of them.")]
    lines += ["", _("⏳ upcoming · ⚠️ late · ❌ missed")]
    buttons = (
        (view.id, f"{deadline_texts.name(view.code, language)} · {deadline_texts.period(view, language)}"[:60])
        for view in overview.mine[:DONE_BUTTONS]
    )
    await message.answer("\n".join(lines), reply_markup=done_buttons(buttons))


def _listed(views: list[DeadlineView], texts: DeadlineTexts, language: str) -> list[str]:
    lines = [texts.line(view, language) for view in views[:LISTED]]
    if len(views) > LISTED:
        lines.append(_("…and {count} more.").format(count=len(views) - LISTED))
    return lines


# /timeliness ---------------------------------------------------------------------------------------
async def show_timeliness(
    message: Message,
    command: CommandObject,
    timeliness: TimelinessService,
    deadline_texts: DeadlineTexts,
    policy: Policy,
    clock: Clock,
    language: str,
) -> None:
    today = clock.now().astimezone(policy.organisation.zone).date()
    period = parse_period(command.args or "", today)
    if period is None:
        await message.answer(
            _(
                "Which period? For example /timeliness (last month), /timeliness 2026-03, /timeliness 2026-Q1, "
                "/timeliness 2026-H1, /timeliness 2026 or /timeliness 2026-01-01 2026-03-31."
            )
        )
        return
    report = await timeliness.report(actor_of(message), *period)
    order = [department.code for department in policy.departments]
    await message.answer(report_text(report, order, deadline_texts, language))
    if report.rows:
        async with showing(message, ChatAction.UPLOAD_PHOTO):  # "sending a photo…" while the chart is drawn
            chart = report_chart(report, order, deadline_texts, language)
            await message.answer_photo(BufferedInputFile(chart, "timeliness.png"))


# Done, with evidence when the obligation needs it ----------------------------------------------------
async def press_done(
    query: CallbackQuery,
    callback_data: DeadlineCb,
    state: FSMContext,
    deadlines: DeadlineService,
    deadline_texts: DeadlineTexts,
    language: str,
) -> None:
    result = await deadlines.press_done(actor_of(query), callback_data.id)
    line = deadline_texts.line(result.view, language, icon=False)
    if result.needs_evidence:
        await open_form(query, state, EvidenceForm.evidence, {"id": callback_data.id}, _evidence_question(line))
        return
    await query.answer()
    if query.message:
        await query.message.answer(_done_text(line, result.view))


def _evidence_question(line: str) -> str:
    return _("Evidence for {item}: send a note, a document or a photo (a caption is kept as the note).").format(
        item=line
    )


def _done_text(line: str, view: DeadlineView) -> str:
    return _("✅ Marked done: {item} — {outcome}.").format(item=line, outcome=outcome_text(view.outcome))


async def evidence_given(message: Message, state: FSMContext) -> None:
    note = visible_text(message.text or message.caption or "").strip() or None  # as the service stores it
    file_id = message.document.file_id if message.document else message.photo[-1].file_id if message.photo else None
    if not note and not file_id:
        await message.answer(_("Send a note, a document or a photo as evidence."))
        return
    if note and len(note) > MAX_NOTE:
        await message.answer(
            pgettext("deadline evidence", "The note is too long: at most {limit} characters.").format(limit=MAX_NOTE)
        )
        return
    await state.update_data(note=note, file=file_id)
    await state.set_state(EvidenceForm.confirm)
    if file_id and note:
        shown = _("a file and the note: {note}").format(note=note)
    else:
        shown = note or _("a file")
    await message.answer(
        _("Mark it done with this evidence: {evidence}?").format(evidence=shown),
        reply_markup=form_keyboard(confirm=_("✅ Mark done")),
    )


async def evidence_confirmed(
    query: CallbackQuery, state: FSMContext, deadlines: DeadlineService, deadline_texts: DeadlineTexts, language: str
) -> None:
    data = await state.get_data()
    view = await deadlines.submit_evidence(
        actor_of(query), data.get("id", 0), note=data.get("note"), file_id=data.get("file")
    )
    await state.clear()
    await query.answer()
    await replace(query, _done_text(deadline_texts.line(view, language, icon=False), view))


async def evidence_back(
    query: CallbackQuery, state: FSMContext, deadlines: DeadlineService, deadline_texts: DeadlineTexts, language: str
) -> None:
    view = await deadlines.check_owner(actor_of(query), (await state.get_data()).get("id", 0))
    await state.set_state(EvidenceForm.evidence)
    await query.answer()
    await replace(query, _evidence_question(deadline_texts.line(view, language, icon=False)), form_keyboard(first=True))


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(show_deadlines, Command("deadlines"))
    router.message.register(show_timeliness, Command("timeliness"))
    router.callback_query.register(press_done, DeadlineCb.filter(F.action == "done"))
    router.message.register(evidence_given, EvidenceForm.evidence, not_a_command)
    router.callback_query.register(evidence_confirmed, EvidenceForm.confirm, DeadlineFormCb.filter(F.action == "ok"))
    router.callback_query.register(evidence_back, EvidenceForm.confirm, DeadlineFormCb.filter(F.action == "back"))
    router.callback_query.register(cancel_form, StateFilter(EvidenceForm), DeadlineFormCb.filter(F.action == "cancel"))
    return router
