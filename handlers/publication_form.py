"""/publish: the information publication form (信息发布管理表) step by step (D1, D5).

The form is kept in the wizard's state (stored in the database), so nothing is lost between
steps or across a restart. Every step has Back and Cancel; /cancel works anywhere. After the
last step, or after editing one field, the drafter sees the summary sheet (publication_sheet.py).
"""

from __future__ import annotations

from dataclasses import replace

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.outgoing.publication import PubCb
from bot.policy import Policy
from bot.services.errors import N_, InvalidInput
from bot.services.publication_draft import (
    ATTACHMENT_LIMIT,
    Draft,
    attachment_of,
    check_body,
    clean_audience,
    clean_note,
    clean_title,
    parse_moment,
    parse_quantity,
    visible_body,
)
from handlers import publication_sheet as sheet
from handlers.filters import IsMember
from handlers.publication_buttons import FormCb, kind_keyboard
from handlers.publication_sheet import checklist_keyboard, show_sheet
from handlers.publication_steps import STEPS, PublishForm, load, prompt, save, show_step, step_of


async def next_step(message: Message, state: FSMContext, step: str, policy: Policy, language: str) -> None:
    """After a value is accepted: the next step, or back to the sheet when editing or at the end."""
    data = await state.get_data()
    order = STEPS[data.get("kind", "new")]
    if data.get("editing") or step not in order or order.index(step) + 1 == len(order):
        await state.update_data(editing=True)
        await show_sheet(message, state, policy, language)
    else:
        await show_step(message, state, order[order.index(step) + 1], policy, language)


# Text steps ------------------------------------------------------------------------------------------
async def text_step(message: Message, state: FSMContext, policy: Policy, clock: Clock, language: str) -> None:
    step = step_of(await state.get_state())
    _data, draft = await load(state)
    text = message.text or ""
    zone = policy.organisation.zone
    if step == "title":
        draft = replace(draft, title=clean_title(text))
    elif step == "audience":
        draft = replace(draft, audience=clean_audience(text))
    elif step == "quantity":
        draft = replace(draft, quantity=parse_quantity(text))
    elif step == "planned":
        draft = replace(draft, planned_at=parse_moment(text, zone, clock.now()))
    elif step == "embargo":
        draft = replace(draft, embargo_until=parse_moment(text, zone, clock.now()))
    elif step in ("reason", "note"):
        draft = replace(draft, note=clean_note(text))
    await save(state, draft)
    await next_step(message, state, step, policy, language)


async def body_step(message: Message, state: FSMContext, policy: Policy, language: str) -> None:
    """The text with its Telegram formatting (entities), or a photo/file with a caption."""
    _data, draft = await load(state)
    text = message.text if message.text is not None else (message.caption or "")
    entities = message.entities if message.text is not None else message.caption_entities
    text, formatting = visible_body(
        text, [entity.model_dump(mode="json", exclude_none=True) for entity in entities or []]
    )
    draft = replace(draft, body=check_body(text), entities=formatting)
    if message.photo or message.document:
        draft = _with_file(draft, message)
    await save(state, draft)
    await next_step(message, state, "body", policy, language)


async def file_step(message: Message, state: FSMContext, policy: Policy, language: str) -> None:
    _data, draft = await load(state)
    draft = _with_file(draft, message)
    await save(state, draft)
    await message.answer(_("Attached: {name}.").format(name=draft.attachments[-1]["name"]))
    await show_step(message, state, "files", policy, language)


def _with_file(draft: Draft, message: Message) -> Draft:
    if len(draft.attachments) >= ATTACHMENT_LIMIT:
        raise InvalidInput(N_("At most {limit} files can be attached."), limit=ATTACHMENT_LIMIT)
    if message.photo:
        photo = message.photo[-1]
        attachment = attachment_of(
            "photo", photo.file_id, _("photo {number}").format(number=len(draft.attachments) + 1), "image/jpeg"
        )
    else:
        assert message.document is not None
        document = message.document
        attachment = attachment_of("document", document.file_id, document.file_name or "file", document.mime_type)
    return replace(draft, attachments=[*draft.attachments, attachment])


async def wrong_input(message: Message, state: FSMContext) -> None:
    """Something the current step cannot take (a sticker, a voice note, a file where text is asked)."""
    step = step_of(await state.get_state())
    if step == "files":
        await message.answer(_("Only images, PDF and Word (DOC, DOCX) files can be attached."))
    elif step in ("channels", "options", "checklist", "sheet", "kind", "item"):
        await message.answer(_("Please use the buttons above, or send /cancel to leave the form."))
    else:
        await message.answer(_("Please send text for this step, or send /cancel to leave the form."))


# Buttons of the steps ----------------------------------------------------------------------------------
async def skip_step(
    query: CallbackQuery, callback_data: FormCb, state: FSMContext, policy: Policy, language: str
) -> None:
    step = step_of(await state.get_state())
    _data, draft = await load(state)
    cleared = {
        "body": {"body": "", "entities": []},
        "files": {"attachments": []},
        "planned": {"planned_at": None},
        "embargo": {"embargo_until": None},
        "note": {"note": None},
    }
    if step not in cleared:
        await query.answer()
        return
    await save(state, replace(draft, **cleared[step]))
    await query.answer()
    assert query.message is not None
    if step == "files" and callback_data.value == "clear":
        await show_step(query.message, state, "files", policy, language)  # type: ignore[arg-type]
    else:
        await next_step(query.message, state, step, policy, language)  # type: ignore[arg-type]


async def toggle(query: CallbackQuery, callback_data: FormCb, state: FSMContext, policy: Policy, language: str) -> None:
    """Channels, options and checklist items: tap to choose, tap again to drop."""
    step = step_of(await state.get_state())
    _data, draft = await load(state)
    value = callback_data.value
    if step == "channels" and any(c.code == value for c in policy.publication.channels):
        draft = replace(draft, channels=sorted(set(draft.channels) ^ {value}, key=_order(policy)))
    elif step == "options" and value in ("disclosure", "designated_first"):
        draft = replace(draft, **{value: not getattr(draft, value)})
    elif step == "checklist" and any(item.code == value for item in policy.publication.prohibited_checklist):
        draft = replace(draft, checklist=sorted(set(draft.checklist) ^ {value}))
    else:
        await query.answer(_("This button is no longer valid. Please start again."), show_alert=True)
        return
    await save(state, draft)
    await query.answer()
    if query.message is not None:
        if step == "checklist":
            markup = checklist_keyboard(draft, policy, language)
        else:
            markup = prompt(step, draft, policy, language)[1]
        await query.message.edit_reply_markup(reply_markup=markup)  # type: ignore[union-attr]


def _order(policy: Policy):  # noqa: ANN202
    codes = [c.code for c in policy.publication.channels]
    return lambda code: codes.index(code)


async def choices_done(query: CallbackQuery, state: FSMContext, policy: Policy, language: str) -> None:
    step = step_of(await state.get_state())
    _data, draft = await load(state)
    if step == "channels" and not draft.channels:
        await query.answer(_("Choose at least one channel."), show_alert=True)
        return
    await query.answer()
    assert query.message is not None
    if step == "checklist":
        await show_sheet(query.message, state, policy, language)  # type: ignore[arg-type]
    else:
        await next_step(query.message, state, step, policy, language)  # type: ignore[arg-type]


async def go_back(query: CallbackQuery, state: FSMContext, policy: Policy, language: str) -> None:
    data, _draft = await load(state)
    step = step_of(await state.get_state())
    order = STEPS[data.get("kind", "new")]
    await query.answer()
    message = query.message
    assert message is not None
    if data.get("editing") and step not in ("sheet",):
        await show_sheet(message, state, policy, language)  # type: ignore[arg-type]
    elif step in order and order.index(step) > 0:
        await show_step(message, state, order[order.index(step) - 1], policy, language)  # type: ignore[arg-type]
    else:
        await state.set_state(PublishForm.kind)
        await message.answer(
            _("Information publication form: what would you like to submit?"), reply_markup=kind_keyboard(True)
        )


async def cancel_form(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if query.message is not None:
        await query.message.answer(_("Cancelled. Nothing was submitted."))


def _not_a_command(message: Message) -> bool:
    return not (message.text or "").startswith("/")


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    in_form = StateFilter(PublishForm)
    router.message.register(sheet.start, Command("publish"))
    router.callback_query.register(cancel_form, in_form, FormCb.filter(F.action == "cancel"))
    router.callback_query.register(go_back, in_form, FormCb.filter(F.action == "back"))
    router.callback_query.register(sheet.choose_kind, PublishForm.kind, FormCb.filter(F.action == "kind"))
    router.callback_query.register(sheet.choose_item, PublishForm.item, FormCb.filter(F.action == "item"))
    router.callback_query.register(skip_step, in_form, FormCb.filter(F.action == "skip"))
    choosing = StateFilter(PublishForm.channels, PublishForm.options, PublishForm.checklist)
    router.callback_query.register(toggle, choosing, FormCb.filter(F.action.in_({"ch", "opt", "chk"})))
    router.callback_query.register(
        choices_done,
        StateFilter(PublishForm.files, PublishForm.channels, PublishForm.options, PublishForm.checklist),
        FormCb.filter(F.action == "next"),
    )
    router.callback_query.register(sheet.edit_field, PublishForm.sheet, FormCb.filter(F.action == "edit"))
    router.callback_query.register(sheet.submit, PublishForm.sheet, FormCb.filter(F.action == "submit"))
    router.callback_query.register(sheet.revise, PubCb.filter(F.action == "revise"))
    router.callback_query.register(sheet.from_card, PubCb.filter(F.action.in_({"change", "takedown"})))
    texts = StateFilter(
        PublishForm.title,
        PublishForm.audience,
        PublishForm.quantity,
        PublishForm.planned,
        PublishForm.embargo,
        PublishForm.reason,
        PublishForm.note,
    )
    router.message.register(text_step, texts, F.text, _not_a_command)
    router.message.register(body_step, PublishForm.body, F.text | F.photo | F.document, _not_a_command)
    router.message.register(file_step, PublishForm.files, F.photo | F.document)
    router.message.register(wrong_input, in_form, _not_a_command)
    return router
