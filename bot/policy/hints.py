"""Plain-language messages and hints for pydantic's validation errors.

Each error names a location such as ``("incidents", "categories", 2, "chain")``;
walking the :class:`~bot.policy.schema.Policy` type along it finds the model and
field concerned, whose ``description`` and allowed keys make the hint.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from ._base import ERROR_TYPE, I18nText
from .schema import Policy

_INLINE_MODELS = (I18nText,)
DEFAULT_HINT = "see the comment above this setting in bot/policy/default.toml"
TYPE_HINTS = {
    "int_type": "write a whole number without quotes, e.g. 3",
    "int_parsing": "write a whole number without quotes, e.g. 3",
    "int_from_float": "write a whole number without a decimal point, e.g. 3",
    "bool_type": "write true or false, in lowercase and without quotes",
    "bool_parsing": "write true or false, in lowercase and without quotes",
    "string_type": 'put text in double quotes, e.g. "调度室"',
    "tuple_type": 'write a list in square brackets, e.g. ["a", "b"]',
    "list_type": 'write a list in square brackets, e.g. ["a", "b"]',
    "dict_type": "write a table: a [section] header, or { key = value } on one line",
    "model_type": "write a table: a [section] header, or { key = value } on one line",
    "model_attributes_type": "write a table: a [section] header, or { key = value } on one line",
    "date_type": "write a TOML date without quotes, e.g. 2026-10-10",
    "date_parsing": "write a TOML date without quotes, e.g. 2026-10-10",
    "date_from_datetime_inexact": "write just the date, e.g. 2026-10-10",
}


@dataclass(frozen=True)
class _Target:
    """What a location points at: the model holding the last key, and that key's field."""

    model: type[BaseModel] | None
    field: FieldInfo | None
    annotation: Any


def _unwrap(annotation: Any) -> Any:
    """Drop Annotated metadata and an ``| None`` from a type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def resolve(loc: Sequence[str | int]) -> _Target:
    """The model and field a pydantic location points into (best effort)."""
    annotation: Any = Policy
    model: type[BaseModel] | None = None
    field: FieldInfo | None = None
    for part in loc:
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
            model, field = annotation, annotation.model_fields.get(part)
            if field is None:
                return _Target(model, None, None)
            annotation = field.annotation
        elif origin in (tuple, list) and isinstance(part, int):
            annotation = typing.get_args(annotation)[0]
        elif origin is dict and isinstance(part, str):
            annotation = typing.get_args(annotation)[1]
            model, field = None, None
        else:
            return _Target(None, None, None)
    return _Target(model, field, _unwrap(annotation))


def clean_loc(loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """A pydantic location without its markers such as ``[key]``."""
    return tuple(part for part in loc if part != "[key]")


def message_for(error: ErrorDetails) -> str:
    loc = clean_loc(error["loc"])
    kind = error["type"]
    key = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        return f"unknown setting '{key}'"
    if kind == "missing" and len(loc) == 1:
        return f"the required section '{key}' is missing"
    if kind == "missing":
        return f"the required setting '{key}' is missing"
    if kind in ("literal_error", "enum") or (kind != ERROR_TYPE and _is_scalar(error.get("input"))):
        return f"{error['msg']}, not {error['input']!r}"
    return str(error["msg"])


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float) and len(repr(value)) <= 60


def hint_for(error: ErrorDetails) -> str:
    loc = clean_loc(error["loc"])
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == ERROR_TYPE and context.get("hint"):
        return str(context["hint"])
    if kind == "extra_forbidden":
        return _unknown_key_hint(loc)
    target = resolve(loc)
    described = target.field.description if target.field is not None else None
    if kind == "missing":
        return _missing_hint(loc, target, described)
    if kind in ("literal_error", "enum"):
        allowed = [str(value) for value in typing.get_args(target.annotation)]
        close = difflib.get_close_matches(str(error["input"]), allowed, n=1, cutoff=0.5)
        if close:
            return f"did you mean '{close[0]}'? allowed: " + ", ".join(allowed)
        return "allowed: " + ", ".join(allowed) if allowed else DEFAULT_HINT
    if kind in TYPE_HINTS:
        return TYPE_HINTS[kind] + (f" — {described}" if described else "")
    if kind == "too_short":
        return f"give at least {context.get('min_length', 1)} item(s)" + (f": {described}" if described else "")
    return described or DEFAULT_HINT


def _unknown_key_hint(loc: tuple[str | int, ...]) -> str:
    parent = resolve(loc[:-1])
    model = _unwrap(parent.annotation) if loc[:-1] else Policy
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return DEFAULT_HINT
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    guess = f"did you mean '{close[0]}'? " if close else ""
    return f"{guess}settings allowed here: " + ", ".join(allowed)


def _missing_hint(loc: tuple[str | int, ...], target: _Target, described: str | None) -> str:
    what = f": {described}" if described else ""
    key, header = loc[-1], ".".join(str(part) for part in loc if isinstance(part, str))
    annotation = target.annotation
    if typing.get_origin(annotation) is tuple:
        item = _unwrap(typing.get_args(annotation)[0])
        if isinstance(item, type) and issubclass(item, BaseModel):
            return f"add at least one [[{header}]] table{what}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if len(loc) == 1 or not issubclass(annotation, _INLINE_MODELS):
            return f"add the table [{header}]{what}"
        return f'add {key} = {{ zh_Hans = "…", en = "…" }}{what}'
    return f"add {key} = … to this table{what}"
