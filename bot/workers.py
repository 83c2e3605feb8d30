"""What runs beside the update handlers: task planning hook, the timer tick and the sender."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import set_command_menus
from bot.notices import NoticeDelivery
from bot.services.clock import Clock
from bot.services.types import BookingView, Notice
from bot.settings import Settings
from bot.site import SiteConfig
from storage.database import Database

log = logging.getLogger(__name__)


@dataclass
class Workers:
    settings: Settings
    site: SiteConfig
    clock: Clock
    db: Database
    bot: Bot
    delivery: NoticeDelivery
    i18n: I18n
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def planner(
        self, session: AsyncSession, booking: BookingView, previous: BookingView | None
    ) -> list[Notice]:
        """Plan (or re-plan) a booking's tasks inside the booking's own transaction."""
        return []

    async def prepare(self) -> None:
        await set_command_menus(self.bot, self.i18n)

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        """Clock jobs (digests, briefings) go here; task timers live in the database."""

    def start_loops(self) -> list[asyncio.Task[None]]:
        return []

    async def stop(self) -> None:
        self.stopping.set()
