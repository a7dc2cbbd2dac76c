from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select

from storage.publication_models import Publication, PublicationRecord, PublicationVersion
from storage.repositories.base import Repository

OPEN_STATES = ("review", "returned", "approved")  # a change or take-down not yet carried out


class PublicationRepository(Repository):
    def add(self, publication: Publication) -> Publication:
        self.session.add(publication)
        return publication

    async def get(self, publication_id: int, *, for_update: bool = False) -> Publication | None:
        if not for_update:
            return await self.session.get(Publication, publication_id)
        return await self.session.scalar(select(Publication).where(Publication.id == publication_id).with_for_update())

    async def open_form_for(self, item_id: int) -> Publication | None:
        """A change or take-down of the item still under way (one at a time)."""
        return await self.session.scalar(
            select(Publication).where(Publication.target_id == item_id, Publication.state.in_(OPEN_STATES))
        )

    async def forms_of(self, item_id: int) -> Sequence[Publication]:
        query = select(Publication).where(Publication.target_id == item_id).order_by(Publication.id)
        return (await self.session.scalars(query)).all()

    async def by_drafter(self, member_id: int, limit: int) -> Sequence[Publication]:
        query = (
            select(Publication)
            .where(Publication.drafter_id == member_id)
            .order_by(Publication.submitted_at.desc(), Publication.id.desc())
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def live_of(self, member_id: int) -> Sequence[Publication]:
        """The member's published items (what a change or take-down can apply to)."""
        query = (
            select(Publication)
            .where(Publication.drafter_id == member_id, Publication.kind == "new", Publication.state == "published")
            .order_by(Publication.published_at.desc(), Publication.id.desc())
        )
        return (await self.session.scalars(query)).all()

    async def in_review(self, limit: int) -> Sequence[Publication]:
        """Forms waiting for a decision or for their drafter's revision, oldest first."""
        query = select(Publication).where(Publication.state.in_(("review", "returned")))
        return (await self.session.scalars(query.order_by(Publication.submitted_at).limit(limit))).all()

    async def search_published(
        self, text: str, start: datetime | None, end: datetime | None, limit: int
    ) -> Sequence[Publication]:
        """Items ever published (taken down too), whose current text holds ``text``, by publication time."""
        query = (
            select(Publication)
            .join(
                PublicationVersion,
                and_(
                    PublicationVersion.publication_id == Publication.id,
                    PublicationVersion.number == Publication.version,
                ),
            )
            .where(Publication.kind == "new", Publication.published_at.is_not(None))
        )
        if text:
            needle = f"%{text.lower()}%"
            query = query.where(
                or_(func.lower(PublicationVersion.title).like(needle), func.lower(PublicationVersion.body).like(needle))
            )
        if start is not None:
            query = query.where(Publication.published_at >= start)
        if end is not None:
            query = query.where(Publication.published_at < end)
        query = query.order_by(Publication.published_at.desc(), Publication.id.desc()).limit(limit)
        return (await self.session.scalars(query)).all()

    async def submitted_between(self, start: datetime, end: datetime) -> Sequence[Publication]:
        query = (
            select(Publication)
            .where(Publication.submitted_at >= start, Publication.submitted_at < end)
            .order_by(Publication.submitted_at, Publication.id)
        )
        return (await self.session.scalars(query)).all()

    # Channel records ---------------------------------------------------------------------
    def add_record(self, record: PublicationRecord) -> PublicationRecord:
        self.session.add(record)
        return record

    async def remove_bot_record(self, form_id: int, channel: str) -> None:
        await self.session.execute(
            delete(PublicationRecord).where(
                PublicationRecord.form_id == form_id,
                PublicationRecord.channel == channel,
                PublicationRecord.recorded_by.is_(None),
            )
        )

    async def records_of_form(self, form_id: int) -> Sequence[PublicationRecord]:
        query = select(PublicationRecord).where(PublicationRecord.form_id == form_id).order_by(PublicationRecord.at)
        return (await self.session.scalars(query)).all()
