"""Loading the policy file: all of it, or a :class:`PolicyError` naming every mistake.

Three passes, so one run reports everything an administrator needs to fix:

1. TOML syntax (tomllib) — a syntax error stops here, with its line;
2. each top-level section is validated on its own, so a typo in ``[invitations]``
   does not hide an error in ``[incidents]``;
3. cross-section references (unknown duty rooms, department cycles, …) among the
   sections that passed.

Only when all three are clean is the :class:`Policy` built and returned.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from .checks import dotted, reference_issues
from .hints import clean_loc, hint_for, message_for, resolve
from .locate import key_lines, line_for
from .schema import Policy

DEFAULT_POLICY_NAME = "default.toml"
_TOML_POSITION = re.compile(r"\s*\((?:at line (\d+), column \d+|at end of document)\)\s*$")
_SYNTAX_HINTS = (
    ("Invalid value", 'put text in double quotes (name = "调度室"); numbers, true/false and dates go bare'),
    ("Unterminated string", "close the string with the same quote it opens with"),
    ("twice", "each key and each [table] may appear once; use [[double brackets]] for repeated tables"),
    ("Cannot overwrite", "this key was already set; keep one of the two lines"),
    ("Expected '=' after a key", "write key = value; keys with spaces or dots need quotes"),
    ("Expected ']' at the end of a table declaration", "close the header: [table] or [[array.of.tables]]"),
)
_SYNTAX_DEFAULT_HINT = "check this line for a missing quote, '=', comma or bracket"


@dataclass(frozen=True)
class PolicyIssue:
    """One mistake in the policy file."""

    line: int | None  # 1-based; None when the mistake is not on a line (e.g. a missing section)
    path: str  # dotted path of the setting, e.g. incidents.categories[2].duty_room ("" for syntax)
    message: str
    hint: str

    def format(self, file: str) -> str:
        where = f"{file}:{self.line}:" if self.line is not None else f"{file}:"
        what = f" {self.path}:" if self.path else ""
        return f"{where}{what} {self.message} (hint: {self.hint})"


class PolicyError(Exception):
    """The policy file is unusable; ``issues`` lists every mistake found, in line order."""

    def __init__(self, file: str, issues: Iterable[PolicyIssue]) -> None:
        self.file = file
        self.issues = sorted(issues, key=lambda issue: (issue.line is None, issue.line or 0, issue.path))
        super().__init__("\n".join(issue.format(file) for issue in self.issues))


def default_policy_path() -> Path:
    """The shipped default policy, ``bot/policy/default.toml``."""
    return Path(__file__).with_name(DEFAULT_POLICY_NAME)


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and validate the policy file at ``path`` (None: the shipped default).

    Returns the complete :class:`Policy` or raises :class:`PolicyError`; never a part of one.
    """
    file = Path(path) if path is not None else default_policy_path()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PolicyError(
            str(file),
            [PolicyIssue(None, "", f"cannot read the policy file: {reason}", _read_hint(exc))],
        ) from None
    return parse_policy(text, str(file))


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Validate policy ``text``; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, [_syntax_issue(str(exc), text)]) from None
    lines = key_lines(text)
    parts, errors = _validate_sections(data)
    errors = _without_echoes(errors)
    issues = [_issue_from_error(error, lines) for error in errors]
    issues += [
        PolicyIssue(line_for(lines, issue.loc), dotted(issue.loc), issue.message, issue.hint)
        for issue in reference_issues(parts)
    ]
    if issues:
        raise PolicyError(source, issues)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:  # defensive: the passes above should have caught it
        raise PolicyError(source, [_issue_from_error(error, lines) for error in exc.errors()]) from None


def _validate_sections(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[ErrorDetails]]:
    """Validate each top-level section alone: the sections that passed, and all errors."""
    fields = Policy.model_fields
    parts: dict[str, Any] = {}
    errors: list[ErrorDetails] = [
        ErrorDetails(type="extra_forbidden", loc=(key,), msg="Extra inputs are not permitted", input=value)
        for key, value in data.items()
        if key not in fields
    ]
    for name, field in fields.items():
        if name not in data:
            if field.is_required():
                errors.append(ErrorDetails(type="missing", loc=(name,), msg="Field required", input=data))
            else:
                parts[name] = field.get_default(call_default_factory=True)
            continue
        annotation = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        try:
            parts[name] = adapter.validate_python(data[name])
        except ValidationError as exc:
            found = [ErrorDetails(**{**error, "loc": (name, *error["loc"])}) for error in exc.errors()]
            errors += found
            salvaged = _salvage(data[name], adapter, found)
            if salvaged is not None:
                parts[name] = salvaged
    return parts, errors


def _without_echoes(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop "too short" errors of a list whose own items failed: pydantic counts only the
    valid items, so one bad shift would also report "no shifts"."""
    locs = [clean_loc(error["loc"]) for error in errors]
    return [
        error
        for error, loc in zip(errors, locs, strict=True)
        if error["type"] != "too_short" or not any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs)
    ]


def _salvage(raw: Any, adapter: TypeAdapter[Any], errors: list[ErrorDetails]) -> Any | None:
    """The section validated without its unknown keys and its bad optional scalar settings
    (which take their defaults), so that its cross-references can still be checked; None
    when an error cannot be set aside like that. Used only for checking, never returned."""
    data = copy.deepcopy(raw)
    for error in errors:
        key = _prunable_key(error)
        if key is None or not _delete(data, key[1:]):
            return None
    try:
        return adapter.validate_python(data)
    except ValidationError:
        return None


def _prunable_key(error: ErrorDetails) -> tuple[str | int, ...] | None:
    loc = clean_loc(error["loc"])
    if error["type"] == "extra_forbidden":
        return loc
    if error["type"] == "missing":
        return None
    while loc and not isinstance(loc[-1], str):
        loc = loc[:-1]
    target = resolve(loc)
    if target.model is None or target.field is None or target.field.is_required():
        return None
    return loc


def _delete(data: Any, loc: tuple[str | int, ...]) -> bool:
    """Delete the key at ``loc`` if it holds a scalar or a list of scalars."""
    if not loc:
        return False
    for part in loc[:-1]:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return False
    if not isinstance(data, dict) or loc[-1] not in data:
        return False
    value = data[loc[-1]]
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict | list) for v in value)):
        return False
    del data[loc[-1]]
    return True


def _issue_from_error(error: ErrorDetails, lines: dict[tuple[str | int, ...], int]) -> PolicyIssue:
    loc = clean_loc(error["loc"])
    return PolicyIssue(line_for(lines, loc), dotted(loc), message_for(error), hint_for(error))


def _syntax_issue(message: str, text: str) -> PolicyIssue:
    match = _TOML_POSITION.search(message)
    line: int | None = None
    if match:
        line = int(match[1]) if match[1] else text.count("\n") + 1
        message = message[: match.start()]
    hint = next((hint for needle, hint in _SYNTAX_HINTS if needle in message), _SYNTAX_DEFAULT_HINT)
    return PolicyIssue(line, "", f"TOML syntax error: {message}", hint)


def _read_hint(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return "check the path in BOT_POLICY; leave BOT_POLICY unset to use the shipped default policy"
    if isinstance(exc, UnicodeDecodeError):
        return "save the file as UTF-8"
    return "check that the file exists and the bot may read it"
