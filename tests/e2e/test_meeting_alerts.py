"""Escalations grouped per meeting and recipient, end to end through the Bot API emulator
(docs/product.md §4): nobody presses anything before a meeting, and the supervisor and the
manager each get one message about it — edited as more of its tasks fall due — with a row of
buttons per open task and "acknowledge all"; every reminder edits the task's card, so a task
never has two live keyboards in its group. In Chinese and in English."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Task
from tests.e2e.test_task_window import at, quiet
from tests.support.harness import Harness, running_bot
from tests.support.sites import example_site_in
from tests.unit.dispatch_support import request

JSON = dict[str, Any]
SERVICE, AV, SECURITY, HOTLINE = -1001, -1002, -1003, -1005
SUPERVISOR, MANAGER = 2201, 2301
TASK_DATA = re.compile(r"^[te]:(\d+):")
WORDS = {
    "zh": {"escalation": "升级至客服主管", "overdue": "逾期未确认", "all": "全部知悉", "ack": "已知悉"},
    "en": {
        "escalation": "Escalation to the supervisor",
        "overdue": "Overdue and not confirmed",
        "all": "Acknowledge all",
        "ack": "Acknowledged",
    },
}


@pytest.fixture(params=["zh", "en"])
async def h(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    path = example_site_in(request.param, tmp_path, (SUPERVISOR, MANAGER), groups=False)
    async with running_bot(
        tmp_path, site_path=path, group_per_minute=1000, global_per_second=1000
    ) as running:
        running.language = request.param  # type: ignore[attr-defined]
        yield running


def buttons(message: JSON) -> list[str]:
    return [
        b.get("callback_data") or ""
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]


def live(messages: list[JSON]) -> Counter[int]:
    """Per task, how many of these messages have a button about it."""
    found: Counter[int] = Counter()
    for message in messages:
        found.update({int(m.group(1)) for data in buttons(message) if (m := TASK_DATA.match(data))})
    return found


async def test_one_escalation_per_meeting_and_person_and_one_keyboard_per_task(h: Harness) -> None:
    words = WORDS[h.language]  # type: ignore[attr-defined]
    data = h.app.dispatcher.workflow_data
    async with h.app.db.transaction() as session:
        outcome = await data["booking_service"].create(
            session, request(start=h.at(2, 10), services={"tea": {}})
        )
        await data["delivery"].deliver(session, outcome.notices)
    await quiet(h)
    for hour, minute in (
        (8, 0),
        (8, 15),
        (8, 20),
        (8, 30),
        (9, 0),
        (9, 15),
        (9, 25),
        (9, 30),
        (9, 40),
        (9, 50),
    ):
        await at(h, h.at(2, hour, minute))
        for chat in (SERVICE, AV, SECURITY, HOTLINE):
            doubled = [task for task, count in live(await h.emu.bot_messages(chat)).items() if count > 1]
            assert doubled == [], (chat, hour, minute)
    for chat in (SUPERVISOR, MANAGER):
        messages = await h.emu.bot_messages(chat)
        alerts = [m for m in messages if buttons(m)]
        assert len(alerts) == 1, [m["text"] for m in messages]
        assert alerts[0].get("edit_count", 0) >= 1  # later tasks of the meeting edited it
    alert = next(m for m in await h.emu.bot_messages(SUPERVISOR) if buttons(m))
    assert words["escalation"] in alert["text"] and words["overdue"] in alert["text"]
    async with h.app.db.transaction() as session:
        escalated = [t.id for t in (await session.scalars(select(Task).where(Task.stage >= 2))).all()]
    assert len(escalated) > 1
    rows = alert["reply_markup"]["inline_keyboard"]
    for task_id in escalated:
        assert [f"e:{task_id}:a", f"e:{task_id}:d", f"e:{task_id}:r"] in [
            [b["callback_data"] for b in row] for row in rows
        ]
    # acknowledge all: every task of the meeting stays open, escalated no further, no button left
    acknowledge_all = rows[-1][0]
    assert words["all"] in acknowledge_all["text"]
    press = await h.emu.click_button(
        SUPERVISOR, SUPERVISOR, alert["message_id"], acknowledge_all["callback_data"]
    )
    answer = await h.emu.wait_for_callback_answer(press["callback_query_id"])
    assert words["ack"] in answer["text"]
    await quiet(h)
    edited = await h.emu.get_message(SUPERVISOR, alert["message_id"])
    assert not [d for d in buttons(edited) if d.startswith("e:") and d.endswith(":a")]
    async with h.app.db.transaction() as session:
        tasks = (await session.scalars(select(Task).where(Task.id.in_(escalated)))).all()
    assert all(t.acknowledged_by_id == SUPERVISOR for t in tasks if t.status in ("open", "problem"))
