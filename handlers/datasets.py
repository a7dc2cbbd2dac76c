"""/datasets: information officers add and edit the data-set catalogue in chat (C1, C2): names and
descriptions per language, owning department, named owners, classification, modes and the
longest grant per mode. The service checks the role on every press (F3)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import languages
from bot.policy import Policy
from bot.services.access_catalogue import MODE_NAMES, CatalogueService, DatasetView, text_field
from bot.services.actor import Actor
from handlers.access_buttons import CatalogueCb, choices
from handlers.admin import actor_of
from handlers.filters import IsMember
from handlers.labels import department_name

CANCEL = CatalogueCb(action="cancel")


class DatasetEdit(StatesGroup):
    text = State()  # data: id, field (a text field, or max_days with the mode)
    new_name = State()  # data: names so far, asking (the index of the language asked)
    new_department = State()
    new_classification = State()


def _field_labels(service: CatalogueService) -> dict[str, str]:
    """The name and the description in each of the organisation's languages."""
    labels = {"name": _("Name ({language})"), "description": _("Description ({language})")}
    fields = {}
    for field in service.text_fields():
        kind, _sep, code = field.partition(".")
        fields[field] = labels[kind].format(language=languages.language(code).name)
    return fields


def _optional(field: str) -> bool:
    """Every text but the source language's name may be left empty."""
    return field != text_field("name", languages.source())


async def listing(message: Message, catalogue_service: CatalogueService, policy: Policy, language: str) -> None:
    await _list(message, actor_of(message), catalogue_service, policy, language)


async def back_to_list(
    query: CallbackQuery, state: FSMContext, catalogue_service: CatalogueService, policy: Policy, language: str
) -> None:
    await state.clear()
    await query.answer()
    if query.message:
        await _list(query.message, actor_of(query), catalogue_service, policy, language)


async def _list(message: Message, actor: Actor, service: CatalogueService, policy: Policy, language: str) -> None:
    views = await service.listing(actor, language, editing=True)
    lines = [_("Data-set catalogue ({count}). Tap one to edit it.").format(count=len(views))]
    for view in views:
        mark = "" if view.active else " ⛔"
        level = service.catalogue.classification_name(view.classification, language)
        lines.append(f"• {view.name} · {level} · {department_name(policy, view.department, language)}{mark}")
    options = [(view.name, CatalogueCb(action="open", id=view.id)) for view in views]
    options.append((_("➕ New data set"), CatalogueCb(action="new")))
    await message.answer("\n".join(lines), reply_markup=choices(options, _))


async def open_dataset(
    query: CallbackQuery,
    callback_data: CatalogueCb,
    state: FSMContext,
    catalogue_service: CatalogueService,
    policy: Policy,
    language: str,
) -> None:
    await state.clear()
    view = await catalogue_service.get(actor_of(query), callback_data.id, language)
    await query.answer()
    if query.message:
        await _card(query.message, view, catalogue_service, policy, language)


async def _card(message: Message, view: DatasetView, service: CatalogueService, policy: Policy, language: str) -> None:
    modes = ", ".join(
        _("{mode} (up to {days} days)").format(mode=_(MODE_NAMES[mode]), days=view.max_days.get(mode, "?"))
        for mode in view.modes
    )
    owners = ", ".join(view.owners) or _("nobody yet")
    text = "\n".join(
        [
            " / ".join(view.names.values()),
            _("Description: {text}").format(text=view.description or "—"),
            _("Department: {department}").format(department=department_name(policy, view.department, language)),
            _("Data owners: {names}").format(names=owners)
            + ("" if view.owner_ids else " " + _("(holders of the owner role in the department)")),
            _("Classification: {level}").format(
                level=service.catalogue.classification_name(view.classification, language)
            ),
            _("Modes: {modes}").format(modes=modes),
            _("Status: {status}").format(status=_("active") if view.active else _("deactivated")),
        ]
    )
    labels = _field_labels(service).items()
    edit = [(label, CatalogueCb(action="edit", id=view.id, field=field)) for field, label in labels]
    edit += [
        (_("Department"), CatalogueCb(action="edit", id=view.id, field="department")),
        (_("Classification"), CatalogueCb(action="edit", id=view.id, field="classification")),
        (_("Modes"), CatalogueCb(action="edit", id=view.id, field="mode")),
        (_("Longest grants"), CatalogueCb(action="edit", id=view.id, field="max_days")),
        (_("Data owners"), CatalogueCb(action="edit", id=view.id, field="owner")),
        (_("Deactivate") if view.active else _("Activate"), CatalogueCb(action="set", id=view.id, field="active")),
    ]
    await message.answer(text, reply_markup=choices(edit, _, back=CatalogueCb(action="list")))


async def edit_field(
    query: CallbackQuery,
    callback_data: CatalogueCb,
    state: FSMContext,
    catalogue_service: CatalogueService,
    policy: Policy,
    language: str,
) -> None:
    """Text fields are typed; the others are chosen with buttons."""
    actor, field, dataset_id = actor_of(query), callback_data.field, callback_data.id
    view = await catalogue_service.get(actor, dataset_id, language)
    back = CatalogueCb(action="open", id=dataset_id)
    await query.answer()
    if query.message is None:
        return
    labels = _field_labels(catalogue_service)
    if field in labels or (field == "max_days" and callback_data.value):
        await state.set_state(DatasetEdit.text)
        await state.set_data({"id": dataset_id, "field": field, "mode": callback_data.value})
        prompt = (
            _("Send the longest grant for {mode}, in days.").format(mode=_(MODE_NAMES[callback_data.value]))
            if field == "max_days"
            else _("Send the new {field}.").format(field=labels[field])
        )
        if field != "max_days" and _optional(field):
            prompt += " " + _("Send - to leave it empty.")
        await query.message.answer(prompt, reply_markup=choices([], _, back=back, cancel=CANCEL))
        return
    options = await _options(field, view, catalogue_service, actor, policy, language)
    await query.message.answer(_("Choose:"), reply_markup=choices(options, _, back=back))


async def _options(
    field: str, view: DatasetView, service: CatalogueService, actor: Actor, policy: Policy, language: str
) -> list[tuple[str, CatalogueCb]]:
    def set_to(value: str) -> CatalogueCb:
        return CatalogueCb(action="set", id=view.id, field=field, value=value)

    if field == "department":
        return [(d.name.get(language), set_to(d.code)) for d in policy.departments]
    if field == "classification":
        return [(c.name.get(language), set_to(c.code)) for c in policy.access.classifications]
    if field == "mode":
        return [(("✅ " if m in view.modes else "▫️ ") + _(MODE_NAMES[m]), set_to(m)) for m in policy.access.modes]
    if field == "max_days":
        return [
            (_(MODE_NAMES[m]), CatalogueCb(action="edit", id=view.id, field="max_days", value=m)) for m in view.modes
        ]
    people = await service.owner_candidates(actor, view.id)
    return [(("✅ " if i in view.owner_ids else "▫️ ") + name, set_to(str(i))) for i, name in people]


async def set_choice(
    query: CallbackQuery,
    callback_data: CatalogueCb,
    catalogue_service: CatalogueService,
    policy: Policy,
    language: str,
) -> None:
    view = await catalogue_service.update(
        actor_of(query), callback_data.id, callback_data.field, callback_data.value, language
    )
    await query.answer(_("Saved."))
    if query.message:
        await _card(query.message, view, catalogue_service, policy, language)


async def text_given(
    message: Message, state: FSMContext, catalogue_service: CatalogueService, policy: Policy, language: str
) -> None:
    data = await state.get_data()
    value = (message.text or "").strip()
    if data["field"] == "max_days":
        value = f"{data['mode']}={value}"
    elif value == "-" and _optional(data["field"]):
        value = ""
    view = await catalogue_service.update(actor_of(message), data["id"], data["field"], value, language)
    await state.clear()
    await message.answer(_("Saved."))
    await _card(message, view, catalogue_service, policy, language)


# A new data set: its name in each language (the source language's required) → department → classification ---
NEW_BACK = CatalogueCb(action="newback")


async def new_dataset(query: CallbackQuery, state: FSMContext, catalogue_service: CatalogueService) -> None:
    await catalogue_service.check_editor(actor_of(query))
    await state.set_data({"names": {}, "asking": 0})
    await query.answer()
    if query.message:
        await _ask_name(query.message, state, catalogue_service, 0)


async def _ask_name(message: Message, state: FSMContext, service: CatalogueService, asking: int) -> None:
    spoken = service.spoken()
    await state.set_state(DatasetEdit.new_name)
    await state.update_data(asking=asking)
    step = {"step": asking + 1, "steps": len(spoken) + 2, "language": languages.language(spoken[asking]).name}
    if asking == 0:
        await message.answer(
            _("New data set — step {step} of {steps}: send its name in {language}.").format(**step),
            reply_markup=choices([], _, cancel=CANCEL),
        )
        return
    skip = [(_("Skip"), CatalogueCb(action="skip"))]
    await message.answer(
        _("Step {step} of {steps}: send its name in {language}, or skip.").format(**step),
        reply_markup=choices(skip, _, back=NEW_BACK, cancel=CANCEL),
    )


async def _ask_department(
    message: Message, state: FSMContext, service: CatalogueService, policy: Policy, language: str
) -> None:
    await state.set_state(DatasetEdit.new_department)
    options = [(d.name.get(language), CatalogueCb(action="pick", value=d.code)) for d in policy.departments]
    steps = len(service.spoken()) + 2
    await message.answer(
        _("Step {step} of {steps}: which department owns it?").format(step=steps - 1, steps=steps),
        reply_markup=choices(options, _, back=NEW_BACK, cancel=CANCEL),
    )


async def _ask_classification(
    message: Message, state: FSMContext, service: CatalogueService, policy: Policy, language: str
) -> None:
    await state.set_state(DatasetEdit.new_classification)
    options = [(c.name.get(language), CatalogueCb(action="pick", value=c.code)) for c in policy.access.classifications]
    steps = len(service.spoken()) + 2
    await message.answer(
        _("Step {step} of {steps}: its classification (密级)?").format(step=steps, steps=steps),
        reply_markup=choices(options, _, back=NEW_BACK, cancel=CANCEL),
    )


async def _next_name(
    message: Message, state: FSMContext, service: CatalogueService, policy: Policy, language: str, name: str | None
) -> None:
    """Keep the name just given (None: skipped) and ask for the next language's, or go on."""
    data = await state.get_data()
    spoken, asking = service.spoken(), data["asking"]
    await state.update_data(names={**data["names"], spoken[asking]: name})
    if asking + 1 < len(spoken):
        await _ask_name(message, state, service, asking + 1)
    else:
        await _ask_department(message, state, service, policy, language)


async def new_name(
    message: Message, state: FSMContext, catalogue_service: CatalogueService, policy: Policy, language: str
) -> None:
    name = catalogue_service.check_name(message.text or "")
    await _next_name(message, state, catalogue_service, policy, language, name)


async def skip_name(
    query: CallbackQuery, state: FSMContext, catalogue_service: CatalogueService, policy: Policy, language: str
) -> None:
    await query.answer()
    if (await state.get_data()).get("asking") and query.message:  # the source language's name cannot be skipped
        await _next_name(query.message, state, catalogue_service, policy, language, None)


async def new_department(
    query: CallbackQuery,
    callback_data: CatalogueCb,
    state: FSMContext,
    catalogue_service: CatalogueService,
    policy: Policy,
    language: str,
) -> None:
    await state.update_data(department=callback_data.value)
    await query.answer()
    if query.message:
        await _ask_classification(query.message, state, catalogue_service, policy, language)


async def new_classification(
    query: CallbackQuery,
    callback_data: CatalogueCb,
    state: FSMContext,
    catalogue_service: CatalogueService,
    policy: Policy,
    language: str,
) -> None:
    data = await state.get_data()
    view = await catalogue_service.create(
        actor_of(query),
        names=data.get("names", {}),
        department=data.get("department", ""),
        classification=callback_data.value,
        language=language,
    )
    await state.clear()
    await query.answer(_("Saved."))
    if query.message:
        await _card(query.message, view, catalogue_service, policy, language)


async def new_back(
    query: CallbackQuery, state: FSMContext, catalogue_service: CatalogueService, policy: Policy, language: str
) -> None:
    current, asking = await state.get_state(), (await state.get_data()).get("asking", 0)
    await query.answer()
    if query.message is None:
        return
    if current == DatasetEdit.new_classification.state:
        await _ask_department(query.message, state, catalogue_service, policy, language)
    elif current == DatasetEdit.new_department.state:
        await _ask_name(query.message, state, catalogue_service, len(catalogue_service.spoken()) - 1)
    else:
        await _ask_name(query.message, state, catalogue_service, max(asking - 1, 0))


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if query.message:
        await query.message.answer(_("Cancelled. Nothing was changed."))


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    text = (F.text, ~F.text.startswith("/"))
    router.message.register(listing, Command("datasets"))
    router.callback_query.register(back_to_list, CatalogueCb.filter(F.action == "list"))
    router.callback_query.register(open_dataset, CatalogueCb.filter(F.action == "open"))
    router.callback_query.register(edit_field, CatalogueCb.filter(F.action == "edit"))
    router.callback_query.register(set_choice, CatalogueCb.filter(F.action == "set"))
    router.callback_query.register(cancel, CatalogueCb.filter(F.action == "cancel"))
    router.message.register(text_given, DatasetEdit.text, *text)
    router.callback_query.register(new_dataset, CatalogueCb.filter(F.action == "new"))
    router.message.register(new_name, DatasetEdit.new_name, *text)
    router.callback_query.register(skip_name, DatasetEdit.new_name, CatalogueCb.filter(F.action == "skip"))
    router.callback_query.register(new_department, DatasetEdit.new_department, CatalogueCb.filter(F.action == "pick"))
    router.callback_query.register(
        new_classification, DatasetEdit.new_classification, CatalogueCb.filter(F.action == "pick")
    )
    router.callback_query.register(new_back, CatalogueCb.filter(F.action == "newback"))
    return router
