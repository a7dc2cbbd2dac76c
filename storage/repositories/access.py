from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.access_models import (
    AccessGrant,
    AccessRequest,
    AccessReviewItem,
    AccessTask,
    DatasetRow,
    WebhookDelivery,
)
from storage.repositories.base import Repository

LIVE_GRANT = ("provisioning", "active")  # what deactivation and reviews act on


class AccessRepository(Repository):
    def __init__(self, session: AsyncSession, on_webhook: Callable[[], None] = lambda: None) -> None:
        super().__init__(session)
        self._on_webhook = on_webhook

    # Catalogue (C1) ---------------------------------------------------------------------------------
    async def datasets(self, *, include_inactive: bool = False) -> Sequence[DatasetRow]:
        query = select(DatasetRow)
        if not include_inactive:
            query = query.where(DatasetRow.active.is_(True))
        return (await self.session.scalars(query.order_by(DatasetRow.department, DatasetRow.code))).all()

    async def dataset(self, dataset_id: int) -> DatasetRow | None:
        return await self.session.get(DatasetRow, dataset_id)

    async def dataset_by_code(self, code: str) -> DatasetRow | None:
        return await self.session.scalar(select(DatasetRow).where(DatasetRow.code == code))

    def add_dataset(self, dataset: DatasetRow) -> DatasetRow:
        self.session.add(dataset)
        return dataset

    # Requests ---------------------------------------------------------------------------------------
    def add_request(self, request: AccessRequest) -> AccessRequest:
        self.session.add(request)
        return request

    async def request(self, request_id: int) -> AccessRequest | None:
        return await self.session.get(AccessRequest, request_id)

    async def requests_of(self, member_id: int, limit: int) -> Sequence[AccessRequest]:
        query = select(AccessRequest).where(AccessRequest.requester_id == member_id)
        return (await self.session.scalars(query.order_by(AccessRequest.id.desc()).limit(limit))).all()

    async def requests_between(self, start: datetime, end: datetime) -> Sequence[AccessRequest]:
        query = select(AccessRequest).where(AccessRequest.created_at >= start, AccessRequest.created_at < end)
        return (await self.session.scalars(query.order_by(AccessRequest.id))).all()

    # Grants (C3, C6, C7) ----------------------------------------------------------------------------
    def add_grant(self, grant: AccessGrant) -> AccessGrant:
        self.session.add(grant)
        return grant

    async def grant(self, grant_id: int) -> AccessGrant | None:
        return await self.session.get(AccessGrant, grant_id)

    async def grants_of(self, member_id: int, states: Sequence[str]) -> Sequence[AccessGrant]:
        query = select(AccessGrant).where(AccessGrant.holder_id == member_id, AccessGrant.state.in_(states))
        return (await self.session.scalars(query.order_by(AccessGrant.expires_at))).all()

    async def grants_on(self, dataset_id: int | None, states: Sequence[str]) -> Sequence[AccessGrant]:
        query = select(AccessGrant).where(AccessGrant.state.in_(states))
        if dataset_id is not None:
            query = query.where(AccessGrant.dataset_id == dataset_id)
        return (await self.session.scalars(query.order_by(AccessGrant.dataset_id, AccessGrant.expires_at))).all()

    async def grants_between(self, start: datetime, end: datetime) -> Sequence[AccessGrant]:
        """Grants approved in the period, or ended in it."""
        query = select(AccessGrant).where(
            or_(
                (AccessGrant.approved_at >= start) & (AccessGrant.approved_at < end),
                (AccessGrant.ended_at >= start) & (AccessGrant.ended_at < end),
            )
        )
        return (await self.session.scalars(query.order_by(AccessGrant.id))).all()

    # Tasks of the information centre ----------------------------------------------------------------
    def add_task(self, task: AccessTask) -> AccessTask:
        self.session.add(task)
        return task

    async def task(self, task_id: int, *, for_update: bool = False) -> AccessTask | None:
        query = select(AccessTask).where(AccessTask.id == task_id)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def open_tasks(self, grant_id: int) -> Sequence[AccessTask]:
        query = select(AccessTask).where(AccessTask.grant_id == grant_id, AccessTask.state == "open")
        return (await self.session.scalars(query)).all()

    # Reviews ----------------------------------------------------------------------------------------
    async def add_review_item(self, cycle: str, grant_id: int) -> None:
        await self.session.execute(
            self.insert_ignoring_conflict(
                AccessReviewItem, ["cycle", "grant_id"], cycle=cycle, grant_id=grant_id, state="open"
            )
        )

    async def review_items(self, cycle: str, grant_ids: Sequence[int]) -> dict[int, AccessReviewItem]:
        query = select(AccessReviewItem).where(
            AccessReviewItem.cycle == cycle, AccessReviewItem.grant_id.in_(list(grant_ids))
        )
        return {item.grant_id: item for item in await self.session.scalars(query)}

    async def review_item(self, item_id: int, *, for_update: bool = False) -> AccessReviewItem | None:
        query = select(AccessReviewItem).where(AccessReviewItem.id == item_id)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    # Webhook deliveries -----------------------------------------------------------------------------
    async def queue_webhook(self, *, key: str, url: str, payload: dict[str, Any], now: datetime) -> None:
        await self.session.execute(
            self.insert_ignoring_conflict(
                WebhookDelivery,
                ["key"],
                key=key,
                url=url,
                payload=payload,
                state="pending",
                due_at=now,
                attempts=0,
                created_at=now,
            )
        )
        self._on_webhook()

    async def claim_webhooks(self, now: datetime, claim_until: datetime, limit: int) -> Sequence[WebhookDelivery]:
        """Due deliveries (and ones whose sender died mid-send), claimed for this process."""
        query = (
            select(WebhookDelivery)
            .where(
                ((WebhookDelivery.state == "pending") & (WebhookDelivery.due_at <= now))
                | ((WebhookDelivery.state == "sending") & (WebhookDelivery.claimed_until <= now))
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = (await self.session.scalars(query)).all()
        for row in rows:
            row.state, row.claimed_until = "sending", claim_until
        return rows

    async def webhook(self, delivery_id: int) -> WebhookDelivery | None:
        return await self.session.get(WebhookDelivery, delivery_id)

    async def next_webhook_due(self) -> datetime | None:
        query = select(func.min(WebhookDelivery.due_at)).where(WebhookDelivery.state == "pending")
        return await self.session.scalar(query)
