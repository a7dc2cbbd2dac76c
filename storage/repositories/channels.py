"""Members' addresses on a second messenger (Feishu) and the messages outbox rows became there (issue 12)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select

from storage.channel_models import ChannelMessage, MemberChannel
from storage.models import Member
from storage.repositories.base import Repository


class ChannelRepository(Repository):
    async def member_at(self, channel: str, address: str) -> Member | None:
        """The member (active or not) this address is linked to."""
        return await self.session.scalar(
            select(Member)
            .join(MemberChannel, MemberChannel.member_id == Member.id)
            .where(MemberChannel.channel == channel, MemberChannel.address == address)
        )

    async def address_of(self, channel: str, member_id: int) -> str | None:
        return await self.session.scalar(
            select(MemberChannel.address).where(MemberChannel.channel == channel, MemberChannel.member_id == member_id)
        )

    async def addresses_of_chats(self, channel: str, chat_ids: Collection[int]) -> dict[int, str]:
        """Outbox chat ids (members' telegram_id) whose member is linked to the channel -> their address."""
        if not chat_ids:
            return {}
        rows = await self.session.execute(
            select(Member.telegram_id, MemberChannel.address)
            .join(MemberChannel, MemberChannel.member_id == Member.id)
            .where(MemberChannel.channel == channel, Member.telegram_id.in_(list(chat_ids)))
        )
        return {chat_id: address for chat_id, address in rows.all()}

    async def link(self, channel: str, member_id: int, address: str, now: datetime) -> None:
        """Link the member to the address; the address leaves a (former) member it was linked to before."""
        await self.session.execute(
            delete(MemberChannel).where(
                MemberChannel.channel == channel, MemberChannel.address == address, MemberChannel.member_id != member_id
            )
        )
        existing = await self.session.get(MemberChannel, (member_id, channel))
        if existing is None:
            self.session.add(MemberChannel(member_id=member_id, channel=channel, address=address, linked_at=now))
        else:
            existing.address, existing.linked_at = address, now
        await self.session.flush()

    async def delivered(self, channel: str, outbox_ids: Collection[int]) -> set[int]:
        """Which of these outbox rows were delivered on the channel."""
        if not outbox_ids:
            return set()
        rows = await self.session.scalars(
            select(ChannelMessage.outbox_id).where(
                ChannelMessage.channel == channel, ChannelMessage.outbox_id.in_(list(outbox_ids))
            )
        )
        return set(rows.all())

    async def message_of(self, outbox_id: int) -> ChannelMessage | None:
        return await self.session.get(ChannelMessage, outbox_id)

    async def remember_message(self, outbox_id: int, channel: str, message_id: str) -> None:
        values = {"outbox_id": outbox_id, "channel": channel, "message_id": message_id}
        await self.session.execute(self.upsert(ChannelMessage, ["outbox_id"], **values))
