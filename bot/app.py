"""Composition root: builds every part from settings; nothing is created at import time."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import calendar_http, languages, sms_inbound
from bot.channels.base import provider_from_env
from bot.channels.feishu import FeishuClient
from bot.clock import Clock, SystemClock
from bot.config import ConfigError, Settings
from bot.feishu_outbox import FeishuCourier
from bot.flows import Flows, install_flows
from bot.health import Readiness, add_routes, serve
from bot.i18n import load_catalogues
from bot.inline_filters import run_filters_inline
from bot.leader import Leadership
from bot.metrics import CountUpdates, Metrics, NameTheFlow, WatchBotApi
from bot.outbox import OutboxSender
from bot.pacer import Pacer
from bot.policy import Policy, load_policy
from bot.profile import publish_profile
from bot.router_index import skip_routers_that_cannot_match
from bot.services.audit import AuditService
from bot.services.members import MembershipService
from bot.sms_inbound import SmsInbound
from bot.telegram_session import TelegramSession
from bot.timers import TimerRunner
from handlers import build_routers
from handlers.commands import CORE_COMMANDS, CommandInfo
from handlers.middlewares import UpdateContext
from storage.db import create_engine, create_reading_engine, create_session_factory
from storage.fsm import SaveWizardsBeforeSending, SqlStorage
from storage.migrate import upgrade
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


class Worker(Protocol):
    """A flow's own background loop (e.g. provisioning webhook deliveries), started and stopped with the app."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class App:
    settings: Settings
    policy: Policy
    clock: Clock
    engine: AsyncEngine
    reading_engine: AsyncEngine | None  # SQLite's connection for long reads (storage/db.py)
    uow: UnitOfWorkFactory
    i18n: I18n
    bot: Bot
    dispatcher: Dispatcher
    outbox: OutboxSender
    timers: TimerRunner
    audit: AuditService
    members: MembershipService
    flow_routers: list[Router]  # each flow adds its own; tried after the foundation's, before the fallbacks
    commands: list[CommandInfo]
    metrics: Metrics
    readiness: Readiness
    leadership: Leadership
    sms_inbound: SmsInbound
    flows: Flows = field(init=False)  # each flow's service, set once the flows are installed
    stopping: asyncio.Event = field(default_factory=asyncio.Event)  # set by the first SIGTERM/SIGINT
    background: list[asyncio.Task[None]] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    # Flows' work at every start (e.g. generating deadlines ahead, scheduling their first timers);
    # each hook opens its own unit of work.
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def run_startup(self) -> None:
        for hook in self.startup:
            await hook()

    async def start_background(self) -> None:
        """Run the flows' start hooks, then deliver the outbox and fire timers (including those that
        fell due while down)."""
        await self.run_startup()
        await self.timers.start()
        self.background.append(asyncio.create_task(self.outbox.run(), name="outbox"))
        self.background += [asyncio.create_task(worker.run(), name=type(worker).__name__) for worker in self.workers]

    async def close(self) -> None:
        """Graceful stop: let in-flight sends and timers finish, then close the database and session."""
        await self.leadership.release()
        self.outbox.stop()
        for worker in self.workers:
            worker.stop()
        await asyncio.gather(*self.background, return_exceptions=True)
        await self.timers.stop()
        await self.dispatcher.storage.close()
        await self.bot.session.close()
        await self.outbox.close()
        await self.engine.dispose()
        if self.reading_engine is not None:
            await self.reading_engine.dispose()


def make_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    """Every Bot API call and file download goes to TELEGRAM_API_BASE when it is set."""
    if session is None:
        session = TelegramSession()
        if settings.telegram_api_base:
            session.api = TelegramAPIServer.from_base(settings.telegram_api_base.rstrip("/"))
    return Bot(settings.require_token(), session=session)


async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    policy: Policy | None = None,
    session: BaseSession | None = None,
    pacer: Pacer | None = None,
    fsm_storage: BaseStorage | None = None,
    sms_env: Mapping[str, str] | None = None,
) -> App:
    """``sms_env``: the SMS provider's and Feishu's settings (SMS_PROVIDER, TENCENT_*, TWILIO_*, FEISHU_*), else
    read from the environment and .env. A wrong one is a ``ConfigError`` naming it."""
    policy = policy or load_policy(settings.bot_policy)
    sms_env = settings.sms_env() if sms_env is None else sms_env
    try:  # the messengers' and SMS settings, checked before anything is built (one sentence when wrong)
        sms_provider, feishu_client = provider_from_env(sms_env), FeishuClient.from_env(sms_env)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    clock = clock or SystemClock()
    if pacer is None and session is None:  # the real network is always paced; an injected session only on request
        pacer = Pacer()
    bot = make_bot(settings, session)
    pool = {"pool_size": settings.database_pool_size, "max_overflow": 0} if settings.database_pool_size else {}
    engine, reading_engine = create_engine(settings.database_url, **pool), create_reading_engine(settings.database_url)
    await upgrade(engine)
    reading = create_session_factory(reading_engine) if reading_engine else None
    uow = UnitOfWorkFactory(create_session_factory(engine), reading)
    i18n = load_catalogues(policy.organisation.default_language)
    audit = AuditService(uow, clock)
    members = MembershipService(uow, clock, policy, i18n)
    metrics = Metrics(clock)
    metrics.watch(uow)
    bot.session.middleware(WatchBotApi(metrics))
    feishu = FeishuCourier(uow, feishu_client)  # off (no client) unless FEISHU_APP_ID is set
    outbox = OutboxSender(uow, bot, clock, pacer, metrics=metrics, provider=sms_provider, feishu=feishu)
    timers = TimerRunner(uow, clock, metrics=metrics)
    leadership = Leadership(settings, engine)
    # aiogram's wizard middleware goes after ours, which reads the wizard with the member
    dispatcher = Dispatcher(storage=fsm_storage or _fsm_storage(settings, uow), disable_fsm=True)
    if settings.metrics:
        dispatcher.update.outer_middleware(CountUpdates(metrics))
    dispatcher.update.outer_middleware(
        UpdateContext(uow, clock, members, i18n, policy.organisation.default_language, dispatcher.fsm)
    )
    dispatcher.update.outer_middleware(dispatcher.fsm)
    if isinstance(dispatcher.fsm.storage, SqlStorage):
        bot.session.middleware(SaveWizardsBeforeSending(dispatcher.fsm.storage))
    if settings.metrics:
        dispatcher.message.middleware(NameTheFlow())
        dispatcher.callback_query.middleware(NameTheFlow())
    commands = list(CORE_COMMANDS)
    members.menus.commands = commands  # the flows extend it as they install
    dispatcher.workflow_data.update(
        policy=policy, clock=clock, i18n=i18n, audit=audit, members=members, commands=commands
    )
    await members.ensure_administrators(settings.admin_ids)
    async with uow() as work:  # update ids older than a week can no longer be redelivered
        await work.processed_updates.forget_before(clock.now() - timedelta(days=7))
        await work.commit()
    app = App(
        settings,
        policy,
        clock,
        engine,
        reading_engine,
        uow,
        i18n,
        bot,
        dispatcher,
        outbox,
        timers,
        audit,
        members,
        [],
        commands,
        metrics,
        Readiness(settings.database_url, engine, uow, clock, metrics, is_standby=lambda: leadership.standby),
        leadership,
        SmsInbound.from_env(sms_env),
    )
    app.flows = install_flows(app)
    if feishu.client is not None:
        from bot.feishu_inbound import install as install_feishu

        install_feishu(app, feishu.client)
    dispatcher.include_routers(*build_routers(app.flow_routers))
    skip_routers_that_cannot_match(dispatcher)  # an update skips routers it cannot match (bot/router_index.py)
    run_filters_inline(dispatcher)  # not through aiogram's thread pool (bot/inline_filters.py)
    app.startup.append(members.menus.start)  # each member's command menu, once the flows added theirs
    return app


def _fsm_storage(settings: Settings, uow: UnitOfWorkFactory) -> BaseStorage:
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage  # optional dependency: pip install .[redis]

        # keyed by bot too, as in the database: bots sharing one Redis keep their wizards apart
        return RedisStorage.from_url(
            settings.redis_url, key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
        )
    return SqlStorage(uow)


async def publish_commands(app: App) -> None:
    """The command menu in each language (setMyCommands), and the organisation's default language
    for everyone else; /help shows the full list for the member's roles."""
    everyone = [command for command in app.commands if not command.roles]
    default = app.policy.organisation.default_language
    spoken = [(code, languages.language(code).telegram) for code in app.policy.organisation.languages]
    for language, code in [*spoken, (default, None)]:
        with app.i18n.context(), app.i18n.use_locale(language):
            commands = [BotCommand(command=c.name, description=str(c.description)) for c in everyone]
        await app.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)


async def run(app: App) -> None:
    """Long polling by default, a webhook when WEBHOOK_URL is set; SIGTERM/SIGINT stop gracefully.
    Health and metrics are served on HEALTH_PORT from the start, a standby's included."""
    stop_health = await _serve_health(app)
    try:
        if await app.leadership.wait(app.stopping):
            await _take_updates(app)
    finally:
        await app.close()
        await stop_health()


async def _take_updates(app: App) -> None:
    me = await app.bot.me()
    async with app.uow() as uow:  # the command line builds invitation links from it
        await uow.key_values.set("bot_username", me.username or "")
        await uow.commit()
    await publish_commands(app)
    await publish_profile(app.bot, app.i18n, app.policy, app.uow)
    await app.start_background()
    if app.stopping.is_set():  # asked to stop while starting
        return
    if app.settings.uses_webhook:
        from bot.webhook import serve_webhook

        await serve_webhook(app)
    else:
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dispatcher.start_polling(app.bot, handle_signals=False, close_bot_session=False)


async def _serve_health(app: App) -> Callable[[], Awaitable[None]]:
    settings = app.settings
    if settings.health_port is None or (settings.uses_webhook and settings.health_port == settings.webhook_port):
        return _nothing  # off, or on the webhook server already
    web_app = web.Application()
    add_http_routes(web_app, app)
    return await serve(web_app, settings.health_host, settings.health_port)


def add_http_routes(web_app: web.Application, app: App) -> None:
    """What the bot's HTTP server answers besides Telegram's webhook: health, metrics, SMS replies, calendar feeds."""
    add_routes(web_app, app.readiness, app.metrics, app.uow)
    sms_inbound.add_routes(web_app, app.sms_inbound, app.flows.incidents.response.acknowledge_by_sms)
    calendar_http.add_routes(web_app, app.dispatcher["roster_feeds"])  # GET /calendar/<token>.ics (issue 14)


async def _nothing() -> None:
    return None


def settle_memory() -> None:
    """Move what start-up built (aiogram's ~250,000 pydantic objects among them) out of the garbage
    collector's sight: a full collection scanned them in ~0.4 s every few seconds under load, which
    held up every alert for that long (bench/timer_precision.py). They live as long as the process."""
    gc.collect()
    gc.freeze()


def install_signal_handlers(app: App) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(_stop(app)))


async def _stop(app: App) -> None:
    """The first signal stops; later ones, while stopping, change nothing (and say nothing)."""
    if app.stopping.is_set():
        return
    app.stopping.set()
    log.info("stopping: no new updates, finishing in-flight work")
    if not app.settings.uses_webhook:
        try:
            await app.dispatcher.stop_polling()
        except RuntimeError:  # "Polling is not started": still starting, or a standby; `stopping` ends those
            pass
