"""Per-update context: deduplication, who the person is, and their language.

This package sits below bot/render and bot/ops (their modules import bot/telegram), so what
comes from there is handed in by the composition root: the counters (bot/ops/metrics.py in
the running bot) and the making of an update's reader (bot/render/text.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from sqlalchemy.exc import IntegrityError

from bot.services.clock import Clock
from bot.services.people import PeopleService
from storage.database import Database
from storage.repositories.updates import UpdateRepository

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
log = logging.getLogger(__name__)


class UpdateCounters(Protocol):
    """Where the update middlewares count what they see (bot/ops/metrics.py in the running bot)."""

    def update_handled(self, outcome: str, seconds: float | None = None) -> None: ...

    def handler_error(self) -> None: ...


class DeduplicateUpdates(BaseMiddleware):
    """Telegram redelivers an update it thinks was not answered; handle each id once.

    The id is recorded (and committed) *before* the handlers run, so a second delivery that
    arrives while the first is still being handled — by this instance or another one sharing
    the database — is skipped; the primary key decides which of two concurrent deliveries
    wins. It is the outermost update middleware (see :func:`install_deduplication`): a handler's
    error is answered by the error handlers inside it (the person is told, the update counts as
    handled), while an error that escapes them — the database unreachable, here or later — makes
    it forget the id, so the webhook answers 500 and Telegram's next delivery gets a fresh try.
    Old ids are removed by the hourly clean-up after the site's ``[retention]``
    (bot/jobs/retention.py).
    """

    def __init__(self, db: Database, clock: Clock, counters: UpdateCounters) -> None:
        self.db = db
        self.clock = clock
        self.counters = counters

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        started = time.perf_counter()
        try:
            async with self.db.transaction() as session:
                first_time = await UpdateRepository(session).remember(event.update_id, self.clock.now())
        except IntegrityError:  # another instance recorded it a moment ago
            first_time = False
        except Exception:  # the database is unreachable: the webhook answers 500, Telegram retries
            self.counters.update_handled("failed", time.perf_counter() - started)
            raise
        if not first_time:
            log.info("update %s already handled; skipped", event.update_id)
            self.counters.update_handled("duplicate")
            return None
        try:
            result = await handler(event, data)
        except Exception:
            self.counters.update_handled("failed", time.perf_counter() - started)
            try:
                async with self.db.transaction() as session:
                    await UpdateRepository(session).forget(event.update_id)
            except Exception:  # then a redelivery is skipped as a duplicate: say so
                log.exception("update %s failed and its id could not be released", event.update_id)
            raise
        self.counters.update_handled("handled", time.perf_counter() - started)
        return result


def install_deduplication(dispatcher: Dispatcher, deduplicate: DeduplicateUpdates) -> None:
    """Put ``deduplicate`` in front of every update middleware, aiogram's error handling
    included (aiogram's manager only appends, so the others are registered again after it)."""
    manager = dispatcher.update.outer_middleware
    others = list(manager[:])
    for middleware in others:
        manager.unregister(middleware)
    manager.register(deduplicate)
    for middleware in others:
        manager.register(middleware)


class CountHandlerErrors(BaseMiddleware):
    """On the dispatcher's error event: one more update whose handlers raised."""

    def __init__(self, counters: UpdateCounters) -> None:
        self.counters = counters

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        self.counters.handler_error()
        return await handler(event, data)


class IdentifyPerson(BaseMiddleware):
    def __init__(self, db: Database, clock: Clock, people: PeopleService) -> None:
        self.db = db
        self.clock = clock
        self.people = people

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and not user.is_bot:
            async with self.db.read() as session:
                known = await self.people.recognise(session, user.id, user.first_name, user.username)
            if known is not None:
                person = known
            else:  # first contact, or a new name: written (the usual case only reads)
                async with self.db.transaction() as session:
                    person = await self.people.identify(
                        session, user.id, user.first_name, user.username, self.clock.now()
                    )
            data["person"] = person
            data["language"] = person.language
        return await handler(event, data)


class ProvideReader(BaseMiddleware):
    """The update's reader (``read``): the person's language, which the i18n middleware set
    before this one ran, reading at the clock's now, so that times not today carry their day.
    Handlers take it as a parameter rather than building it; ``reader_for`` makes it from the
    language (bot/render/text.py's Reader, at the clock's now, in the running bot)."""

    def __init__(self, i18n: I18n, reader_for: Callable[[str], object]) -> None:
        self.i18n = i18n
        self.reader_for = reader_for

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["read"] = self.reader_for(self.i18n.current_locale)
        return await handler(event, data)


class InFlightUpdates(BaseMiddleware):
    """The updates being handled right now, so that stopping waits for them.

    aiogram handles each polled update in a task of its own, which stopping the polling does
    not wait for: a handler still answering would then use a bot whose HTTP session was
    already closed (and open a new one that nobody closes), or find the database gone. The
    App's stop waits (bounded) until these are done before it closes anything."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self.count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.count -= 1
            if self.count == 0:
                self._idle.set()

    async def drained(self, timeout: float) -> bool:  # noqa: ASYNC109 (a bounded wait at shutdown)
        """Wait until no update is being handled, at most ``timeout`` seconds; True if none is."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
