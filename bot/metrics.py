"""Prometheus metrics (issue 13), one registry per application (no import-time globals), served on GET /metrics.

Counters move where the work happens: updates in the dispatcher, outbox outcomes in the sender, 429s and
Bot API reachability at the HTTP session, escalation steps and missed deadlines from the audit entries a
transaction committed (so a rolled-back step is never counted). Backlog and pending figures are read from
the database when scraped."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response
from aiogram.types import TelegramObject
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.clock import Clock
from storage.uow import UnitOfWorkFactory

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
# (entity, action) of an audit entry -> the flow whose escalation moved a step
ESCALATION_STEPS = {("approval", "escalated"): "approval", ("access_task", "escalated"): "access"}
MISSED_DEADLINES = {("deadline", "missed"): "deadline", ("incident", "external_missed"): "incident"}


@dataclass
class BotApiContact:
    """When the Bot API last answered and when a call last failed to reach it (for /ready)."""

    last_success: datetime | None = None
    last_failure: datetime | None = None


class Metrics:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.registry = registry = CollectorRegistry()
        self.updates = Counter("bot_updates", "Updates handled, by flow", ["flow"], registry=registry)
        self.update_seconds = Histogram(
            "bot_update_handling_seconds",
            "Time from an update's arrival to its handler's return",
            ["flow"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.outbox = Counter(
            "bot_outbox_messages",
            "Outgoing messages by outcome",
            ["outcome"],
            registry=registry,
        )
        self.outbox_backlog = Gauge("bot_outbox_backlog", "Messages due and not yet sent", registry=registry)
        self.outbox_oldest = Gauge(
            "bot_outbox_oldest_due_seconds", "How long the oldest due message has waited (0: none)", registry=registry
        )
        self.timers_pending = Gauge("bot_timers_pending", "Timers waiting to fire", registry=registry)
        self.timers_overdue = Gauge("bot_timers_overdue", "Pending timers whose due time has passed", registry=registry)
        self.timer_lag = Histogram(
            "bot_timer_fire_lag_seconds",
            "Due time to firing",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
            registry=registry,
        )
        self.retry_after = Counter("bot_telegram_retry_after", "429 answers from the Bot API", registry=registry)
        self.escalation_steps = Counter(
            "bot_escalation_steps", "Escalation steps fired (the next step alerted)", ["flow"], registry=registry
        )
        self.deadlines_missed = Counter("bot_deadlines_missed", "Deadlines missed", ["flow"], registry=registry)
        self.bot_api = BotApiContact()

    def watch(self, uow: UnitOfWorkFactory) -> None:
        """Count what committed transactions queued and audited."""
        uow.signals.commit_listeners.append(self._committed)

    def _committed(self, queued: int, audited: list[tuple[str, str, dict[str, Any]]]) -> None:
        if queued:
            self.outbox.labels("queued").inc(queued)
        for entity, action, details in audited:
            if (flow := ESCALATION_STEPS.get((entity, action))) or (
                entity == "incident" and action == "alerted" and details.get("round", 0) > 0 and (flow := "incident")
            ):
                self.escalation_steps.labels(flow).inc()
            elif flow := MISSED_DEADLINES.get((entity, action)):
                self.deadlines_missed.labels(flow).inc()

    def timer_fired(self, due_at: datetime, now: datetime) -> None:
        self.timer_lag.observe(max(0.0, (now - due_at).total_seconds()))

    async def refresh(self, uow: UnitOfWorkFactory) -> None:
        now = self.clock.now()
        async with uow() as work:
            backlog, oldest = await work.outbox.backlog(now)
            pending, overdue, _oldest = await work.timers.summary(now)
        self.outbox_backlog.set(backlog)
        self.outbox_oldest.set((now - oldest).total_seconds() if oldest else 0)
        self.timers_pending.set(pending)
        self.timers_overdue.set(overdue)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class CountUpdates(BaseMiddleware):
    """Outer update middleware: times each update and counts it by the flow that handled it ("none": no
    handler took it). The flow is named by `NameTheFlow` below, inside, where the handler is known."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        route = data["update_route"] = UpdateRoute()
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            self._metrics.updates.labels(route.flow).inc()
            self._metrics.update_seconds.labels(route.flow).observe(time.perf_counter() - started)


class UpdateRoute:
    flow = "none"


class NameTheFlow(BaseMiddleware):
    """Inner middleware: the flow is named by the handler's module (handlers.incident_report -> incident)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        route = data.get("update_route")
        if route is not None:
            module = getattr(data["handler"].callback, "__module__", "") or ""
            route.flow = module.removeprefix("handlers.").split("_")[0] or "none"
        return await handler(event, data)


class WatchBotApi(BaseRequestMiddleware):
    """Session middleware: any answer from Telegram (429 included) means it is reachable; a network error
    or a 5xx means it was not. 429s are counted."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(
        self, make_request: NextRequestMiddlewareType[Any], bot: Any, method: TelegramMethod[Any]
    ) -> Response[Any]:
        contact, now = self._metrics.bot_api, self._metrics.clock.now
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            self._metrics.retry_after.inc()
            contact.last_success = now()
            raise
        except (TelegramNetworkError, TelegramServerError, OSError, TimeoutError):
            contact.last_failure = now()
            raise
        except Exception:
            contact.last_success = now()  # Telegram answered, with an error of ours
            raise
        contact.last_success = now()
        return response
