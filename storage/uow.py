"""Unit of work: one transaction, its repositories, and what to do once it has committed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import OutboxMessage
from storage.repositories.access import AccessRepository
from storage.repositories.approvals import ApprovalRepository
from storage.repositories.audit import AuditRepository, KnownHead
from storage.repositories.channels import ChannelRepository
from storage.repositories.deadlines import DeadlineRepository
from storage.repositories.incidents import IncidentRepository
from storage.repositories.members import UPDATE_MEMBER, InvitationRepository, KeyValueRepository, MemberRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.publication import PublicationRepository
from storage.repositories.roster import CalendarFeedRepository, HandoverRepository, RosterRepository, SwapRepository
from storage.repositories.timers import TimerRepository
from storage.repositories.updates import ProcessedUpdateRepository
from storage.repositories.wizards import WizardRepository


class OutboxCourier(Protocol):
    """Takes the messages a transaction queued straight to the running sender (bot.outbox.OutboxSender)."""

    async def claim_queued(self, uow: UnitOfWork, row_ids: list[int]) -> Sequence[OutboxMessage]:
        """In the transaction, before it commits: claim those of its new rows that may leave at once."""
        ...

    def committed(self, queued: dict[int, int], claimed: Sequence[OutboxMessage]) -> None:
        """After the commit: send the claimed rows; find the others (row id -> chat id) in a round of its own."""
        ...


class DuplicateUpdate(Exception):
    """Another delivery of this update was handled first (its commit marked it processed)."""


WizardRow = tuple[str, str | None, dict[str, Any]]  # a wizard's key, state and data


class UnsavedWizards(Protocol):
    """The wizard changes of the update being handled, not yet written (`storage.fsm`)."""

    def unsaved(self) -> list[WizardRow]: ...

    def saved(self) -> None:
        """What `unsaved` gave has been committed."""
        ...


@dataclass
class UpdateMark:
    """The Telegram update being handled in this context: its first commit also records it as processed, in
    the same transaction as its effects, so a process that dies mid-update leaves it to the redelivery, and
    a redelivery of a handled update changes nothing. Each of its commits also writes the wizard changes it has
    made so far: a wizard that ends with a service's work (a report's Submit) ends in that work's transaction,
    and costs no transaction of its own (issue 15)."""

    update_id: int
    at: datetime
    recorded: bool = False
    wizards: UnsavedWizards | None = None


HANDLING: ContextVar[UpdateMark | None] = ContextVar("handling_update", default=None)


class CommitSignals:
    """Wakes the outbox sender, the webhook sender and the timer runner after a commit that gave them work."""

    def __init__(self) -> None:
        self.outbox_courier: OutboxCourier | None = None
        self.webhook_listeners: list[Callable[[], None]] = []
        self.timer_listeners: list[Callable[[datetime], None]] = []
        # told of each commit: how many outbox rows it queued and the (entity, action, details) it audited
        self.commit_listeners: list[Callable[[int, list[tuple[str, str, dict[str, Any]]]], None]] = []


class UnitOfWork:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], signals: CommitSignals, audit_head: KnownHead
    ) -> None:
        self._sessions = sessions
        self._signals = signals
        self._audit_head = audit_head
        self.queued: dict[int, int] = {}  # outbox rows added in this transaction: row id -> chat id
        self.webhook_queued = False
        self.earliest_timer: datetime | None = None
        self.audited: list[tuple[str, str, dict[str, Any]]] = []

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Closing ends an uncommitted transaction (rolled back) and detaches loaded rows without
        # expiring them, so results read inside stay readable after the block.
        await self.session.close()

    async def commit(self) -> None:
        # The messages queued here are claimed in this same transaction, so an alert leaves as soon as the
        # report is stored, without the sender's own claim transaction queued behind other writers (A1).
        mark = await self._record_handling()
        update_wizards = mark.wizards if mark is not None else None
        wizard_changes = update_wizards.unsaved() if update_wizards is not None else []
        if wizard_changes:
            await self.wizards.put_many(wizard_changes)
        if (audit := self.__dict__.get("audit")) is not None:
            await audit.write_pending()  # the head moved once, the entries in one INSERT (F1)
        courier, queued = self._signals.outbox_courier, self.queued
        claimed = await courier.claim_queued(self, list(queued)) if courier and queued else []
        await self.session.commit()
        if audit is not None:
            audit.committed()
        if update_wizards is not None and wizard_changes:
            update_wizards.saved()
        if (snapshot := UPDATE_MEMBER.get()) is not None:
            snapshot.member = None  # it may have changed the member: later transactions read them afresh
        if courier and queued:
            courier.committed(queued, claimed)
        if self.webhook_queued:
            for wake in self._signals.webhook_listeners:
                wake()
        if self.earliest_timer is not None:
            for wake_at in self._signals.timer_listeners:
                wake_at(self.earliest_timer)
        for listener in self._signals.commit_listeners:
            listener(len(queued), self.audited)
        self._forget_signals()

    async def rollback(self) -> None:
        await self.session.rollback()
        self._forget_signals()

    async def _record_handling(self) -> UpdateMark | None:
        """The update being handled is recorded as processed by its first commit (`UpdateMark`); its mark."""
        mark = HANDLING.get()
        if mark is not None and not mark.recorded:
            if not await self.processed_updates.first_time(mark.update_id, mark.at):
                await self.rollback()
                raise DuplicateUpdate(mark.update_id)
            mark.recorded = True
        return mark

    def _forget_signals(self) -> None:
        self.queued, self.webhook_queued, self.earliest_timer, self.audited = {}, False, None, []
        for name in ("audit", "incidents"):  # what their repositories remember of the transaction
            if (repository := self.__dict__.get(name)) is not None:
                repository.forget()

    def _outbox_added(self, row_id: int, chat_id: int) -> None:
        self.queued[row_id] = chat_id

    def _webhook_queued(self) -> None:
        self.webhook_queued = True

    def _timer_scheduled(self, due_at: datetime) -> None:
        if self.earliest_timer is None or due_at < self.earliest_timer:
            self.earliest_timer = due_at

    # Repositories -------------------------------------------------------------------------
    @cached_property
    def members(self) -> MemberRepository:
        return MemberRepository(self.session)

    @cached_property
    def invitations(self) -> InvitationRepository:
        return InvitationRepository(self.session)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.session, self._audit_head, on_append=lambda *entry: self.audited.append(entry))

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session, on_add=self._outbox_added)

    @cached_property
    def timers(self) -> TimerRepository:
        return TimerRepository(self.session, on_schedule=self._timer_scheduled)

    @cached_property
    def channels(self) -> ChannelRepository:
        return ChannelRepository(self.session)

    @cached_property
    def key_values(self) -> KeyValueRepository:
        return KeyValueRepository(self.session)

    @cached_property
    def processed_updates(self) -> ProcessedUpdateRepository:
        return ProcessedUpdateRepository(self.session)

    @cached_property
    def wizards(self) -> WizardRepository:
        return WizardRepository(self.session)

    @cached_property
    def roster(self) -> RosterRepository:
        return RosterRepository(self.session)

    @cached_property
    def handover_notes(self) -> HandoverRepository:
        return HandoverRepository(self.session)

    @cached_property
    def swaps(self) -> SwapRepository:
        return SwapRepository(self.session)

    @cached_property
    def calendar_feeds(self) -> CalendarFeedRepository:
        return CalendarFeedRepository(self.session)

    @cached_property
    def incidents(self) -> IncidentRepository:
        return IncidentRepository(self.session)

    @cached_property
    def approvals(self) -> ApprovalRepository:
        return ApprovalRepository(self.session)

    @cached_property
    def access(self) -> AccessRepository:
        return AccessRepository(self.session, on_webhook=self._webhook_queued)

    @cached_property
    def deadlines(self) -> DeadlineRepository:
        return DeadlineRepository(self.session)

    @cached_property
    def publications(self) -> PublicationRepository:
        return PublicationRepository(self.session)


class StatementsOnly:
    """A transaction of prepared Core statements on a bare connection, without an ORM session: each update's
    own reads and writes (its opening read; its wizard and mark written) run in these. The session's own work
    (made, bound, committed, closed) was about half of each such transaction's cost (issue 15)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __aenter__(self) -> StatementsOnly:
        self.connection = await self._engine.connect()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.connection.close()  # rolls back what was not committed

    async def commit(self) -> None:
        await self.connection.commit()

    @cached_property
    def processed_updates(self) -> ProcessedUpdateRepository:
        return ProcessedUpdateRepository(self.connection)

    @cached_property
    def wizards(self) -> WizardRepository:
        return WizardRepository(self.connection)


class UnitOfWorkFactory:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], reading: async_sessionmaker[AsyncSession] | None = None
    ) -> None:
        self.sessions = sessions
        self.reading_sessions = reading or sessions
        self.signals = CommitSignals()
        self.audit_head = KnownHead()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.signals, self.audit_head)

    def statements(self) -> StatementsOnly:
        """For prepared Core statements only (repositories' `core`), with no ORM session: see `StatementsOnly`."""
        return StatementsOnly(self.sessions.kw["bind"])

    def reading(self) -> UnitOfWork:
        """For a long read (a year's /stats, an export), and nothing that writes: on SQLite it runs on a
        connection of its own, off the event loop's thread (storage/db.py, `create_reading_engine`)."""
        return UnitOfWork(self.reading_sessions, self.signals, self.audit_head)
