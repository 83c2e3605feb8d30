"""The composition root: settings, site, clock, database, bot, dispatcher and workers.

``run_polling`` (one instance) and ``run_webhook`` (one or several instances behind a proxy,
sharing PostgreSQL and Redis) both serve /healthz and /metrics on HTTP_PORT (bot/ops/web.py).

This module imports nothing of aiogram (a contract in pyproject.toml): the Bot, the Dispatcher
and the catalogues are built by bot/telegram/ (runtime.py, i18n.py), which also names their
types, and their middlewares are handed what they cannot import (the metrics, the reader).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

import bot.render  # noqa: F401  (every notice renderer registers itself on import)
from bot.delivery.budget import SharedSendBudget
from bot.delivery.notices import NoticeDelivery
from bot.delivery.sender import sending_limits
from bot.handlers import build_routers
from bot.handlers.prompts import CancelPendingPrompt, PendingPrompts
from bot.jobs import register_clock_jobs
from bot.jobs.context import JobContext
from bot.ops import metrics
from bot.ops.door_display import DoorDisplays
from bot.ops.health import HealthProbe
from bot.ops.lease import InstanceNameLease
from bot.ops.logs import secrets_of
from bot.ops.memory import give_back_free_memory
from bot.ops.metrics import InstanceMetrics
from bot.ops.web import ListenerError, RoomFeeds, WebDependencies, WebServer, plan_listeners
from bot.render.text import Reader
from bot.services.aftercare import AftercareService
from bot.services.booking import BookingService
from bot.services.calendar import CalendarService
from bot.services.checkin import CheckInService
from bot.services.clock import Clock, OffsetClock, SystemClock
from bot.services.digest import DigestService
from bot.services.membership import MembershipService
from bot.services.people import PeopleService
from bot.services.series import SeriesService
from bot.services.statements import StatementService
from bot.services.tasks import TaskActions, TaskViews
from bot.services.understanding import warm_up
from bot.settings import Settings
from bot.site import SiteConfig
from bot.telegram.i18n import I18n, PersonI18nMiddleware, build_i18n
from bot.telegram.middlewares import (
    CountHandlerErrors,
    DeduplicateUpdates,
    IdentifyPerson,
    InFlightUpdates,
    ProvideReader,
    install_deduplication,
)
from bot.telegram.runtime import (
    Bot,
    Dispatcher,
    build_bot,
    build_dispatcher,
    dispatcher_data,
    fsm_redis,
    install_dialogs,
)
from bot.telegram.webhook import webhook_handler
from bot.workers import Workers
from storage import migrate
from storage.database import Database, create_engine, exclusive

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    site: SiteConfig
    clock: Clock
    db: Database
    i18n: I18n
    bot: Bot
    dispatcher: Dispatcher
    scheduler: AsyncIOScheduler
    workers: Workers
    jobs: JobContext
    """What the clock jobs work with (bot/jobs/)."""
    background: list[asyncio.Task[None]] = field(default_factory=list)
    """The loops that run as long as the bot does (one that ends has died)."""
    one_off: list[asyncio.Task[None]] = field(default_factory=list)
    """Start-up work that ends by itself (the reader's warm-up)."""
    mode: str = "polling"
    metrics: InstanceMetrics = field(default_factory=InstanceMetrics)
    in_flight: InFlightUpdates = field(default_factory=InFlightUpdates)
    """The updates being handled: stopping waits for them (bounded) before closing anything."""
    """This App's /metrics registry (several Apps may share a process: tests, the sandbox)."""
    servers: list[WebServer] = field(default_factory=list)
    instance_lease: InstanceNameLease | None = None
    dispatcher_started: bool = False


HANDLER_DRAIN_SECONDS = 10.0
"""How long stopping waits for updates still being handled."""


def readers(i18n: I18n, site: SiteConfig, clock: Clock) -> Callable[[str], Reader]:
    """The reader of a language at the clock's now: what each update's ``read`` is."""
    return lambda language: Reader(i18n, language, site).at(clock.now())


def build_app(settings: Settings, site: SiteConfig, clock: Clock | None = None) -> App:
    if clock is None:
        offset = settings.clock_offset_seconds
        clock = OffsetClock(timedelta(seconds=offset)) if offset else SystemClock()
    db = Database(create_engine(settings.database_url))
    i18n = build_i18n(site.site.default_language)
    bot = build_bot(settings)
    dispatcher = build_dispatcher(settings)
    # set when a transaction that queued a notice commits: the sender's loop looks at once
    sender_wake = asyncio.Event()
    delivery = NoticeDelivery(site, clock, i18n, wake=sender_wake)
    redis = fsm_redis(dispatcher)
    limits = sending_limits(settings)
    budget = None if redis is None else SharedSendBudget(redis, settings.redis_prefix, limits)
    workers = Workers(
        settings=settings,
        site=site,
        clock=clock,
        db=db,
        bot=bot,
        delivery=delivery,
        i18n=i18n,
        send_budget=budget,
        wake=sender_wake,
    )
    booking = BookingService(site, clock, planner=workers.planner)
    people = PeopleService(site)
    membership = MembershipService(site, clock)

    prompts = PendingPrompts(dispatcher.storage, clock, bot.id)

    in_flight = InFlightUpdates()
    dispatcher.update.outer_middleware(in_flight)  # outermost: counts every update until its end
    install_deduplication(dispatcher, DeduplicateUpdates(db, clock, metrics))
    dispatcher.errors.outer_middleware(CountHandlerErrors(metrics))
    dispatcher.update.outer_middleware(IdentifyPerson(db, clock, people))
    dispatcher.message.outer_middleware(CancelPendingPrompt(prompts))
    dispatcher.callback_query.outer_middleware(CancelPendingPrompt(prompts))
    PersonI18nMiddleware(i18n).setup(dispatcher)
    for observer in (dispatcher.message, dispatcher.callback_query):  # after the language is known
        observer.outer_middleware(ProvideReader(i18n, readers(i18n, site, clock)))
    dispatcher.include_routers(*build_routers())  # this App's own routers
    install_dialogs(dispatcher)
    dispatcher.workflow_data.update(
        settings=settings,
        site=site,
        clock=clock,
        db=db,
        i18n=i18n,
        delivery=delivery,
        booking_service=booking,
        series_service=SeriesService(site, clock, booking),
        checkin_service=CheckInService(site, booking),
        people_service=people,
        membership_service=membership,
        task_actions=TaskActions(site, clock),
        task_views=TaskViews(site, clock),
        digest_service=DigestService(site, clock),
        calendar_service=CalendarService(site, clock),
        aftercare_service=AftercareService(site, clock),
        statement_service=StatementService(site, clock),
        workers=workers,
        prompts=prompts,
    )
    scheduler = AsyncIOScheduler(timezone=site.zone)
    jobs = JobContext.build(settings, site, clock, db, delivery, i18n, booking)
    return App(
        settings, site, clock, db, i18n, bot, dispatcher, scheduler, workers, jobs, in_flight=in_flight
    )


async def start(app: App) -> None:
    """Everything but the update source: migrations, commands, timers and the sender."""
    # instances starting together migrate one after the other (a PostgreSQL advisory lock);
    # any migrating is done by a child process, so this one never holds Alembic (storage/migrate.py)
    async with exclusive(app.db.engine, "huiwu:migrations"):
        await migrate.bring_to_head(app.db.engine, app.settings.database_url)
    redis = fsm_redis(app.dispatcher)
    if redis is not None:
        lease = InstanceNameLease(redis, app.settings.redis_prefix, app.settings.instance_name)
        await lease.acquire()
        app.instance_lease = lease
        app.background.append(asyncio.create_task(lease.keep(), name="huiwu-instance-lease"))
    await app.workers.prepare()
    register_clock_jobs(app.scheduler, app.jobs)  # task timers live in the database, not here
    app.scheduler.start()
    app.background.extend(app.workers.start_loops())
    if app.settings.understanding_warm_up:  # the reader's import (~0.8 s) off the loop, not in a request
        app.one_off.append(
            asyncio.create_task(asyncio.to_thread(warm_up_reader), name="huiwu-reader-warm-up")
        )


def warm_up_reader() -> None:
    warm_up()
    give_back_free_memory()  # what loading the reader freed stays with malloc otherwise


async def stop(app: App) -> None:
    for server in reversed(app.servers):  # no new updates; those in hand may finish
        with contextlib.suppress(Exception):
            await server.stop()
    app.servers.clear()
    if app.dispatcher_started:
        app.dispatcher_started = False
        with contextlib.suppress(Exception):
            await app.dispatcher.emit_shutdown(**dispatcher_data(app.bot, app.dispatcher))
    if app.scheduler.running:
        app.scheduler.shutdown(wait=False)
    if not await app.in_flight.drained(timeout=HANDLER_DRAIN_SECONDS):
        log.warning("stopping with %s update(s) still being handled", app.in_flight.count)
    await app.workers.stop()
    for task in (*app.background, *app.one_off):
        task.cancel()
    for task in (*app.background, *app.one_off):
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    app.background.clear()
    app.one_off.clear()
    if app.instance_lease is not None:
        await app.instance_lease.release()
        app.instance_lease = None
    await app.dispatcher.storage.close()
    await app.bot.session.close()
    await app.db.dispose()


def web_dependencies(app: App) -> WebDependencies:
    """What the HTTP listeners serve for ``app``, in its current mode."""
    redis = fsm_redis(app.dispatcher)
    return WebDependencies(
        settings=app.settings,
        webhook=functools.partial(
            webhook_handler, app.dispatcher, app.bot, rejected=metrics.webhook_rejected
        ),
        health=HealthProbe(app.db, app.clock, redis, secrets_of(app.settings)),
        metrics=app.metrics,
        rooms=RoomFeeds(app.site, app.clock, app.db, app.i18n),
        mode=app.mode,
        displays=DoorDisplays(app.site, app.clock, app.db, app.i18n),
    )


async def start_listeners(app: App, *, webhook: bool) -> None:
    """Open the HTTP listeners of this mode (see :func:`bot.ops.web.plan_listeners`).

    The webhook must listen or the bot is deaf: that failure stops the start. Health and
    metrics are for the operators: without their port the bot still serves people, and says
    so in the log.
    """
    for server in plan_listeners(web_dependencies(app), webhook=webhook):
        try:
            await server.start()
        except ListenerError as error:
            if "webhook" in server.name:
                raise
            log.error("%s; /healthz and /metrics are not served", error)
            continue
        app.servers.append(server)


async def serve_webhook(app: App) -> None:
    """After :func:`start`: listen for Telegram's webhook, then point Telegram at it.

    Every instance does this on start with the same URL and secret (setWebhook is
    idempotent); none deletes the webhook when it stops, so updates wait at Telegram (or go to
    the other instances) rather than being lost.
    """
    problem = app.settings.webhook_problem()
    if problem:
        raise ValueError(problem)
    if app.settings.redis_url is None:
        log.warning("REDIS_URL is not set: dialog state lives in this process; run one instance only")
    app.mode = "webhook"
    await app.dispatcher.emit_startup(**dispatcher_data(app.bot, app.dispatcher))
    app.dispatcher_started = True
    await start_listeners(app, webhook=True)
    assert app.settings.webhook_url is not None and app.settings.webhook_secret is not None
    await app.bot.set_webhook(
        url=app.settings.webhook_url,
        secret_token=app.settings.webhook_secret.get_secret_value(),
        drop_pending_updates=False,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
        max_connections=app.settings.webhook_max_connections,
    )
    log.info("webhook set", extra={"url": app.settings.webhook_url, "path": app.settings.webhook_route})


async def until_signalled() -> None:
    """Wait for SIGINT or SIGTERM (systemd's stop)."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopping.set)
            installed.append(sig)
    try:
        await stopping.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def run_webhook(app: App) -> None:
    try:
        await start(app)
        await serve_webhook(app)
        await until_signalled()
        log.info("stopping")
    finally:
        await stop(app)


async def run_polling(app: App) -> None:
    try:
        await start(app)
        await start_listeners(app, webhook=False)
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dispatcher.start_polling(app.bot, handle_signals=True, close_bot_session=False)
    finally:
        await stop(app)
