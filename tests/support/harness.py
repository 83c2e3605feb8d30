"""End-to-end harness: the project's Bot API emulator plus the real bot, in one event loop.

The bot is built by the same composition root as `huiwu run`; only TELEGRAM_API_BASE points
at the emulator and the clock is a ManualClock the test moves. The pytest fixture that yields
a running `Harness` lives in tests/e2e/conftest.py; tests, security checks and benchmarks
that start a bot themselves import from here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.app import App, build_app, start, stop
from bot.services.clock import ManualClock
from bot.settings import Settings
from bot.site import SiteConfig, load_site
from emulator.client import EmulatorClient
from emulator.server import EmulatorServer
from storage.models import OutboxMessage, Task
from storage.repositories.tasks import TIMED_STATUSES
from tests.databases import database_url_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SITE = ROOT / "examples" / "site.toml"
TOKEN = "123456789:TEST-token-for-the-emulator-only"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning, far enough from any weekend to book every class.
DEFAULT_START = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)

JSON = dict[str, Any]


@dataclass
class Harness:
    server: EmulatorServer
    emu: EmulatorClient
    app: App
    clock: ManualClock
    site: SiteConfig

    # ---- acting as people -------------------------------------------------------------
    async def say(self, user_id: int, text: str, chat_id: int | None = None, **extra: Any) -> JSON:
        return await self.emu.send_message(user_id, text, chat_id=chat_id, **extra)

    async def press(self, user_id: int, label: str, chat_id: int | None = None, **extra: Any) -> JSON:
        """Press the newest button whose label contains ``label``; returns the press record."""
        return await self.emu.press_button(user_id, user_id if chat_id is None else chat_id, label, **extra)

    async def ask(self, user_id: int, text: str, expect: str | Callable[[JSON], bool], **extra: Any) -> JSON:
        """Say something in private and wait for the bot's reply that matches ``expect``."""
        since = await self.emu.current_seq()
        await self.say(user_id, text, **extra)
        return await self.emu.wait_for_message(user_id, expect, since=since, timeout=10)

    async def click(
        self, user_id: int, label: str, expect: str | Callable[[JSON], bool], chat_id: int | None = None
    ) -> JSON:
        """Press a button and wait for the bot's (new or edited) message matching ``expect``."""
        chat = user_id if chat_id is None else chat_id
        since = await self.emu.current_seq()
        await self.press(user_id, label, chat_id=chat)
        return await self.emu.wait_for_message(chat, expect, since=since, timeout=10)

    async def texts(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in await self.emu.bot_messages(chat_id)]

    # ---- time -------------------------------------------------------------------------
    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        """A moment in the site's zone relative to the harness's start date."""
        base = DEFAULT_START.astimezone(self.site.zone)
        return base.replace(hour=hour, minute=minute) + timedelta(days=day)

    async def advance(self, **delta: float) -> None:
        """Move the clock, then let every timer that came due fire and its messages go out."""
        self.clock.advance(timedelta(**delta))
        await self.settle()

    async def settle(self, rounds: int = 50) -> None:
        """Run ticks and sender passes until nothing more is due or deliverable now.

        The app's own tick and sender loops run beside these passes: on PostgreSQL a timer
        the loop's tick holds (FOR UPDATE SKIP LOCKED) is skipped here rather than waited for,
        so settling also waits until no timer is due and no row is in flight.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        for _ in range(rounds):
            claimed = await self.app.workers.tick_once()
            sent = await self.app.workers.send_pending()
            if claimed or sent:
                continue
            while await self._busy_elsewhere() and loop.time() < deadline:  # noqa: ASYNC110 (polls the database)
                await asyncio.sleep(0.02)
            if not await self.app.workers.tick_once() and not await self.app.workers.send_pending():
                return
        raise AssertionError("the bot did not settle: timers or outbox keep producing work")

    async def _busy_elsewhere(self) -> bool:
        """A due timer or an outbox row in flight: the app's own loops are at work on it."""
        now = self.clock.now()
        async with self.app.db.sessionmaker() as session:
            due = await session.scalar(
                select(func.count())
                .select_from(Task)
                .where(Task.next_at <= now, Task.status.in_(TIMED_STATUSES))
                .where(Task.lease_until.is_(None) | (Task.lease_until <= now))
            )
            flying = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "sending", OutboxMessage.lease_until > now)
            )
        return bool(due or flying)


def harness_settings(database_url: str, api_base: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "telegram_api_base": api_base,
        "database_url": database_url,
        "site_config": EXAMPLE_SITE,
        "tick_seconds": 0.05,
        "sender_idle_seconds": 0.02,
        "per_chat_interval_seconds": 0.0,
        "log_level": "DEBUG",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def register_site_people(emu: EmulatorClient, site: SiteConfig) -> None:
    """Every person of the site file gets an emulator account; every team a group."""
    known: set[int] = set()
    for person in site.people:
        await emu.create_user(person.id, person.name, language_code=person.language or "zh-hans")
        known.add(person.id)
    for team in site.teams:
        for member in team.everyone - known:
            await emu.create_user(member, f"staff {member}", language_code="zh-hans")
            known.add(member)
        if team.chat_id is not None:
            await emu.create_group(team.chat_id, team.name.zh, sorted(team.everyone))


@contextlib.asynccontextmanager
async def running_bot(  # the database: a SQLite file in tmp_path, or PostgreSQL (tests/databases.py)
    tmp_path: Path,
    *,
    site_path: Path = EXAMPLE_SITE,
    start_at: datetime = DEFAULT_START,
    rate_limits: bool = False,
    **settings_overrides: Any,
) -> AsyncIterator[Harness]:
    async with (
        database_url_for(tmp_path) as database_url,
        _running_bot(
            database_url,
            site_path=site_path,
            start_at=start_at,
            rate_limits=rate_limits,
            **settings_overrides,
        ) as harness,
    ):
        yield harness


@contextlib.asynccontextmanager
async def _running_bot(
    database_url: str,
    *,
    site_path: Path,
    start_at: datetime,
    rate_limits: bool,
    **settings_overrides: Any,
) -> AsyncIterator[Harness]:
    server = EmulatorServer(token=TOKEN)
    server.config.rate_limits.enabled = rate_limits
    await server.start()
    emu = EmulatorClient(server.base_url)
    site = load_site(site_path)
    clock = ManualClock(start_at)
    settings = harness_settings(database_url, server.base_url, site_config=site_path, **settings_overrides)
    app = build_app(settings, site, clock)
    await register_site_people(emu, site)
    await start(app)
    polling = asyncio.create_task(
        app.dispatcher.start_polling(
            app.bot, handle_signals=False, close_bot_session=False, polling_timeout=1
        )
    )
    harness = Harness(server, emu, app, clock, site)
    try:
        yield harness
    finally:
        with contextlib.suppress(RuntimeError):
            await app.dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(polling, timeout=5)
        await stop(app)
        await emu.close()
        await server.stop()
