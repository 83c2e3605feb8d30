"""The weekly briefing as two notices: the chart (a picture with its caption) and the spreadsheet.

Both are outbox rows like any message (bot/jobs/weekly.py queues them): paced with the rest,
sent one after the other in their chat, each retried on its own, so a picture already sent is
never sent again because its spreadsheet had to wait. The week's figures are read when the
row is sent; the picture and the file are drawn in a worker thread by the sender, outside
any transaction.
"""

from __future__ import annotations

import asyncio

from bot.delivery.notices import OutgoingFile, RenderContext, Rendered, renderer
from bot.render.booking import notice_reader
from bot.render.reports import caption, chart_png, file_name, workbook_bytes
from bot.services.reports import ReportService, WeekFigures, parse_week
from bot.services.types import Notice

CHART = "weekly_chart"
WORKBOOK = "weekly_workbook"


def briefing_notices(chat_id: int, week: str, dedupe_key: str | None = None) -> list[Notice]:
    """The chart, then the spreadsheet, of ``week`` (``2026-W49``) for ``chat_id``."""
    return [
        Notice(
            kind, chat_id, {"week": week}, dedupe_key=None if dedupe_key is None else f"{dedupe_key}:{part}"
        )
        for kind, part in ((CHART, "chart"), (WORKBOOK, "workbook"))
    ]


async def _figures(ctx: RenderContext, notice: Notice) -> WeekFigures:
    today = ctx.clock.now().astimezone(ctx.site.zone).date()
    week = parse_week(str(notice.params.get("week", "")), today)
    return await ReportService(ctx.site, ctx.clock).week(ctx.session, week)


@renderer(CHART)
async def render_weekly_chart(ctx: RenderContext, notice: Notice) -> Rendered | None:
    figures = await _figures(ctx, notice)
    reader = notice_reader(ctx)

    async def draw() -> bytes:
        return await asyncio.to_thread(chart_png, reader, figures)

    return Rendered(caption(reader, figures), file=OutgoingFile("photo", file_name(figures, "png"), draw))


@renderer(WORKBOOK)
async def render_weekly_workbook(ctx: RenderContext, notice: Notice) -> Rendered | None:
    figures = await _figures(ctx, notice)
    reader = notice_reader(ctx)

    async def write() -> bytes:
        return await asyncio.to_thread(workbook_bytes, reader, figures)

    return Rendered("", file=OutgoingFile("document", file_name(figures, "xlsx"), write))
