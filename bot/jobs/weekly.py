"""The weekly briefing job, and the delivery of pictures and files.

The outbox carries text; a chart and a spreadsheet go through ``file_deliveries`` instead:
the job claims the week once (``clock_runs``: ``weekly`` + the ISO week), queues one row per
supervisor and manager (dedupe key ``weekly:<week>:<chat>``), and :func:`send_files` sends
each row's picture and file with the Bot (``BufferedInputFile``) outside any transaction,
rendered at sending time in the reader's language. A 429 waits ``retry_after``; a network or
server error is retried with a growing pause, up to :data:`MAX_ATTEMPTS`; a refusal (blocked,
no such chat) fails the row. The photo is remembered as sent, so a retry sends only the file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.notices import language_of_chat
from bot.render.reports import caption, chart_png, file_name, workbook_bytes
from bot.render.text import Reader
from bot.services.clock import Clock
from bot.services.reports import IsoWeek, ReportService, WeekFigures, parse_week, weekly_due
from bot.site import Role, SiteConfig
from storage.database import Database
from storage.repositories.aftercare import FileDeliveryRepository

if TYPE_CHECKING:
    from bot.workers import Workers

log = logging.getLogger(__name__)

WEEKLY_ROLES = (Role.supervisor, Role.manager)
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
PHOTO_SENT = "photo_sent"


def weekly_recipients(site: SiteConfig) -> list[int]:
    return [person.id for person in site.people if set(person.roles) & set(WEEKLY_ROLES)]


async def briefing_files(reader: Reader, figures: WeekFigures) -> tuple[bytes, bytes]:
    """The chart (PNG) and the spreadsheet (.xlsx), drawn in a worker thread."""
    chart = await asyncio.to_thread(chart_png, reader, figures)
    workbook = await asyncio.to_thread(workbook_bytes, reader, figures)
    return chart, workbook


async def send_briefing(
    bot: Bot,
    chat_id: int,
    reader: Reader,
    figures: WeekFigures,
    *,
    with_photo: bool = True,
    on_photo_sent: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """The chart with its caption, then the spreadsheet, straight to ``chat_id``."""
    chart, workbook = await briefing_files(reader, figures)
    if with_photo:
        await bot.send_photo(
            chat_id, BufferedInputFile(chart, file_name(figures, "png")), caption=caption(reader, figures)
        )
        if on_photo_sent is not None:
            await on_photo_sent()
    await bot.send_document(chat_id, BufferedInputFile(workbook, file_name(figures, "xlsx")))


async def week_figures(db: Database, site: SiteConfig, clock: Clock, week: IsoWeek) -> WeekFigures:
    async with db.transaction() as session:
        return await ReportService(site, clock).week(session, week)


async def queue_weekly(session: AsyncSession, site: SiteConfig, clock: Clock, week: IsoWeek) -> int:
    """Claim the week and queue its briefing for every supervisor and manager; rows queued.

    A week without meetings is claimed and sends nothing: an empty chart and spreadsheet tell
    nobody anything (a fresh installation's first Friday, a holiday week).
    """
    reports = ReportService(site, clock)
    if not await reports.claim(session, week):
        return 0
    if not (await reports.week(session, week)).meetings:
        log.info("weekly briefing %s: no meetings that week, nothing sent", week.label)
        return 0
    repo = FileDeliveryRepository(session)
    queued = 0
    for person in weekly_recipients(site):
        queued += await repo.add(
            dedupe_key=f"weekly:{week.label}:{person}",
            chat_id=person,
            kind="weekly",
            params={"week": week.label},
            now=clock.now(),
        )
    return queued


async def run_weekly(workers: Workers) -> int:
    """Queue this week's briefing if it is due and not queued yet, then send what is waiting."""
    week = weekly_due(workers.site, workers.clock.now())
    async with workers.db.read() as session:
        claimed = await ReportService(workers.site, workers.clock).claimed(session, week)
    if not claimed:
        async with workers.db.transaction() as session:
            queued = await queue_weekly(session, workers.site, workers.clock, week)
        if queued:
            log.info("weekly briefing %s queued for %s people", week.label, queued)
    return await send_files(workers.bot, workers.db, workers.site, workers.clock, workers.i18n)


async def _render_and_send(
    bot: Bot,
    db: Database,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    delivery_id: int,
    chat_id: int,
    params: dict[str, Any],
) -> None:
    week = parse_week(str(params.get("week", "")), clock.now().astimezone(site.zone).date())
    async with db.transaction() as session:
        language = await language_of_chat(session, site, chat_id)
        figures = await ReportService(site, clock).week(session, week)

    async def remember_photo() -> None:
        async with db.transaction() as session:
            row = await FileDeliveryRepository(session).get(delivery_id)
            if row is not None:
                row.params = {**row.params, PHOTO_SENT: True}

    await send_briefing(
        bot,
        chat_id,
        Reader(i18n, language, site),
        figures,
        with_photo=not params.get(PHOTO_SENT),
        on_photo_sent=remember_photo,
    )


async def send_files(bot: Bot, db: Database, site: SiteConfig, clock: Clock, i18n: I18n) -> int:
    """Send every file delivery that is due; the number sent."""
    async with db.transaction() as session:
        rows = await FileDeliveryRepository(session).claim(clock.now(), LEASE)
        work = [(row.id, row.chat_id, row.kind, dict(row.params), row.attempts) for row in rows]
    sent = 0
    for delivery_id, chat_id, kind, params, attempts in work:
        status, wait, error = "sent", 0.0, None
        try:
            if kind != "weekly":
                raise ValueError(f"unknown file delivery kind {kind!r}")
            await _render_and_send(bot, db, site, clock, i18n, delivery_id, chat_id, params)
            sent += 1
        except TelegramRetryAfter as exc:
            status, wait, error = "pending", float(exc.retry_after), exc.message
        except (TelegramForbiddenError, TelegramNotFound) as exc:
            status, error = "failed", exc.message
        except TelegramBadRequest as exc:
            status, error = "failed", exc.message
        except (TimeoutError, TelegramAPIError, OSError) as exc:
            attempts += 1
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            wait, error = min(2.0**attempts, 300.0), str(exc)
        except Exception as exc:  # a bug in one report must not stop the others
            log.exception("file delivery %s failed", delivery_id)
            status, error = "failed", repr(exc)
        async with db.transaction() as session:
            row = await FileDeliveryRepository(session).get(delivery_id)
            if row is None:  # pragma: no cover - deleted meanwhile
                continue
            now = clock.now()
            row.status, row.attempts, row.error, row.lease_until = status, attempts, error, None
            if status == "sent":
                row.sent_at = now
            elif status == "pending":
                row.not_before = now + timedelta(seconds=wait)
        if status == "failed":
            log.warning("file delivery %s to %s failed: %s", delivery_id, chat_id, error)
    return sent
