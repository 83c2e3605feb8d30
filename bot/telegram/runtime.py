"""The Bot and the Dispatcher the composition root (bot/app.py) wires together.

The Bot talks to ``TELEGRAM_API_BASE`` (Telegram, or the emulator) with HTML as the default
parse mode, and waits out a 429 answering a handler's own call (bot/telegram/retry.py). The
Dispatcher keeps dialog state and the per-person locks in Redis when ``REDIS_URL`` is set
(several instances), else in this process.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram_dialog import setup_dialogs

from bot.settings import Settings
from bot.telegram.responses import KeepResponseClasses
from bot.telegram.retry import RetryAfterForHandlers

__all__ = [
    "PERSON_LOCK_SECONDS",
    "Bot",
    "Dispatcher",
    "build_bot",
    "build_dispatcher",
    "build_fsm",
    "dispatcher_data",
    "fsm_redis",
    "install_dialogs",
]

PERSON_LOCK_SECONDS = 20
"""Longer than a handler takes, a reply waiting out 429s included (at most 15 s, bot/telegram/retry.py)."""


def build_bot(settings: Settings) -> Bot:
    token = settings.bot_token.get_secret_value().strip() if settings.bot_token else ""
    session = KeepResponseClasses(api=TelegramAPIServer.from_base(settings.telegram_api_base.rstrip("/")))
    session.middleware(RetryAfterForHandlers())
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def build_fsm(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    if settings.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        # One key builder for state and locks, with the destiny in the key: aiogram-dialog locks
        # its stack ("aiogd:stack:…") while aiogram holds the person's own lock; without the
        # destiny both would be the same Redis lock, which is not reentrant (a 60 s stall).
        keys = DefaultKeyBuilder(prefix=f"{settings.redis_prefix}:fsm", with_destiny=True)
        storage = RedisStorage.from_url(settings.redis_url, key_builder=keys)
        # a person's lock outlives a process killed while handling their update: it expires
        # after this long (aiogram's default is 60 s, a minute of silence after a crash)
        lock = {"timeout": PERSON_LOCK_SECONDS}
        return storage, RedisEventIsolation(storage.redis, key_builder=keys, lock_kwargs=lock)
    return MemoryStorage(), SimpleEventIsolation()


def build_dispatcher(settings: Settings) -> Dispatcher:
    storage, isolation = build_fsm(settings)
    return Dispatcher(storage=storage, events_isolation=isolation)


def fsm_redis(dispatcher: Dispatcher) -> Any:
    """The Redis client of the dispatcher's state storage (None: state lives in this process)."""
    return getattr(dispatcher.storage, "redis", None)


def install_dialogs(dispatcher: Dispatcher) -> None:
    """aiogram-dialog on ``dispatcher``, after its routers, with the dispatcher's own locks."""
    setup_dialogs(dispatcher, events_isolation=dispatcher.fsm.events_isolation)


def dispatcher_data(bot: Bot, dispatcher: Dispatcher) -> dict[str, Any]:
    """What the dispatcher's startup and shutdown handlers are called with."""
    data = {"dispatcher": dispatcher, "bots": [bot], **dispatcher.workflow_data}
    data.pop("bot", None)
    return {"bot": bot, **data}
