"""The review chain of publication forms on the shared approval engine (rules D2, D5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.publication_listing import DecisionSource, HistoryEntry
from bot.services.publications import ReviewPort
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.app import App
    from bot.services.publication_channels import ChannelDesk
    from bot.services.publications import PublicationService


class PublicationReview(ReviewPort, DecisionSource):
    def __init__(self, app: App) -> None:
        self._app = app

    def connect(self, publications: PublicationService, desk: ChannelDesk) -> None:
        self._publications = publications
        self._desk = desk

    async def decisions(self, uow: UnitOfWork, form_id: int) -> list[HistoryEntry]:
        return []
