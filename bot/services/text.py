"""Typed text as it is stored and shown back."""

from __future__ import annotations

import unicodedata


def visible_text(text: str) -> str:
    """A typed text as it is stored and shown back: control characters other than whitespace (which
    nobody can see, and PostgreSQL cannot store: NUL) dropped; everything else exactly as typed."""
    return "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cc")
