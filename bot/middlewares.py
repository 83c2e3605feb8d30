"""Per-update context: deduplication, who the person is, and their language."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.exc import IntegrityError

from bot.services.clock import Clock
from bot.services.people import PeopleService
from storage.database import Database
from storage.repositories.updates import UpdateRepository

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
log = logging.getLogger(__name__)


class DeduplicateUpdates(BaseMiddleware):
    """Telegram redelivers an update it thinks was not answered; handle each id once."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        try:
            async with self.db.transaction() as session:
                first_time = await UpdateRepository(session).remember(event.update_id, self.clock.now())
        except IntegrityError:  # another instance recorded it a moment ago
            first_time = False
        if not first_time:
            log.info("update %s already handled; skipped", event.update_id)
            return None
        try:
            return await handler(event, data)
        except Exception:
            async with self.db.transaction() as session:
                await UpdateRepository(session).forget(event.update_id)
            raise


class IdentifyPerson(BaseMiddleware):
    def __init__(self, db: Database, clock: Clock, people: PeopleService) -> None:
        self.db = db
        self.clock = clock
        self.people = people

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and not user.is_bot:
            async with self.db.transaction() as session:
                person = await self.people.identify(
                    session, user.id, user.first_name, user.username, self.clock.now()
                )
            data["person"] = person
            data["language"] = person.language
        return await handler(event, data)
