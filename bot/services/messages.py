"""Outgoing messages as outbox rows: services queue them, the outbox sender delivers them.

A message is a card (bot/outgoing/cards.py): its text and the actions under it, stored platform-neutral
in the row and rendered for Telegram when the row is sent. Texts are sent without a parse mode, so
whatever a member typed is shown back exactly.
Files a service produces (a chart, an export) travel in the row itself, base64-encoded: they are
small, and the row stays the one durable record of what is to be sent.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from bot.outgoing.cards import Actions, Card
from storage.uow import UnitOfWork


async def queue_text(
    uow: UnitOfWork,
    now: datetime,
    *,
    key: str,
    chat_id: int,
    text: str,
    actions: Actions = (),
    ref: str | None = None,
    on_failure: str | None = None,
    due_at: datetime | None = None,
    protect: bool = False,
) -> int | None:
    """``protect``: the text shows classified details; it cannot be forwarded or saved."""
    payload: dict[str, Any] = {"chat_id": chat_id, **Card(text, actions, protect).payload()}
    return await uow.outbox.add(
        key=key,
        chat_id=chat_id,
        method="sendMessage",
        payload=payload,
        now=now,
        due_at=due_at,
        ref=ref,
        on_failure=on_failure,
    )


async def queue_edit(
    uow: UnitOfWork,
    now: datetime,
    *,
    key: str,
    original_id: int,
    chat_id: int,
    text: str,
    actions: Actions = (),
) -> int | None:
    """Edit a message queued earlier; its Telegram id is looked up when the edit is sent. Without
    actions the edit takes the buttons off."""
    payload: dict[str, Any] = {"chat_id": chat_id, **Card(text, actions).payload()}
    return await uow.outbox.add(
        key=key, chat_id=chat_id, method="editMessageText", payload=payload, now=now, edit_of=original_id
    )


async def queue_file(
    uow: UnitOfWork,
    now: datetime,
    *,
    key: str,
    chat_id: int,
    data: bytes,
    filename: str,
    as_photo: bool = False,
    caption: str | None = None,
    ref: str | None = None,
) -> int | None:
    """Send bytes produced by a service as a photo (PNG, JPEG) or a document; keep them small (< 1 MB)."""
    field, method = ("photo", "sendPhoto") if as_photo else ("document", "sendDocument")
    attachment = {"base64": base64.b64encode(data).decode(), "filename": filename}
    payload: dict[str, Any] = {"chat_id": chat_id, field: attachment}
    if caption:
        payload["caption"] = caption
    return await uow.outbox.add(key=key, chat_id=chat_id, method=method, payload=payload, now=now, ref=ref)
