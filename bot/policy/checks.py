"""Checks that span sections: codes that must exist, be unique, or form a tree.

They run on whichever sections validated on their own, so one run of the loader
reports a misspelt key in one section and an unknown duty room in another. Each
issue carries the location (as pydantic spells it) of the value to fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bot import languages

from ._base import I18nText, step_role
from .organisation import BUILTIN_ROLES

Loc = tuple[str | int, ...]
MAX_LISTED = 20
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Issue:
    loc: Loc
    message: str
    hint: str


def dotted(loc: Loc) -> str:
    """``("incidents", "categories", 2, "duty_room")`` -> ``incidents.categories[2].duty_room``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _BARE_KEY.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'
            text += f".{key}" if text else key
    return text


def known_hint(value: str, known: Sequence[str], kind: str) -> str:
    """'did you mean …? known duty rooms: a, b' — the hint for an unknown code."""
    if not known:
        return f"no {kind}s are defined yet"
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    shown = ", ".join(known[:MAX_LISTED]) + (", …" if len(known) > MAX_LISTED else "")
    guess = f"did you mean '{close[0]}'? " if close else ""
    return f"{guess}known {kind}s: {shown}"


@dataclass
class _Report:
    issues: list[Issue] = field(default_factory=list)

    def add(self, loc: Loc, message: str, hint: str) -> None:
        self.issues.append(Issue(loc, message, hint))

    def ref(self, loc: Loc, value: str | None, known: Sequence[str] | None, kind: str) -> None:
        """Report ``value`` unless it is one of ``known`` (skipped when ``known`` is unavailable)."""
        if value is None or known is None or value in known:
            return
        self.add(loc, f"unknown {kind} '{value}'", known_hint(value, known, kind))

    def role_steps(self, loc: Loc, steps: Iterable[str], roles: Sequence[str] | None) -> None:
        for index, step in enumerate(steps):
            self.ref((*loc, index), step_role(step), roles, "role")

    def unique(self, items: Sequence[Any], loc: Loc, kind: str, attr: str = "code") -> None:
        first: dict[Any, int] = {}
        for index, item in enumerate(items):
            value = getattr(item, attr)
            if value in first:
                where = dotted(loc)
                self.add(
                    (*loc, index, attr),
                    f"{kind} {attr} '{value}' is used twice",
                    f"{where}[{first[value]}] already uses it; give each {kind} its own {attr}",
                )
            else:
                first[value] = index


def _codes(items: Sequence[Any] | None) -> list[str] | None:
    return None if items is None else [item.code for item in items]


def reference_issues(parts: Mapping[str, Any]) -> list[Issue]:
    """Every cross-section problem among the sections present in ``parts``."""
    report = _Report()
    roles = _codes(parts.get("roles"))
    departments = _codes(parts.get("departments"))
    _roles(report, parts)
    _departments(report, parts)
    _duty_rooms(report, parts, roles, departments)
    _incidents(report, parts, roles, departments)
    _access(report, parts, roles, departments)
    _publication(report, parts, roles, departments)
    _deadlines(report, parts, roles, departments)
    _languages(report, parts)
    return report.issues


def _roles(report: _Report, parts: Mapping[str, Any]) -> None:
    roles = parts.get("roles")
    if roles is None:
        return
    report.unique(roles, ("roles",), "role")
    present = {role.code for role in roles}
    for code in BUILTIN_ROLES:
        if code not in present:
            report.add(
                ("roles",),
                f"the built-in role '{code}' is missing",
                f'add a [[roles]] table with code = "{code}"; the bot relies on every built-in role: '
                + ", ".join(BUILTIN_ROLES),
            )


def _departments(report: _Report, parts: Mapping[str, Any]) -> None:
    departments = parts.get("departments")
    if departments is None:
        return
    report.unique(departments, ("departments",), "department")
    index_of: dict[str, int] = {}
    for index, department in enumerate(departments):
        index_of.setdefault(department.code, index)
    known = list(index_of)
    for index, department in enumerate(departments):
        report.ref(("departments", index, "parent"), department.parent, known, "department")
    reported: set[frozenset[str]] = set()
    for department in departments:
        cycle = _cycle_from(department.code, departments, index_of)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            at = min(index_of[code] for code in cycle)
            start = departments[at].code
            ordered = cycle[cycle.index(start) :] + cycle[: cycle.index(start)]
            report.add(
                ("departments", at, "parent"),
                "departments form a cycle: " + " → ".join([*ordered, start]),
                "a department cannot be its own ancestor; point one of these parents outside the cycle "
                "or remove it to make that department the root",
            )
    if not any(department.parent is None for department in departments):
        report.add(
            ("departments",),
            "there is no root department",
            "leave out parent in exactly the top department (e.g. the company itself)",
        )


def _cycle_from(code: str, departments: Sequence[Any], index_of: Mapping[str, int]) -> list[str]:
    """The cycle reached by walking parents from ``code``, or [] if the walk ends at a root."""
    path: list[str] = []
    current: str | None = code
    while current is not None and current in index_of:
        if current in path:
            return path[path.index(current) :]
        path.append(current)
        current = departments[index_of[current]].parent
    return []


def _duty_rooms(
    report: _Report, parts: Mapping[str, Any], roles: list[str] | None, departments: list[str] | None
) -> None:
    rooms = parts.get("duty_rooms")
    if rooms is None:
        return
    report.unique(rooms, ("duty_rooms",), "duty room")
    for index, room in enumerate(rooms):
        loc: Loc = ("duty_rooms", index)
        report.ref((*loc, "department"), room.department, departments, "department")
        report.ref((*loc, "owner_role"), room.owner_role, roles, "role")
        report.unique(room.shifts, (*loc, "shifts"), "shift")


def _incidents(
    report: _Report, parts: Mapping[str, Any], roles: list[str] | None, departments: list[str] | None
) -> None:
    incidents = parts.get("incidents")
    if incidents is None:
        return
    rooms = _codes(parts.get("duty_rooms"))
    chains = list(incidents.chains)
    report.unique(incidents.severities, ("incidents", "severities"), "severity")
    report.unique(incidents.categories, ("incidents", "categories"), "category")
    for department in incidents.third_case.per_department:
        report.ref(("incidents", "third_case", "per_department", department), department, departments, "department")
    report.ref(
        ("incidents", "external_report", "responsible_role"),
        incidents.external_report.responsible_role,
        roles,
        "role",
    )
    for name, steps in incidents.chains.items():
        report.role_steps(("incidents", "chains", name), steps, roles)
    report.unique(incidents.external_report.bodies, ("incidents", "external_report", "bodies"), "outside body")
    categories = [category.code for category in incidents.categories]
    report.ref(("incidents", "urgent_category"), incidents.urgent_category, categories, "category")
    severities = [severity.code for severity in incidents.severities]
    report.ref(("incidents", "urgent_severity"), incidents.urgent_severity, severities, "severity level")
    for index, category in enumerate(incidents.categories):
        loc: Loc = ("incidents", "categories", index)
        report.ref((*loc, "duty_room"), category.duty_room, rooms, "duty room")
        report.ref((*loc, "chain"), category.chain, chains, "chain")


def _access(report: _Report, parts: Mapping[str, Any], roles: list[str] | None, departments: list[str] | None) -> None:
    access = parts.get("access")
    if access is None:
        return
    levels = [level.code for level in access.classifications]
    report.unique(access.classifications, ("access", "classifications"), "classification")
    report.unique(access.classifications, ("access", "classifications"), "classification", attr="rank")
    for name, steps in access.chains.items():
        report.ref(("access", "chains", name), name, levels, "classification")
        report.role_steps(("access", "chains", name), steps, roles)
    for level in levels:
        if level not in access.chains:
            report.add(
                ("access", "chains"),
                f"classification '{level}' has no approval chain",
                f'add {level} = ["department_head"] (or the steps you need) under [access.chains] (rule C2)',
            )
    report.ref(("access", "top_step"), step_role(access.top_step), roles, "role")
    report.ref(("access", "provisioning_department"), access.provisioning_department, departments, "department")
    report.ref(("access", "provisioning_role"), access.provisioning_role, roles, "role")
    report.unique(access.datasets, ("access", "datasets"), "data set")
    for index, dataset in enumerate(access.datasets):
        loc: Loc = ("access", "datasets", index)
        report.ref((*loc, "department"), dataset.department, departments, "department")
        report.ref((*loc, "owner_role"), dataset.owner_role, roles, "role")
        report.ref((*loc, "classification"), dataset.classification, levels, "classification")
        for position, mode in enumerate(dataset.modes):
            report.ref((*loc, "modes", position), mode, list(access.modes), "access mode")


def _publication(
    report: _Report, parts: Mapping[str, Any], roles: list[str] | None, departments: list[str] | None
) -> None:
    publication = parts.get("publication")
    if publication is None:
        return
    for kind in ("new", "change", "takedown"):
        report.role_steps(("publication", "chains", kind), getattr(publication.chains, kind), roles)
    report.unique(publication.department_chains, ("publication", "department_chains"), "department", "department")
    for index, own in enumerate(publication.department_chains):
        loc: Loc = ("publication", "department_chains", index)
        report.ref((*loc, "department"), own.department, departments, "department")
        for kind in ("new", "change", "takedown"):
            report.role_steps((*loc, kind), getattr(own, kind) or (), roles)
    report.ref(("publication", "external_review_step"), step_role(publication.external_review_step), roles, "role")
    report.unique(publication.channels, ("publication", "channels"), "channel")
    report.unique(publication.prohibited_checklist, ("publication", "prohibited_checklist"), "checklist item")


def _deadlines(
    report: _Report, parts: Mapping[str, Any], roles: list[str] | None, departments: list[str] | None
) -> None:
    deadlines = parts.get("deadlines")
    if deadlines is None:
        return
    for key in ("notify_late_roles", "notify_missed_roles"):
        for index, role in enumerate(getattr(deadlines, key)):
            report.ref(("deadlines", key, index), role, roles, "role")
    report.unique(deadlines.holiday_overrides, ("deadlines", "holiday_overrides"), "holiday override", "date")
    report.unique(deadlines.obligations, ("deadlines", "obligations"), "obligation")
    report.unique(deadlines.events, ("deadlines", "events"), "event")
    used = {obligation.code: f"deadlines.obligations[{i}]" for i, obligation in enumerate(deadlines.obligations)}
    for index, obligation in enumerate(deadlines.obligations):
        loc: Loc = ("deadlines", "obligations", index)
        report.ref((*loc, "department"), obligation.department, departments, "department")
        report.ref((*loc, "owner_role"), obligation.owner_role, roles, "role")
        for position, role in enumerate(obligation.notify_late_roles or ()):
            report.ref((*loc, "notify_late_roles", position), role, roles, "role")
    for index, event in enumerate(deadlines.events):
        loc = ("deadlines", "events", index)
        report.ref((*loc, "department"), event.department, departments, "department")
        report.ref((*loc, "owner_role"), event.owner_role, roles, "role")
        for position, obligation in enumerate(event.obligations):
            where = f"deadlines.events[{index}].obligations[{position}]"
            if obligation.code in used:
                report.add(
                    (*loc, "obligations", position, "code"),
                    f"deadline code '{obligation.code}' is used twice",
                    f"{used[obligation.code]} already uses it; every deadline needs its own code",
                )
            else:
                used[obligation.code] = where


def _languages(report: _Report, parts: Mapping[str, Any]) -> None:
    organisation = parts.get("organisation")
    if organisation is None:
        return
    if organisation.default_language not in organisation.languages:
        report.add(
            ("organisation", "default_language"),
            f"the default language '{organisation.default_language}' is not among organisation.languages",
            "add it to languages, or choose one of: " + ", ".join(organisation.languages),
        )
    others = [code for code in organisation.languages if code != "zh_Hans"]
    for name, value in parts.items():
        for loc, text in _texts(value, (name,)):
            for code in others:
                if text.exact(code) is None:
                    report.add(
                        loc,
                        f"the {languages.language(code).name} ({code}) text is missing",
                        f'add {code} = "…" next to zh_Hans, or remove "{code}" from organisation.languages',
                    )


def _texts(value: Any, loc: Loc) -> Iterator[tuple[Loc, I18nText]]:
    if isinstance(value, I18nText):
        yield loc, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), (*loc, name))
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from _texts(item, (*loc, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, (*loc, key))
