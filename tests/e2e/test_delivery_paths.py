"""Delivery through the emulator: a notice a handler queues goes out as soon as its transaction
commits (not at the sender's next idle poll), and the weekly files go through the outbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.clock_steps import book, move_to, new_messages
from tests.support.harness import running_bot
from tests.support.people import APPROVER, MANAGER, REQUESTER, SUPERVISOR
from tests.unit import week_seed
from tests.unit.week_seed import REPORT_AT

IDLE = 30.0
"""The sender's idle poll in these tests: far longer than any wait below."""


async def test_a_notice_a_handler_queues_is_sent_without_waiting_for_the_idle_poll(tmp_path: Path) -> None:
    async with running_bot(tmp_path, sender_idle_seconds=IDLE) as h:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(0.5)  # the sender's first pass found nothing: it waits IDLE seconds now
        await book(h, h.at(2, 10), room="r203", attendees=180, layout="theatre", level=1)
        await h.emu.wait_for_message(APPROVER, "待审批", since=0, timeout=5)
        await asyncio.sleep(0.5)  # and again nothing is waiting
        since = await h.emu.current_seq()
        pressed = loop.time()
        await h.press(APPROVER, "批准")  # the approval handler queues the requester's notice
        await h.emu.wait_for_message(REQUESTER, "已获批准", since=since, timeout=5)
        took = loop.time() - pressed
        print(f"approved → requester told in {took * 1000:.0f} ms (idle poll {IDLE:.0f} s)")
        assert took < 2.0


async def test_a_429_on_the_weekly_chart_sends_each_file_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, per_chat_interval_seconds=1.0) as h:
        async with h.app.db.transaction() as session:
            await week_seed.seed(session, h.site)
        await h.emu.fail_with_retry_after(1, method="sendPhoto", chat_id=SUPERVISOR, count=1)
        since = await h.emu.current_seq()
        await move_to(h, REPORT_AT)
        for person in (SUPERVISOR, MANAGER):
            await h.emu.wait_for_message(person, lambda m: bool(m.get("document")), since=since, timeout=20)
            messages = await new_messages(h, person, since)
            photos = [m for m in messages if m.get("photo")]
            documents = [m for m in messages if m.get("document")]
            assert len(photos) == 1 and len(documents) == 1, (person, messages)
            assert messages.index(photos[0]) < messages.index(documents[0])
        assert h.app.workers.sender.stats["retry_after"] == 1
