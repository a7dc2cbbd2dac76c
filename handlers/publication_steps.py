"""The /publish wizard's states, its draft (kept in the wizard's storage: the database) and the
question each step asks."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.policy import Policy
from bot.services.publication_draft import ATTACHMENT_LIMIT, Draft, designated_channel
from handlers.publication_buttons import FormCb, step_keyboard, toggles_keyboard

STEPS = {  # the steps of a first pass, by kind; a change starts at the sheet with the published text
    "new": ("title", "body", "files", "channels", "audience", "quantity", "planned", "embargo", "options"),
    "change": (),
    "takedown": ("reason", "planned"),
}


class PublishForm(StatesGroup):
    kind = State()
    item = State()
    title = State()
    body = State()
    files = State()
    channels = State()
    audience = State()
    quantity = State()
    planned = State()
    embargo = State()
    options = State()
    reason = State()
    note = State()
    sheet = State()
    checklist = State()


def step_of(state_name: str | None) -> str:
    return (state_name or "").rsplit(":", 1)[-1]


async def load(state: FSMContext) -> tuple[dict[str, Any], Draft]:
    data = await state.get_data()
    return data, Draft.of(data.get("draft", {}))


async def save(state: FSMContext, draft: Draft) -> None:
    await state.update_data(draft=draft.data())


# Showing a step -------------------------------------------------------------------------------------
async def show_step(message: Message, state: FSMContext, step: str, policy: Policy, language: str) -> None:
    data, draft = await load(state)
    await state.set_state(getattr(PublishForm, step))
    order = STEPS[data.get("kind", "new")]
    counter = (
        _("Step {number} of {total}").format(number=order.index(step) + 1, total=len(order)) + " · "
        if step in order and not data.get("editing")
        else ""
    )
    question, markup = prompt(step, draft, policy, language)
    await message.answer(counter + question, reply_markup=markup)


def prompt(step: str, draft: Draft, policy: Policy, language: str) -> tuple[str, Any]:
    if step == "channels":
        choices = [(c.code, c.name.get(language), c.code in draft.channels) for c in policy.publication.channels]
        return _("Channels: where will it be published? Tap every channel, then Next."), toggles_keyboard(
            choices, "ch", _("Next ▶")
        )
    if step == "options":
        designated = designated_channel(policy.publication)
        name = policy.publication.channel(designated).name.get(language) if designated else "—"
        choices = [
            ("disclosure", _("Regulatory disclosure (adds the external review)"), draft.disclosure),
            (
                "designated_first",
                _("Designated platform first: {channel}").format(channel=name),
                draft.designated_first,
            ),
        ]
        return _("Options (D5): tap what applies, then Next."), toggles_keyboard(choices, "opt", _("Next ▶"))
    if step == "files":
        text = _(
            "Files: send images, PDF or Word files one at a time ({count} attached, at most {limit}). "
            "Press Done when finished."
        ).format(count=len(draft.attachments), limit=ATTACHMENT_LIMIT)
        extra = [(_("Done ▶"), FormCb(action="next"))]
        if draft.attachments:
            extra.append((_("Remove all files"), FormCb(action="skip", value="clear")))
        return text, step_keyboard(*extra)
    prompts = {
        "title": (_("Title: send the title of the information."), ()),
        "body": (
            _(
                "Text: send the text to publish, exactly as it should appear (bold, italic and links are kept). "
                "A photo or file with a caption works too. Only files? Press Skip."
            ),
            ((_("Skip: only files"), FormCb(action="skip")),),
        ),
        "audience": (_("Audience: who is it for? (e.g. customers, the public, shareholders)"), ()),
        "quantity": (_("Quantity: how many (copies, messages, posts)? Send a whole number."), ()),
        "planned": (
            _("Planned publication time: send it like 2026-03-05 09:30, or publish as soon as approved."),
            ((_("As soon as approved"), FormCb(action="skip")),),
        ),
        "embargo": (
            _("Embargo: nothing may appear anywhere before this time. Send it like 2026-03-05 09:00, or skip."),
            ((_("No embargo"), FormCb(action="skip")),),
        ),
        "reason": (_("Why should the item be taken down? Send the reason."), ()),
        "note": (
            _("Note for the reviewers: what did you change? (optional)"),
            ((_("Skip"), FormCb(action="skip")),),
        ),
    }
    text, extra = prompts[step]
    return text, step_keyboard(*extra)
