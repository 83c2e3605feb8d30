"""Helpers for the dispatch unit tests: real Workers on a real SQLite database, a recording
Bot API session instead of Telegram, and a fake monotonic clock for the sender's pacing."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import EditMessageText, SendDocument, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import Chat, Message
from sqlalchemy import select

from bot.delivery.notices import NoticeDelivery
from bot.services.booking import BookingChanges, BookingRequest, BookingService
from bot.services.clock import ManualClock
from bot.services.tasks import TaskActions
from bot.services.types import BookingView
from bot.settings import Settings
from bot.site import SiteConfig
from bot.telegram.i18n import build_i18n
from bot.workers import Workers
from storage.database import Database
from storage.models import OutboxMessage, Task, TaskEvent
from tests.support.factories import booking_request
from tests.support.people import APPROVER, REQUESTER

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOKEN = "123456789:TEST-token-for-unit-tests-only"

Failure = Callable[[TelegramMethod[Any]], Exception]


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Call:
    method: str
    chat_id: int
    text: str | None
    message_id: int | None
    markup: Any


class RecordingTelegram(BaseSession):
    """Answers sendMessage / editMessageText / sendPhoto / sendDocument like Telegram; failures
    can be queued per chat."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.failures: dict[int, list[Failure]] = {}
        self.texts: dict[tuple[int, int], str] = {}
        self._next_id = 100

    def fail(self, chat_id: int, *failures: Failure) -> None:
        self.failures.setdefault(chat_id, []).extend(failures)

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:  # noqa: ASYNC109
        chat_id = int(getattr(method, "chat_id", 0) or 0)
        self.calls.append(
            Call(
                type(method).__name__,
                chat_id,
                getattr(method, "text", None) or getattr(method, "caption", None),
                getattr(method, "message_id", None),
                getattr(method, "reply_markup", None),
            )
        )
        queued = self.failures.get(chat_id)
        if queued:
            raise queued.pop(0)(method)
        if isinstance(method, SendMessage):
            self._next_id += 1
            self.texts[(chat_id, self._next_id)] = method.text
            return Message(
                message_id=self._next_id,
                date=datetime(2026, 12, 1),
                chat=Chat(id=chat_id, type="supergroup" if chat_id < 0 else "private"),
                text=method.text,
            )
        if isinstance(method, SendPhoto | SendDocument):
            self._next_id += 1
            return Message(
                message_id=self._next_id,
                date=datetime(2026, 12, 1),
                chat=Chat(id=chat_id, type="supergroup" if chat_id < 0 else "private"),
                caption=method.caption,
            )
        if isinstance(method, EditMessageText):
            assert method.message_id is not None
            assert method.text is not None  # Telegram refuses an edit without text
            self.texts[(chat_id, method.message_id)] = method.text
            return True
        return True

    async def stream_content(
        self, *args: Any, **kwargs: Any
    ) -> AsyncGenerator[bytes, None]:  # pragma: no cover
        raise NotImplementedError
        yield b""  # an async generator, as the method it overrides

    async def close(self) -> None:
        return None

    def sent_to(self, chat_id: int) -> list[Call]:
        return [c for c in self.calls if c.chat_id == chat_id and c.method == "SendMessage"]


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in the site's zone."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def request(
    room: str = "r101",
    start: datetime | None = None,
    hours: float = 2,
    **changes: Any,
) -> BookingRequest:
    start = start or local(3, 10)
    base = booking_request(
        start,
        duration=timedelta(hours=hours),
        room_id=room,
        layout={"r101": "discussion", "r102": "discussion", "r301": "classroom"}.get(room, "theatre"),
        title="Budget review",
    )
    return replace(base, **changes)


class Rig:
    """The dispatch side of the bot, as the composition root builds it, minus the dispatcher."""

    def __init__(self, site: SiteConfig, clock: ManualClock, db: Database, **settings: Any) -> None:
        values: dict[str, Any] = {
            "bot_token": TOKEN,
            "per_chat_interval_seconds": 0.0,
            "tick_seconds": 1.0,
        }
        values.update(settings)
        self.settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        self.site = site
        self.clock = clock
        self.db = db
        self.telegram = RecordingTelegram()
        self.bot = Bot(TOKEN, session=self.telegram)
        self.i18n = build_i18n(site.site.default_language)
        self.delivery = NoticeDelivery(site, clock, self.i18n)
        self.workers = Workers(
            settings=self.settings,
            site=site,
            clock=clock,
            db=db,
            bot=self.bot,
            delivery=self.delivery,
            i18n=self.i18n,
        )
        self.monotonic = FakeMonotonic()
        self.workers.sender.pacer.monotonic = self.monotonic
        self.booking = BookingService(site, clock, planner=self.workers.planner)
        self.actions = TaskActions(site, clock)

    # ---- bookings ------------------------------------------------------------------------
    async def book(self, req: BookingRequest | None = None, **changes: Any) -> BookingView:
        async with self.db.transaction() as session:
            outcome = await self.booking.create(session, req or request(**changes))
            await self.delivery.deliver(session, outcome.notices)
        return outcome.booking

    async def approve(self, booking_id: int) -> BookingView:
        async with self.db.transaction() as session:
            outcome = await self.booking.decide(session, booking_id, APPROVER, True)
            await self.delivery.deliver(session, outcome.notices)
        return outcome.booking

    async def change(self, booking_id: int, **changes: Any) -> BookingView:
        async with self.db.transaction() as session:
            outcome = await self.booking.change(
                session, booking_id, REQUESTER, "finance", BookingChanges(**changes)
            )
            await self.delivery.deliver(session, outcome.notices)
        return outcome.booking

    async def cancel(self, booking_id: int) -> BookingView:
        async with self.db.transaction() as session:
            outcome = await self.booking.cancel(session, booking_id, REQUESTER, "finance")
            await self.delivery.deliver(session, outcome.notices)
        return outcome.booking

    # ---- looking ---------------------------------------------------------------------------
    async def tasks(self, booking_id: int | None = None) -> list[Task]:
        async with self.db.transaction() as session:
            query = select(Task).order_by(Task.push_at, Task.template_id, Task.team_id, Task.occurrence)
            if booking_id is not None:
                query = query.where(Task.booking_id == booking_id)
            return list((await session.scalars(query)).all())

    async def task(self, template_id: str, team_id: str | None = None, occurrence: int = 0) -> Task:
        found = [
            t
            for t in await self.tasks()
            if t.template_id == template_id
            and (team_id is None or t.team_id == team_id)
            and t.occurrence == occurrence
        ]
        assert len(found) == 1, f"{len(found)} tasks {template_id}/{team_id}"
        return found[0]

    async def outbox(self, chat_id: int | None = None, kind: str | None = None) -> list[OutboxMessage]:
        """The outbox rows, oldest first. A row not sent yet records no text: it is shown with
        what it would say if the sender sent it now (its text, keyboard and merged line)."""
        async with self.db.transaction() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if chat_id is not None:
                query = query.where(OutboxMessage.chat_id == chat_id)
            if kind is not None:
                query = query.where(OutboxMessage.kind == kind)
            rows = list((await session.scalars(query)).all())
            previews = [
                await self.delivery.render(session, row) if row.text is None and row.notice else None
                for row in rows
            ]
            session.expunge_all()  # the previews are not written back
        for row, preview in zip(rows, previews, strict=True):
            if preview is not None:
                row.text, row.reply_markup, row.merge_text = (
                    preview.text,
                    preview.keyboard,
                    preview.merge_text,
                )
        return rows

    async def events(self, task_id: int) -> list[TaskEvent]:
        async with self.db.transaction() as session:
            query = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
            return list((await session.scalars(query)).all())

    # ---- acting ----------------------------------------------------------------------------
    async def at(self, moment: datetime) -> int:
        """Move the clock to ``moment`` and run one tick."""
        self.clock.set(moment)
        return await self.workers.tick_once()

    async def press(self, action: str, task_id: int, user_id: int, *args: Any) -> Any:
        async with self.db.transaction() as session:
            result = await getattr(self.actions, action)(session, task_id, user_id, *args)
            from bot.delivery.queue import queue

            await queue(session, self.delivery, result.outgoing)
        return result
