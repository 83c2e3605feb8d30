"""Times say their day unless it is the reader's today: task cards, their Done line and /today,
through the emulator with a ManualClock (now: Tue 1 Dec 2026 09:00, Shanghai)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.services.booking import BookingRequest
from bot.services.types import BookingView
from storage.models import OutboxMessage, Task
from tests.support.harness import Harness, running_bot
from tests.support.people import APPROVER, SERVICE_LEADER, SUPERVISOR
from tests.unit.dispatch_support import request

JSON = dict[str, Any]
SERVICE = -1001


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path, group_per_minute=1000, global_per_second=1000) as running:
        yield running


async def quiet(h: Harness) -> None:
    """Settle, then wait until the outbox has nothing left to send."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        await h.settle()
        async with h.app.db.transaction() as session:
            busy = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))
            )
        if not busy or loop.time() > deadline:
            return
        await asyncio.sleep(0.05)


async def book(h: Harness, booking: BookingRequest, approve: bool = False) -> BookingView:
    data = h.app.dispatcher.workflow_data
    async with h.app.db.transaction() as session:
        outcome = await data["booking_service"].create(session, booking)
        await data["delivery"].deliver(session, outcome.notices)
        if approve:
            outcome = await data["booking_service"].decide(session, outcome.booking.id, APPROVER, True)
            await data["delivery"].deliver(session, outcome.notices)
    await quiet(h)
    return outcome.booking


async def task_of(h: Harness, booking_id: int, template_id: str) -> Task:
    async with h.app.db.transaction() as session:
        found = (
            await session.scalars(
                select(Task).where(Task.booking_id == booking_id, Task.template_id == template_id)
            )
        ).all()
    assert len(found) == 1, found
    return found[0]


async def card(h: Harness, chat_id: int, task_id: int) -> JSON:
    for message in await h.emu.bot_messages(chat_id):
        if re.search(rf"#{task_id}(?!\d)", message.get("text") or "") and message.get("reply_markup"):
            return message
    raise AssertionError(f"no card of task #{task_id} in {chat_id}")


async def at(h: Harness, moment: datetime) -> None:
    h.clock.set(moment)
    await quiet(h)


async def test_cards_and_today_name_the_day_of_a_time_not_today(h: Harness) -> None:
    # a meeting tomorrow 09:00–11:00: its day-before inspection is pushed now, due today 11:00
    tomorrow = await book(h, request(start=h.at(1, 9), services={"tea": {}}))
    inspection = await task_of(h, tomorrow.id, "inspection")
    posted = await card(h, SERVICE, inspection.id)
    assert "第一会议室 · 明天 09:00–11:00" in posted["text"], posted["text"]
    assert "⏰ 完成时限：11:00" in posted["text"], posted["text"]  # today: the bare time

    # a class-C meeting the day after tomorrow: its service notice, pushed at 10:00, is due tomorrow
    later = await book(h, request("r203", start=h.at(2, 10), services={"tea": {}}), approve=True)
    await at(h, h.at(0, 10))
    notice = [t for t in await _tasks(h, later.id) if t.template_id == "notice_c" and t.team_id == "service"]
    assert len(notice) == 1
    notice_card = await card(h, SERVICE, notice[0].id)
    assert "⏰ 完成时限：明天 10:00" in notice_card["text"], notice_card["text"]
    assert "12月3日（周四）10:00–12:00" in notice_card["text"], notice_card["text"]

    # done today at 10:00; tomorrow morning /today shows it was done yesterday
    since = await h.emu.current_seq()
    click = await h.emu.click_button(SERVICE_LEADER, SERVICE, posted["message_id"], f"t:{inspection.id}:d")
    await h.emu.wait_for_callback_answer(click["callback_query_id"], timeout=10)
    edited = await h.emu.wait_for_message(
        SERVICE, lambda m: "✅ 已完成" in (m.get("text") or ""), since=since
    )
    assert "李强 10:00" in edited["text"], edited["text"]  # today: the bare time
    await at(h, h.at(1, 8))
    listing = await h.ask(SUPERVISOR, "/today", "今天")
    assert f"#{inspection.id} — 李强 于 昨天 10:00 完成" in listing["text"], listing["text"]
    assert "09:00–11:00 · 第一会议室" in listing["text"]  # the meeting is today now
    assert "明天" not in listing["text"]


async def _tasks(h: Harness, booking_id: int) -> list[Task]:
    async with h.app.db.transaction() as session:
        return list((await session.scalars(select(Task).where(Task.booking_id == booking_id))).all())
