"""Tasks end with their window, end to end through the Bot API emulator: a pre-meeting task
nobody confirmed is missed at the meeting's start — its card in the group is edited to say so
(⌛) and loses its buttons, and nobody is reminded or escalated to about it afterwards."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.models import OutboxMessage, Task
from tests.support.harness import Harness, running_bot
from tests.support.sites import example_site_in
from tests.unit.dispatch_support import request

JSON = dict[str, Any]
SERVICE = -1001
SUPERVISOR, MANAGER = 2201, 2301


WORDS = {
    "zh": {"not_confirmed": "尚未确认", "missed": "已错过"},
    "en": {"not_confirmed": "Not confirmed yet", "missed": "Missed"},
}


@pytest.fixture(params=["zh", "en"])
async def h(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """The example site, its groups in Chinese or in English."""
    path = example_site_in(request.param, tmp_path)
    async with running_bot(
        tmp_path, site_path=path, group_per_minute=1000, global_per_second=1000
    ) as running:
        running.language = request.param  # type: ignore[attr-defined]
        yield running


async def quiet(h: Harness) -> None:
    """Settle, then wait for rows the app's own sender loop has in flight."""
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


async def at(h: Harness, moment: datetime) -> None:
    h.clock.set(moment)
    await quiet(h)


async def task(h: Harness, template_id: str) -> Task:
    async with h.app.db.transaction() as session:
        return (await session.scalars(select(Task).where(Task.template_id == template_id))).one()


def showing(messages: list[JSON], task_id: int) -> list[JSON]:
    return [m for m in messages if re.search(rf"#{task_id}(?!\d)", m.get("text") or "")]


async def test_a_pre_meeting_task_nobody_confirmed_is_missed_at_the_start(h: Harness) -> None:
    words = WORDS[h.language]  # type: ignore[attr-defined]
    data = h.app.dispatcher.workflow_data
    async with h.app.db.transaction() as session:
        outcome = await data["booking_service"].create(
            session, request(start=h.at(2, 10), services={"tea": {}})
        )
        await data["delivery"].deliver(session, outcome.notices)
    await quiet(h)
    # brew tea and welcome the guests: posted 09:45, due 09:55 (reminded then)
    await at(h, h.at(2, 9, 45))
    welcome = await task(h, "tea_welcome")
    cards = showing(await h.emu.bot_messages(SERVICE), welcome.id)
    assert len(cards) == 1 and cards[0].get("reply_markup")
    await at(h, h.at(2, 9, 55))
    shown = showing(await h.emu.bot_messages(SERVICE), welcome.id)
    # the reminder edits the card: one message, one keyboard
    assert len(shown) == 1 and shown[0].get("reply_markup") and words["not_confirmed"] in shown[0]["text"]

    await at(h, h.at(2, 10))
    assert (await task(h, "tea_welcome")).status == "missed"
    for message in shown:
        edited = await h.emu.get_message(SERVICE, message["message_id"])
        assert "⌛" in edited["text"] and words["missed"] in edited["text"], edited["text"]
        assert not edited.get("reply_markup")

    # the supervisor's turn would have been 10:05, the manager's 10:15: nothing comes
    since = await h.emu.current_seq()
    for minute in (5, 15, 30):
        await at(h, h.at(2, 10, minute))
    assert showing(await h.emu.bot_messages(SUPERVISOR), welcome.id) == []
    assert showing(await h.emu.bot_messages(MANAGER), welcome.id) == []
    changed = [m for m in await h.emu.bot_messages(SERVICE) if m["seq"] > since]  # sent or edited
    assert showing(changed, welcome.id) == []
    assert len(showing(await h.emu.bot_messages(SERVICE), welcome.id)) == 1
