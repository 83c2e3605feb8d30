"""The composition root: settings, site, clock, database, bot, dispatcher and workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.utils.i18n import I18n
from aiogram_dialog import setup_dialogs
from apscheduler.schedulers.asyncio import AsyncIOScheduler

import bot.render  # noqa: F401  (every notice renderer registers itself on import)
from bot.handlers import build_routers
from bot.i18n import PersonI18nMiddleware, build_i18n
from bot.middlewares import DeduplicateUpdates, IdentifyPerson
from bot.notices import NoticeDelivery
from bot.services.booking import BookingService
from bot.services.clock import Clock, SystemClock
from bot.services.people import PeopleService
from bot.settings import Settings
from bot.site import SiteConfig
from bot.workers import Workers
from storage import migrate
from storage.database import Database, create_engine

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
    background: list[asyncio.Task[None]] = field(default_factory=list)


def build_bot(settings: Settings) -> Bot:
    token = settings.bot_token.get_secret_value().strip() if settings.bot_token else ""
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base.rstrip("/")))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def build_fsm(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    if settings.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        storage = RedisStorage.from_url(settings.redis_url, key_builder=DefaultKeyBuilder(with_destiny=True))
        return storage, RedisEventIsolation(storage.redis)
    return MemoryStorage(), SimpleEventIsolation()


def build_app(settings: Settings, site: SiteConfig, clock: Clock | None = None) -> App:
    clock = clock or SystemClock()
    db = Database(create_engine(settings.database_url))
    i18n = build_i18n(site.site.default_language)
    bot = build_bot(settings)
    storage, isolation = build_fsm(settings)
    dispatcher = Dispatcher(storage=storage, events_isolation=isolation)
    delivery = NoticeDelivery(site, clock, i18n)
    workers = Workers(settings=settings, site=site, clock=clock, db=db, bot=bot, delivery=delivery, i18n=i18n)
    booking = BookingService(site, clock, planner=workers.planner)
    people = PeopleService(site)

    dispatcher.update.outer_middleware(DeduplicateUpdates(db, clock))
    dispatcher.update.outer_middleware(IdentifyPerson(db, clock, people))
    PersonI18nMiddleware(i18n).setup(dispatcher)
    dispatcher.include_routers(*build_routers())
    setup_dialogs(dispatcher, events_isolation=isolation)
    dispatcher.workflow_data.update(
        settings=settings,
        site=site,
        clock=clock,
        db=db,
        i18n=i18n,
        delivery=delivery,
        booking_service=booking,
        people_service=people,
        workers=workers,
    )
    scheduler = AsyncIOScheduler(timezone=site.zone)
    return App(settings, site, clock, db, i18n, bot, dispatcher, scheduler, workers)


async def start(app: App) -> None:
    """Everything but the update source: migrations, commands, timers and the sender."""
    await migrate.upgrade(app.db.engine)
    await app.workers.prepare()
    app.workers.schedule(app.scheduler)
    app.scheduler.start()
    app.background.extend(app.workers.start_loops())


async def stop(app: App) -> None:
    if app.scheduler.running:
        app.scheduler.shutdown(wait=False)
    await app.workers.stop()
    for task in app.background:
        task.cancel()
    for task in app.background:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    app.background.clear()
    _release_routers(app.dispatcher)
    await app.dispatcher.storage.close()
    await app.bot.session.close()
    await app.db.dispose()


def _release_routers(router: Router) -> None:
    """Detach the module-level routers so another App in this process (tests, the sandbox's
    reset) can include them again; aiogram lets a router have one parent at a time."""
    for sub_router in list(router.sub_routers):
        _release_routers(sub_router)
        sub_router._parent_router = None
    router.sub_routers.clear()


async def run_polling(app: App) -> None:
    await start(app)
    try:
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dispatcher.start_polling(app.bot, handle_signals=True, close_bot_session=False)
    finally:
        await stop(app)
