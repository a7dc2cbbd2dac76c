"""Outbox rows addressed to a member linked to Feishu are delivered there (issue 12).

Services queue messages as they always do, addressed to the member's ``telegram_id`` (a stand-in id for a
member who has no Telegram account, bot/channels/feishu.py). The sender asks ``routes`` once per batch which
rows' chats belong to members linked to Feishu and hands those rows here instead of to the Bot API. So the
same idempotency keys, claims, retries and failure hooks apply: an unreachable Feishu user is undeliverable
and the escalation moves on exactly as for a blocked Telegram chat.

- a text and its buttons become an interactive card (bot/outgoing/feishu.py); its Feishu message id is kept
  in ``channel_messages``, so an edit of the row (an acknowledged alert) updates that card;
- a location becomes its coordinates; Telegram files (photos, documents, voice notes) and group-post
  deletions are not carried, and their rows are cancelled with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels.base import Sent
from bot.channels.feishu import CHANNEL, FeishuClient, is_stand_in
from bot.outgoing import feishu as renderer
from storage.models import OutboxMessage
from storage.uow import UnitOfWorkFactory

OPEN_ID = "feishu_open_id"  # in a row's payload: the address of a Feishu user who is not a member
NOT_SET_UP = "Feishu is not set up (FEISHU_APP_ID, FEISHU_APP_SECRET)"


class NotCarried(Exception):
    """Feishu cannot carry this row (a Telegram file id, a deletion): it is cancelled, not failed."""


class FeishuCourier:
    def __init__(self, uow: UnitOfWorkFactory, client: FeishuClient | None) -> None:
        self._uow = uow
        self.client = client

    async def routes(self, rows: Sequence[OutboxMessage]) -> dict[int, str | None]:
        """Row id -> open_id of the rows that go to Feishu (``None``: a Feishu-only member while Feishu is off).

        A member who joined over Feishu gets everything there. A Telegram member linked to Feishu gets there
        what Feishu can show; an edit follows the message it edits (a card sent to Telegram before the link is
        edited in Telegram), and files still go to Telegram."""
        routes: dict[int, str | None] = {row.id: None for row in rows if is_stand_in(row.chat_id)}
        if self.client is None or not rows:
            return routes
        async with self._uow() as uow:
            addresses = await uow.channels.addresses_of_chats(CHANNEL, {row.chat_id for row in rows})
            edited = {row.edit_of for row in rows if row.edit_of is not None and row.chat_id in addresses}
            on_feishu = await uow.channels.delivered(CHANNEL, edited)
        for row in rows:
            address = addresses.get(row.chat_id)
            if is_stand_in(row.chat_id):  # an answer to someone not (yet) a member carries their open_id
                payload_address = row.payload.get(OPEN_ID)
                routes[row.id] = address or (payload_address if isinstance(payload_address, str) else None)
            elif address is not None:
                if row.edit_of is not None:
                    takes = row.edit_of in on_feishu
                else:
                    takes = renderer.render(row.method, dict(row.payload)) is not None
                if takes:
                    routes[row.id] = address
        return routes

    async def deliver(self, row: OutboxMessage, open_id: str) -> Sent:
        """Send or update the card; ``RetryLater``/``Unreachable`` from the client, ``LookupError`` when the
        card to edit never reached Feishu, ``NotCarried`` for what Feishu cannot show."""
        assert self.client is not None
        card = renderer.render(row.method, dict(row.payload))
        if card is None:
            raise NotCarried(f"{row.method} is not carried to Feishu")
        if row.edit_of is not None:
            async with self._uow() as uow:
                original = await uow.channels.message_of(row.edit_of)
            if original is None or original.channel != CHANNEL:
                raise LookupError(row.edit_of)
            return await self.client.update_card(original.message_id, card)
        sent = await self.client.send_card(open_id, card, key=row.key)
        async with self._uow() as uow:
            await uow.channels.remember_message(row.id, CHANNEL, sent.provider_id)
            await uow.commit()
        return sent

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
