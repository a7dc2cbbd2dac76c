"""The data-set catalogue (C1, C2): seeded from the policy, edited in chat by information officers.

A data set edited in chat keeps its chat values; the policy only adds data sets and refreshes
those nobody has edited. Data owners are the members named on the data set, else the holders
of its ``owner_role`` in its department.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import languages
from bot.clock import Clock
from bot.policy import Policy
from bot.policy.schema import MaxDays
from bot.services.actor import Actor
from bot.services.audit import record, refuse
from bot.services.errors import N_, InvalidInput, NotAllowed, NotFound
from storage.access_models import DatasetRow
from storage.models import Member
from storage.uow import UnitOfWork, UnitOfWorkFactory

EDITOR_ROLE = "information_officer"
MODE_NAMES = {"read_only": N_("read-only"), "full": N_("full access"), "export": N_("export / copy")}
MAX_NAME, MAX_DESCRIPTION, MAX_GRANT_DAYS = 200, 1000, 3650
TEXT_LIMITS = {"name": MAX_NAME, "description": MAX_DESCRIPTION}


def text_field(kind: str, language: str) -> str:
    """The field id of a data set's name or description in one language, e.g. ``name.en``."""
    return f"{kind}.{language}"


@dataclass(frozen=True)
class DatasetView:
    id: int
    code: str
    name: str
    description: str
    department: str
    classification: str
    modes: tuple[str, ...]
    max_days: dict[str, int]
    owners: tuple[str, ...]  # names of the data owners right now
    owner_ids: tuple[int, ...]  # members named as owners (empty: the owner role decides)
    active: bool
    names: dict[str, str]  # by language, for editing
    descriptions: dict[str, str]


class Catalogue:
    """Reading the catalogue inside a caller's unit of work."""

    def __init__(self, policy: Policy, clock: Clock) -> None:
        self._policy = policy
        self._clock = clock
        self._synced = False

    async def ensure(self, uow: UnitOfWork) -> None:
        """Bring the policy's data sets into the database once per process (idempotent)."""
        if self._synced:
            return
        listed = {dataset.code for dataset in self._policy.access.datasets}
        for dataset in self._policy.access.datasets:
            row = await uow.access.dataset_by_code(dataset.code)
            if row is None:
                row = uow.access.add_dataset(DatasetRow(code=dataset.code, owner_ids=[], edited_in_chat=False))
            elif row.edited_in_chat:
                continue
            row.names = dataset.name.texts()
            row.descriptions = dataset.description.texts() if dataset.description else {}
            row.department, row.owner_role, row.classification = (
                dataset.department,
                dataset.owner_role,
                dataset.classification,
            )
            row.modes = [mode for mode in dataset.modes if mode in self._policy.access.modes]
            row.max_days = {mode: dataset.max_days.for_mode(mode) for mode in MODE_NAMES}
            row.active, row.updated_at = True, self._clock.now()
        for row in await uow.access.datasets():
            if not row.edited_in_chat and row.code not in listed:
                row.active = False  # removed from the policy
        await uow.session.flush()
        self._synced = True

    async def datasets(self, uow: UnitOfWork, *, include_inactive: bool = False) -> list[DatasetRow]:
        await self.ensure(uow)
        return list(await uow.access.datasets(include_inactive=include_inactive))

    async def dataset(self, uow: UnitOfWork, dataset_id: int) -> DatasetRow:
        await self.ensure(uow)
        row = await uow.access.dataset(dataset_id)
        if row is None:
            raise NotFound(N_("This data set does not exist."))
        return row

    async def owners(self, uow: UnitOfWork, dataset: DatasetRow) -> list[Member]:
        """The data owners (C1): the members named on the data set, else the owner role's holders."""
        if dataset.owner_ids:
            named = await uow.approvals.members(dataset.owner_ids)
            return [named[i] for i in dataset.owner_ids if i in named and named[i].active]
        return list(await uow.members.with_role(dataset.owner_role, dataset.department))

    def classified(self, dataset: DatasetRow) -> bool:
        """Classified (秘密 and above: any level over the lowest; an unknown level counts as classified):
        messages showing its requests and grants are sent protected (no forwarding, no saving)."""
        levels = self._policy.access.classifications
        rank = next((level.rank for level in levels if level.code == dataset.classification), None)
        return rank is None or rank > min(level.rank for level in levels)

    def classification_name(self, code: str, language: str) -> str:
        level = next((c for c in self._policy.access.classifications if c.code == code), None)
        return level.name.get(language) if level else code

    def department_name(self, code: str, language: str) -> str:
        department = next((d for d in self._policy.departments if d.code == code), None)
        return department.name.get(language) if department else code

    async def view(self, uow: UnitOfWork, row: DatasetRow, language: str) -> DatasetView:
        owners = await self.owners(uow, row)
        return DatasetView(
            row.id,
            row.code,
            row.name(language),
            row.description(language),
            row.department,
            row.classification,
            tuple(row.modes),
            {mode: int(days) for mode, days in row.max_days.items()},
            tuple(owner.name for owner in owners),
            tuple(row.owner_ids),
            row.active,
            dict(row.names),
            dict(row.descriptions),
        )


class CatalogueService:
    """Information officers add and edit data sets in chat (C1); everyone may browse."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy, catalogue: Catalogue) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self.catalogue = catalogue

    async def listing(self, actor: Actor, language: str, *, editing: bool = False) -> list[DatasetView]:
        async with self._uow() as uow:
            if editing:
                await self._editor(uow, actor)
            rows = await self.catalogue.datasets(uow, include_inactive=editing)
            views = [await self.catalogue.view(uow, row, language) for row in rows]
            await uow.commit()  # the first read may have seeded the catalogue
            return views

    async def get(self, actor: Actor, dataset_id: int, language: str) -> DatasetView:
        async with self._uow() as uow:
            await self._editor(uow, actor)
            return await self.catalogue.view(uow, await self.catalogue.dataset(uow, dataset_id), language)

    def check_name(self, text: str) -> str:
        return _text(text, MAX_NAME)

    async def check_editor(self, actor: Actor) -> None:
        async with self._uow() as uow:
            await self._editor(uow, actor)

    async def create(
        self, actor: Actor, *, names: dict[str, str | None], department: str, classification: str, language: str
    ) -> DatasetView:
        """A new data set; ``names`` by language, the source language's required."""
        async with self._uow() as uow:
            editor = await self._editor(uow, actor)
            await self.catalogue.ensure(uow)
            row = uow.access.add_dataset(
                DatasetRow(
                    code="",
                    names=self._names(names),
                    descriptions={},
                    department=self._department(department),
                    owner_role=EDITOR_ROLE,
                    owner_ids=[],
                    classification=self._classification(classification),
                    modes=list(self._policy.access.modes),
                    max_days={mode: MaxDays().for_mode(mode) for mode in MODE_NAMES},  # the policy's defaults
                    active=True,
                    edited_in_chat=True,
                    updated_at=self._clock.now(),
                )
            )
            await uow.session.flush()
            row.code = f"dataset_{row.id}"
            await record(
                uow, self._clock, actor, "dataset", row.id, "created", editor.id, name=row.name(languages.source())
            )
            await uow.commit()
            return await self.catalogue.view(uow, row, language)

    async def update(self, actor: Actor, dataset_id: int, field: str, value: str, language: str) -> DatasetView:
        """Change one thing: a name or description, the department, the classification, a mode
        (toggled), a mode's longest grant (``mode=days``), a named owner (toggled), or active."""
        async with self._uow() as uow:
            editor = await self._editor(uow, actor)
            row = await self.catalogue.dataset(uow, dataset_id)
            if field in self.text_fields():
                self._set_text(row, field, value)
            elif field == "department":
                row.department, row.owner_ids = self._department(value), []
            elif field == "classification":
                row.classification = self._classification(value)
            elif field == "mode":
                row.modes = self._toggle_mode(row.modes, value)
            elif field == "max_days":
                mode, _, days = value.partition("=")
                row.max_days = {**row.max_days, self._mode(mode): _days(days)}
            elif field == "owner":
                row.owner_ids = await self._toggle_owner(uow, row, value)
            elif field == "active":
                row.active = not row.active
            else:
                raise InvalidInput(N_("This cannot be changed here."))
            row.edited_in_chat, row.updated_at = True, self._clock.now()
            await record(
                uow, self._clock, actor, "dataset", row.id, "edited", editor.id, field=field, value=value[:200]
            )
            await uow.commit()
            return await self.catalogue.view(uow, row, language)

    async def owner_candidates(self, actor: Actor, dataset_id: int) -> list[tuple[int, str]]:
        """Members of the data set's department who may be named its owners."""
        async with self._uow() as uow:
            await self._editor(uow, actor)
            row = await self.catalogue.dataset(uow, dataset_id)
            people = {}
            for role in (row.owner_role, "department_head", "staff"):
                people.update({m.id: m.name for m in await uow.members.with_role(role, row.department)})
            return sorted(people.items(), key=lambda item: item[1])

    async def _editor(self, uow: UnitOfWork, actor: Actor) -> Member:
        member = await uow.members.by_telegram_id(actor.telegram_id) if actor.telegram_id else None
        if member is None or not member.active or EDITOR_ROLE not in member.roles:
            denied = NotAllowed(N_("Only information officers can change the data-set catalogue."))
            await refuse(uow, self._clock, actor, "dataset", "-", denied)
        assert member is not None
        return member

    def spoken(self) -> list[str]:
        """The languages a data set is named in: the source language, then the organisation's others."""
        return [languages.source(), *(c for c in self._policy.organisation.languages if c != languages.source())]

    def text_fields(self) -> list[str]:
        """The names, then the descriptions, in each language spoken."""
        return [text_field(kind, code) for kind in TEXT_LIMITS for code in self.spoken()]

    def _names(self, names: dict[str, str | None]) -> dict[str, str]:
        source = languages.source()
        checked = {source: _text(names.get(source) or "", MAX_NAME)}
        spoken = self._policy.organisation.languages
        return checked | {code: _text(text, MAX_NAME) for code, text in names.items() if text and code in spoken}

    def _set_text(self, row: DatasetRow, field: str, value: str) -> None:
        """One language's name or description; empty removes it, except the source language's name."""
        kind, _, code = field.partition(".")
        texts = dict(row.names if kind == "name" else row.descriptions)
        if value or (kind == "name" and code == languages.source()):
            texts[code] = _text(value, TEXT_LIMITS[kind])
        else:
            texts.pop(code, None)
        source_first = {code: texts[code] for code in sorted(texts, key=lambda code: code != languages.source())}
        if kind == "name":
            row.names = source_first
        else:
            row.descriptions = source_first

    def _department(self, code: str) -> str:
        if not any(d.code == code for d in self._policy.departments):
            raise InvalidInput(N_("Unknown department: {department}."), department=code)
        return code

    def _classification(self, code: str) -> str:
        if code not in self._policy.access.chains:
            raise InvalidInput(N_("Unknown classification: {code}."), code=code)
        return code

    def _mode(self, mode: str) -> str:
        if mode not in self._policy.access.modes:
            raise InvalidInput(N_("Unknown access mode: {code}."), code=mode)
        return mode

    def _toggle_mode(self, modes: list[str], mode: str) -> list[str]:
        chosen = set(modes) ^ {self._mode(mode)}
        if not chosen:
            raise InvalidInput(N_("A data set keeps at least one access mode."))
        return [m for m in self._policy.access.modes if m in chosen]

    async def _toggle_owner(self, uow: UnitOfWork, row: DatasetRow, value: str) -> list[int]:
        member = await uow.members.get(int(value)) if value.isdigit() else None
        if member is None or not member.active or member.department != row.department:
            raise InvalidInput(N_("Owners are active members of the data set's department."))
        owners = [i for i in row.owner_ids if i != member.id]
        return owners if member.id in row.owner_ids else [*owners, member.id]


def _text(value: str, limit: int) -> str:
    value = " ".join(value.split()) if limit == MAX_NAME else value.strip()
    if not value:
        raise InvalidInput(N_("Please write a few words."))
    if len(value) > limit:
        raise InvalidInput(N_("That is too long: at most {limit} characters."), limit=limit)
    return value


def _days(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_GRANT_DAYS:
        raise InvalidInput(N_("Send a whole number of days from 1 to {limit}."), limit=MAX_GRANT_DAYS)
    return int(text)
