"""The summary sheet of the /publish wizard: every field, the exaggeration pre-check (D3), the
prohibited-content checklist (D4); edit any field, then submit. Also where a form starts: /publish,
a change or take-down of a published item, a revision of a returned form (D2)."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.outgoing.publication import PubCb
from bot.policy import Policy
from bot.services.publication_draft import Draft, exaggeration_flags
from bot.services.publication_render import Renderer
from bot.services.publications import PublicationService
from handlers.admin import actor_of
from handlers.publication_buttons import FormCb, items_keyboard, kind_keyboard, sheet_keyboard, toggles_keyboard
from handlers.publication_steps import STEPS, PublishForm, load, show_step


def field_labels() -> dict[str, str]:
    return {
        "title": _("Title"),
        "body": _("Text"),
        "files": _("Files"),
        "channels": _("Channels"),
        "audience": _("Audience"),
        "quantity": _("Quantity"),
        "planned": _("Time"),
        "embargo": _("Embargo"),
        "options": _("Options"),
        "note": _("Reason"),
    }


async def show_sheet(message: Message, state: FSMContext, policy: Policy, language: str) -> None:
    data, draft = await load(state)
    kind = data.get("kind", "new")
    await state.set_state(PublishForm.sheet)
    renderer = Renderer(policy)
    parts = [
        _("Information publication form — {kind}").format(kind=renderer.kind(kind, data.get("target"), _)),
        renderer.summary(draft, kind, _, language),
    ]
    if kind != "takedown":
        words = policy.publication.exaggeration_words
        parts.append(renderer.flags(exaggeration_flags(words, draft.title, draft.body), _))
        parts.append(renderer.checklist(draft.checklist, _))
    if data.get("form") and draft.note and kind != "takedown":
        parts.append(_("Note for the reviewers: {note}").format(note=draft.note))
    parts.append(_("Check everything above. Tap a field to change it, then submit for review."))
    await message.answer("\n\n".join(parts), reply_markup=sheet_keyboard(kind, field_labels(), bool(data.get("form"))))


def checklist_keyboard(draft: Draft, policy: Policy, language: str) -> InlineKeyboardMarkup:
    items = [
        (item.code, item.text.get(language), item.code in draft.checklist)
        for item in policy.publication.prohibited_checklist
    ]
    return toggles_keyboard(items, "chk", _("Done ▶"))


async def edit_field(
    query: CallbackQuery, callback_data: FormCb, state: FSMContext, policy: Policy, language: str
) -> None:
    data, draft = await load(state)
    field = callback_data.value
    await query.answer()
    assert query.message is not None
    if field == "checklist":
        await state.set_state(PublishForm.checklist)
        await query.message.answer(
            _("Prohibited-content checklist (D4): tick each item to confirm the information contains none of it."),
            reply_markup=checklist_keyboard(draft, policy, language),
        )
        return
    step = ("reason" if data.get("kind") == "takedown" else "note") if field == "note" else field
    allowed = set(STEPS["new"]) | {"reason", "note"}
    if step not in allowed or (step == "channels" and data.get("kind") != "new"):
        await query.message.answer(_("This button is no longer valid. Please start again."))
        return
    await state.update_data(editing=True)
    await show_step(query.message, state, step, policy, language)  # type: ignore[arg-type]


async def submit(query: CallbackQuery, state: FSMContext, publications: PublicationService, language: str) -> None:
    data, draft = await load(state)
    actor = actor_of(query)
    if data.get("form"):
        submitted = await publications.resubmit(actor, int(data["form"]), draft)
        text = (
            _("Resubmitted as a new version. The reviewers will see what changed; earlier approvals start again.")
            if submitted.changed
            else _("Resubmitted without changes; earlier approvals stand.")
        )
    else:
        submitted = await publications.submit(actor, data.get("kind", "new"), data.get("target"), draft, language)
        text = _("Submitted for review.")
    await state.clear()
    await query.answer()
    if query.message is None:
        return
    lines = [_("Form #{id}").format(id=submitted.form_id) + ": " + text]
    if submitted.status is not None:
        status = submitted.status
        lines.append(
            _("Now at step {position} of {total} ({step}), with {names}.").format(
                position=status.position, total=status.total, step=status.step, names=", ".join(status.holders) or "—"
            )
        )
    lines.append(_("Follow it with /publications."))
    await query.message.answer("\n".join(lines))


# Where a form starts ---------------------------------------------------------------------------------
async def start(message: Message, state: FSMContext, publications: PublicationService) -> None:
    items = await publications.live_items(actor_of(message))
    await state.clear()
    await state.set_state(PublishForm.kind)
    await message.answer(
        _("Information publication form: what would you like to submit?"), reply_markup=kind_keyboard(bool(items))
    )


async def choose_kind(
    query: CallbackQuery,
    callback_data: FormCb,
    state: FSMContext,
    publications: PublicationService,
    policy: Policy,
    language: str,
) -> None:
    kind = callback_data.value
    items = await publications.live_items(actor_of(query))  # also refuses (and audits) a non-drafter
    await query.answer()
    assert query.message is not None
    if kind == "new":
        await state.set_data({"kind": "new", "draft": Draft().data()})
        await show_step(query.message, state, "title", policy, language)  # type: ignore[arg-type]
    elif kind not in STEPS or not items:
        await query.message.answer(_("You have no published items to change or take down."))
    else:
        await state.set_data({"kind": kind})
        await state.set_state(PublishForm.item)
        await query.message.answer(_("Which published item?"), reply_markup=items_keyboard(items))


async def choose_item(
    query: CallbackQuery,
    callback_data: FormCb,
    state: FSMContext,
    publications: PublicationService,
    policy: Policy,
    language: str,
) -> None:
    kind = (await state.get_data()).get("kind", "change")
    item_id = int(callback_data.value) if callback_data.value.isdigit() else 0
    await begin_on_item(query, state, publications, policy, language, item_id, kind)


async def from_card(
    query: CallbackQuery,
    callback_data: PubCb,
    state: FSMContext,
    publications: PublicationService,
    policy: Policy,
    language: str,
) -> None:
    """Change or Take down pressed on a published item's card."""
    await begin_on_item(query, state, publications, policy, language, callback_data.id, callback_data.action)


async def begin_on_item(
    query: CallbackQuery,
    state: FSMContext,
    publications: PublicationService,
    policy: Policy,
    language: str,
    item_id: int,
    kind: str,
) -> None:
    """A change starts at the sheet with the published version; a take-down asks for the reason (D2)."""
    draft = await publications.start_from_item(actor_of(query), item_id, kind)
    await state.set_data({"kind": kind, "target": item_id, "draft": draft.data()})
    await query.answer()
    message = query.message
    assert isinstance(message, Message)
    if kind == "takedown":
        await show_step(message, state, "reason", policy, language)
    else:
        await state.update_data(editing=True)
        await message.answer(_("The form starts as the published version. Change only what needs changing."))
        await show_sheet(message, state, policy, language)


async def revise(
    query: CallbackQuery,
    callback_data: PubCb,
    state: FSMContext,
    publications: PublicationService,
    policy: Policy,
    language: str,
) -> None:
    """A returned form reopens at the sheet with its current version (D2)."""
    kind, target, draft = await publications.start_revision(actor_of(query), callback_data.id)
    await state.set_data(
        {"kind": kind, "target": target, "form": callback_data.id, "draft": draft.data(), "editing": True}
    )
    await query.answer()
    if query.message is not None:
        await show_sheet(query.message, state, policy, language)  # type: ignore[arg-type]
