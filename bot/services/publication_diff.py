"""A readable diff between two versions of a form, showing only what changed (D2).

Texts are compared by line; inside a changed line, by runs of characters for Chinese (which has
no spaces between words) and by whole words for Latin text. Removed runs are shown as
``[-…-]`` and added runs as ``{+…+}``; long unchanged stretches of a changed line are shortened.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from itertools import zip_longest
from typing import Any

TOKEN = re.compile(r"[A-Za-z0-9_]+|\s+|.", re.DOTALL)  # a Latin word, a run of spaces, or one character
KEEP = 12  # unchanged characters kept on each side of a change inside a line
TEXT_FIELDS = ("title", "body", "audience", "note")
VALUE_FIELDS = ("quantity", "planned_at", "embargo_until", "disclosure", "designated_first")


def inline(old: str, new: str) -> str:
    """One changed line: unchanged runs kept (shortened when long), removals and additions marked."""
    before, after = TOKEN.findall(old), TOKEN.findall(new)
    parts: list[str] = []
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        removed, added = "".join(before[i1:i2]), "".join(after[j1:j2])
        if tag == "equal":
            parts.append(_shorten(removed, first=index == 0, last=index == len(opcodes) - 1))
            continue
        if removed:
            parts.append(f"[-{removed}-]")
        if added:
            parts.append(f"{{+{added}+}}")
    return "".join(parts)


def _shorten(text: str, *, first: bool, last: bool) -> str:
    if len(text) <= 2 * KEEP + 1:
        return text
    head = "" if first else text[:KEEP]
    tail = "" if last else text[-KEEP:]
    return f"{head}…{tail}"


def text_changes(old: str, new: str) -> list[str]:
    """Changed lines only: ``~ n: …`` for a changed line, ``+ n: …`` added, ``- n: …`` removed."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    if len(old_lines) <= 1 and len(new_lines) <= 1:
        return [] if old == new else [inline(old, new)]
    lines: list[str] = []
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        pairs = zip_longest(range(i1, i2), range(j1, j2))
        for old_index, new_index in pairs:
            if old_index is None:
                lines.append(f"+ {new_index + 1}: {new_lines[new_index]}")
            elif new_index is None:
                lines.append(f"- {old_index + 1}: {old_lines[old_index]}")
            else:
                lines.append(f"~ {new_index + 1}: {inline(old_lines[old_index], new_lines[new_index])}")
    return lines


def version_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What differs between two versions given as field dicts: texts as changed lines, channels and
    files as (added, removed), other values as (old, new), a formatting-only change as True."""
    changes: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        lines = text_changes(old.get(name) or "", new.get(name) or "")
        if lines:
            changes[name] = lines
    if "body" not in changes and old.get("entities") != new.get("entities"):
        changes["formatting"] = True
    for name, key in (("channels", None), ("attachments", "file_id")):
        before = {_key(item, key): item for item in old.get(name) or []}
        after = {_key(item, key): item for item in new.get(name) or []}
        added = [item for k, item in after.items() if k not in before]
        removed = [item for k, item in before.items() if k not in after]
        if added or removed:
            changes[name] = (added, removed)
    for name in VALUE_FIELDS:
        if old.get(name) != new.get(name):
            changes[name] = (old.get(name), new.get(name))
    return changes


def _key(item: Any, key: str | None) -> Any:
    return item[key] if key else item
