"""Durable timers (DESIGN.md): rows in the database, fired by a runner that APScheduler wakes
at the next due time. Each timer fires inside the transaction of its effect, so a crash before
commit leaves it pending and a committed effect is never repeated."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.metrics import Metrics
from storage.models import Timer
from storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

TimerHandler = Callable[[UnitOfWork, Timer, datetime], Awaitable[None]]
JOB_ID = "fire-due-timers"


class TimerRunner:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        max_attempts: int = 5,
        idle_check: float = 30.0,
        batch: int = 100,
        metrics: Metrics | None = None,
    ):
        self._uow = uow
        self._clock = clock
        self._handlers: dict[str, TimerHandler] = {}
        self._max_attempts = max_attempts
        self._idle_check = idle_check
        self._batch = batch
        self._metrics = metrics or Metrics(clock)
        self._lock = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None
        self._next_wake: datetime | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._round: asyncio.Future[None] | None = None
        uow.signals.timer_listeners.append(self.wake_at)

    def register(self, kind: str, handler: TimerHandler) -> None:
        self._handlers[kind] = handler

    async def run_due(self) -> int:
        """Fire every timer due now; returns how many fired."""
        fired = 0
        async with self._lock:
            while count := await self._fire_batch():
                fired += count
        return fired

    async def _fire_batch(self) -> int:
        """Fire up to `batch` due timers in one transaction (1,000 overdue timers after a restart fire in
        about a second, not one transaction each). If a handler fails, the whole batch is rolled back and
        its timers fire one by one, so a failure still leaves no partial effect and only its timer retries."""
        now = self._clock.now()
        async with self._uow() as uow:
            timers = await uow.timers.claim_due(now, limit=self._batch)
            if not timers:
                return 0
            try:
                handled = 0
                for timer in timers:
                    if uow.earliest_timer is not None and uow.earliest_timer <= timer.due_at:
                        break  # a handler scheduled something due sooner: claim again, to fire in due order
                    if timer.state == "pending" and timer.due_at <= now:  # not moved or cancelled by an earlier one
                        await self._fire(uow, timer, now)
                    handled += 1
                await uow.commit()
                return handled
            except Exception as exc:
                ids = [timer.id for timer in timers]
                if len(ids) == 1:
                    log.exception("timer %s failed", ids[0])
                    error = repr(exc)
        if len(ids) == 1:
            await self._record_failure(ids[0], error, now)
        else:
            for timer_id in ids:
                await self._fire_one(timer_id, now)
        return len(ids)

    async def _fire_one(self, timer_id: int, now: datetime) -> None:
        async with self._uow() as uow:
            timer = await uow.timers.claim(timer_id)
            if timer is None:
                return
            try:
                await self._fire(uow, timer, now)
                await uow.commit()
                return
            except Exception as exc:
                log.exception("timer %s (%s) failed", timer_id, timer.kind)
                error = repr(exc)
        await self._record_failure(timer_id, error, now)

    async def _fire(self, uow: UnitOfWork, timer: Timer, now: datetime) -> None:
        await self._handlers[timer.kind](uow, timer, now)
        timer.state, timer.fired_at = "fired", now
        self._metrics.timer_fired(timer.due_at, self._clock.now())

    async def _record_failure(self, timer_id: int, error: str, now: datetime) -> None:
        async with self._uow() as uow:
            timer = await uow.session.get(Timer, timer_id)
            if timer is None:
                return
            timer.attempts += 1
            timer.last_error = error
            if timer.attempts >= self._max_attempts or timer.kind not in self._handlers:
                timer.state = "failed"
            else:
                timer.due_at = now + timedelta(seconds=2**timer.attempts)
            await uow.commit()

    # Waking -------------------------------------------------------------------------------
    # APScheduler only sets an event at the next due time; one task fires the timers. A job that
    # fired timers itself was skipped by APScheduler when its successor fell due while it was still
    # running ("maximum number of running instances reached"), and the runner then slept for good.
    async def start(self) -> None:
        """Fire what fell due while the process was down, then sleep until the next due time."""
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.start()
        self._wake = asyncio.Event()
        await self._tick()
        self._loop = asyncio.create_task(self._fire_when_woken(), name="timers")

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._loop is not None:
            self._loop.cancel()
            rounds = [self._round] if self._round else []
            await asyncio.gather(self._loop, *rounds, return_exceptions=True)  # a round in progress finishes
            self._loop = None
        async with self._lock:  # and so does a firing timer
            pass

    def wake_at(self, moment: datetime) -> None:
        """A commit created a timer: make sure we wake no later than it is due."""
        if self._scheduler is not None and (self._next_wake is None or moment < self._next_wake):
            self._schedule(moment)

    async def _fire_when_woken(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._round = asyncio.ensure_future(self._tick())
            await asyncio.shield(self._round)  # stopping never cuts a round short

    async def _wake_up(self) -> None:
        self._wake.set()

    async def _tick(self) -> None:
        try:
            await self.run_due()
            async with self._uow() as uow:
                due = await uow.timers.next_due()
        except Exception:
            log.exception("timer round failed")
            due = None
        # Another process may add timers we are not told about: look again after a while.
        latest = self._clock.now() + timedelta(seconds=self._idle_check)
        self._schedule(min(due, latest) if due else latest)

    def _schedule(self, moment: datetime) -> None:
        if self._scheduler is None:
            return
        self._next_wake = moment
        run_date = max(moment, datetime.now(UTC))
        self._scheduler.add_job(
            self._wake_up, "date", run_date=run_date, id=JOB_ID, replace_existing=True, misfire_grace_time=None
        )
