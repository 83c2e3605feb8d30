"""The meeting's readiness card, end to end through the Bot API emulator (docs/product.md §3).

The hotline's check 3 verifies checks 1 and 2: its card in the hotline's group shows every
team's checks and preparations as they stand and is edited as they change; while a verified
check is not done or a problem is open, Done is "Confirm anyway", a plain Done press is
refused with what is open, and confirming anyway is recorded with what it went over. A problem
reported before its due time reaches the supervisor in the one message about the meeting, which
shows the readiness too. In Chinese and in English.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Task, TaskEvent
from tests.e2e.test_task_window import at, quiet
from tests.support.harness import Harness, running_bot
from tests.support.people import (
    AV_GROUP,
    AV_MEMBER,
    DISPATCHER,
    HOTLINE_GROUP,
    SERVICE_GROUP,
    SERVICE_LEADER,
    SUPERVISOR,
)
from tests.support.sites import example_site_in
from tests.unit.dispatch_support import request

JSON = dict[str, Any]
WORDS = {
    "zh": {
        "readiness": "会前准备",
        "check_2": "二级检查",
        "av": "技术保障组",
        "reason": "设备故障",
        "not_ready": "尚未就绪",
        "problem": "问题报告",
    },
    "en": {
        "readiness": "Readiness",
        "check_2": "Check 2",
        "av": "AV & technical",
        "reason": "Equipment broken",
        "not_ready": "Not ready yet",
        "problem": "Problem reported",
    },
}


@pytest.fixture(params=["zh", "en"])
async def h(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    path = example_site_in(request.param, tmp_path, (SUPERVISOR, DISPATCHER))
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


async def tasks_of(h: Harness, template_id: str) -> list[Task]:
    async with h.app.db.transaction() as session:
        query = select(Task).where(Task.template_id == template_id).order_by(Task.id)
        return list((await session.scalars(query)).all())


async def card(h: Harness, chat: int, task_id: int) -> JSON:
    found = [m for m in await h.emu.bot_messages(chat) if f"t:{task_id}:p" in buttons(m)]
    assert found, f"no card of task #{task_id} in {chat}"
    return found[-1]


async def press(h: Harness, user: int, chat: int, message: JSON, data: str) -> JSON:
    click = await h.emu.click_button(user, chat, message["message_id"], data, forge=True)
    answer = await h.emu.wait_for_callback_answer(click["callback_query_id"], timeout=10)
    await quiet(h)
    return answer


async def confirm_by_leader(h: Harness, task: Task) -> None:
    team = h.site.team(task.team_id)
    assert team is not None and team.chat_id is not None
    await press(h, team.leader, team.chat_id, await card(h, team.chat_id, task.id), f"t:{task.id}:d")


async def test_the_readiness_card_and_confirm_anyway(h: Harness) -> None:
    words = WORDS[h.language]  # type: ignore[attr-defined]
    data = h.app.dispatcher.workflow_data
    async with h.app.db.transaction() as session:
        outcome = await data["booking_service"].create(
            session, request(start=h.at(2, 10), services={"tea": {}})
        )
        await data["delivery"].deliver(session, outcome.notices)
    await quiet(h)

    # check 1 done by the leader at 08:00; check 2 at 09:00: service and security done, AV a problem
    await at(h, h.at(2, 8))
    (check_1,) = await tasks_of(h, "check_1")
    await press(
        h, SERVICE_LEADER, SERVICE_GROUP, await card(h, SERVICE_GROUP, check_1.id), f"t:{check_1.id}:d"
    )
    await at(h, h.at(2, 9))
    checks_2 = {task.team_id: task for task in await tasks_of(h, "check_2")}
    av_check = checks_2.pop("av")
    for task in checks_2.values():
        await confirm_by_leader(h, task)
    await at(h, h.at(2, 9, 5))
    await press(h, AV_MEMBER, AV_GROUP, await card(h, AV_GROUP, av_check.id), f"t:{av_check.id}:r:equipment")

    # the supervisor: one message about the meeting, saying the problem, with the readiness
    about = [m for m in await h.emu.bot_messages(SUPERVISOR) if f"e:{av_check.id}:a" in buttons(m)]
    assert len(about) == 1
    assert words["problem"] in about[0]["text"] and words["reason"] in about[0]["text"]
    assert words["readiness"] in about[0]["text"]

    # check 3 at 09:30: the hotline's card is the readiness card, and Done is "confirm anyway"
    await at(h, h.at(2, 9, 30))
    (check_3,) = await tasks_of(h, "check_3")
    ready = await card(h, HOTLINE_GROUP, check_3.id)
    text = ready["text"]
    assert words["readiness"] in text
    assert f"⚠️ {words['av']}" in text and words["reason"] in text
    assert f"t:{check_3.id}:f" in buttons(ready) and f"t:{check_3.id}:d" not in buttons(ready)

    # a plain Done (an old keyboard, or forged) is refused with what is open; nothing changes
    refused = await press(h, DISPATCHER, HOTLINE_GROUP, ready, f"t:{check_3.id}:d")
    assert refused["show_alert"] and words["not_ready"] in refused["text"]
    assert words["check_2"] in refused["text"]
    (check_3,) = await tasks_of(h, "check_3")
    assert check_3.status == "open"

    # confirmed anyway: done, and its history says over what
    confirmed = await press(h, DISPATCHER, HOTLINE_GROUP, ready, f"t:{check_3.id}:f")
    assert not confirmed.get("show_alert")
    (check_3,) = await tasks_of(h, "check_3")
    assert check_3.status == "done" and check_3.confirmed_by_id == DISPATCHER
    async with h.app.db.transaction() as session:
        done = (
            await session.scalars(
                select(TaskEvent).where(TaskEvent.task_id == check_3.id, TaskEvent.kind == "done")
            )
        ).one()
    assert {"task_id": av_check.id, "state": "problem"} in done.detail["anyway"]

    # the AV team sorts it out: the readiness card follows (edited in place, no new message)
    before = len(await h.emu.bot_messages(HOTLINE_GROUP))
    await press(h, AV_MEMBER, AV_GROUP, await card(h, AV_GROUP, av_check.id), f"t:{av_check.id}:d")
    edited = await h.emu.get_message(HOTLINE_GROUP, ready["message_id"])
    assert words["reason"] not in edited["text"]  # no open problem any more
    assert f"⚠️ {words['av']}" not in edited["text"]
    assert len(await h.emu.bot_messages(HOTLINE_GROUP)) == before
    assert buttons(edited) == []  # check 3 is done: no keyboard left


async def test_with_everything_verified_done_is_plain_done(h: Harness) -> None:
    data = h.app.dispatcher.workflow_data
    async with h.app.db.transaction() as session:
        outcome = await data["booking_service"].create(session, request(start=h.at(2, 10)))
        await data["delivery"].deliver(session, outcome.notices)
    await quiet(h)
    await at(h, h.at(2, 8))
    (check_1,) = await tasks_of(h, "check_1")
    await press(
        h, SERVICE_LEADER, SERVICE_GROUP, await card(h, SERVICE_GROUP, check_1.id), f"t:{check_1.id}:d"
    )
    await at(h, h.at(2, 9))
    for task in await tasks_of(h, "check_2"):
        await confirm_by_leader(h, task)
    await at(h, h.at(2, 9, 30))
    (check_3,) = await tasks_of(h, "check_3")
    ready = await card(h, HOTLINE_GROUP, check_3.id)
    assert f"t:{check_3.id}:d" in buttons(ready) and f"t:{check_3.id}:f" not in buttons(ready)
    done = await press(h, DISPATCHER, HOTLINE_GROUP, ready, f"t:{check_3.id}:d")
    assert not done.get("show_alert")
    (check_3,) = await tasks_of(h, "check_3")
    assert check_3.status == "done"
    async with h.app.db.transaction() as session:
        event = (
            await session.scalars(
                select(TaskEvent).where(TaskEvent.task_id == check_3.id, TaskEvent.kind == "done")
            )
        ).one()
    assert "anyway" not in event.detail
