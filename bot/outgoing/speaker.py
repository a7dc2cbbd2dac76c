"""Saying things in one member's language."""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[[str], str]  # a message id in the reader's language
