"""Dispatch end to end: tasks reach each team's group at their times; Done, Problem, escalation,
change and cancel, through the Bot API emulator with a ManualClock."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.delivery.queue import queue
from bot.services.booking import BookingChanges
from bot.services.planning import plan_tasks
from bot.services.tasks import TaskActions
from bot.services.types import BookingView
from storage.models import OutboxMessage, Task
from tests.support.harness import Harness, running_bot
from tests.support.people import SERVICE_LEADER
from tests.unit.dispatch_support import request

JSON = dict[str, Any]
SERVICE, AV, SECURITY, CLEANING, HOTLINE = -1001, -1002, -1003, -1004, -1005
CHATS = {"service": SERVICE, "av": AV, "security": SECURITY, "cleaning": CLEANING, "hotline": HOTLINE}
AV_LEADER, AV_MEMBER, SECURITY_LEADER = 3101, 3102, 3201
SUPERVISOR, MANAGER = 2201, 2301


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    # a generous group budget: this file is about what arrives when, not about merging
    async with running_bot(tmp_path, group_per_minute=1000, global_per_second=1000) as running:
        yield running


async def book(h: Harness, **changes: Any) -> BookingView:
    data = h.app.dispatcher.workflow_data
    async with h.app.db.transaction() as session:
        outcome = await data["booking_service"].create(session, request(**changes))
        await data["delivery"].deliver(session, outcome.notices)
    await quiet(h)
    return outcome.booking


async def change(h: Harness, booking_id: int, **changes: Any) -> BookingView:
    data = h.app.dispatcher.workflow_data
    async with h.app.db.transaction() as session:
        outcome = await data["booking_service"].change(
            session, booking_id, 1001, "finance", BookingChanges(**changes)
        )
        await data["delivery"].deliver(session, outcome.notices)
    await quiet(h)
    return outcome.booking


async def cancel(h: Harness, booking_id: int) -> None:
    data = h.app.dispatcher.workflow_data
    async with h.app.db.transaction() as session:
        outcome = await data["booking_service"].cancel(session, booking_id, 1001, "finance")
        await data["delivery"].deliver(session, outcome.notices)
    await quiet(h)


async def tasks(h: Harness) -> list[Task]:
    async with h.app.db.transaction() as session:
        return list((await session.scalars(select(Task).order_by(Task.id))).all())


async def task(h: Harness, template_id: str, team_id: str | None = None) -> Task:
    found = [t for t in await tasks(h) if t.template_id == template_id and team_id in (None, t.team_id)]
    assert len(found) == 1
    return found[0]


def shows(message: JSON, task_id: int) -> bool:
    return re.search(rf"#{task_id}(?!\d)", message.get("text") or "") is not None


async def quiet(h: Harness) -> None:
    """Settle, then wait for rows the app's own sender loop has in flight (settle cannot see
    those: it only runs extra passes) so what the test reads next has arrived."""
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


async def card(h: Harness, chat_id: int, task_id: int) -> JSON:
    found = [m for m in await h.emu.bot_messages(chat_id) if shows(m, task_id) and m.get("reply_markup")]
    assert found, f"no card of task #{task_id} in {chat_id}"
    return found[0]


async def press(
    h: Harness, user_id: int, chat_id: int, message: JSON, data: str, forge: bool = False
) -> JSON:
    """Press a button by its data; the bot's answer to the press."""
    click = await h.emu.click_button(user_id, chat_id, message["message_id"], data, forge=forge)
    answer = await h.emu.wait_for_callback_answer(click["callback_query_id"], timeout=10)
    await quiet(h)
    return answer


async def test_each_team_receives_exactly_its_tasks_at_their_times(h: Harness) -> None:
    view = await book(h, start=h.at(2, 10), services={"tea": {}})
    planned = plan_tasks(h.site, view)
    moments = sorted({p.push_at for p in planned})
    seen: dict[int, set[int]] = {chat: set() for chat in CHATS.values()}
    by_key = {(t.template_id, t.team_id, t.occurrence): t.id for t in await tasks(h)}
    for moment in moments:
        await at(h, moment)
        for team, chat in CHATS.items():
            expected = {by_key[p.key] for p in planned if p.team_id == team and p.push_at <= moment}
            shown = {t for t in by_key.values() for m in await h.emu.bot_messages(chat) if shows(m, t)}
            # every task pushed so far is there, nothing early; reminders at due time say "#id" too
            assert expected <= shown, (team, moment)
            early = {t for t in shown - expected if t in by_key.values()}
            assert not {t for t in early if (await task_by_id(h, t)).push_at > moment}, (team, moment)
            seen[chat] = shown
    # exactly one card per task, in its own team's group only
    for team, chat in CHATS.items():
        heads = [(m.get("text") or "").split("\n")[0] for m in await h.emu.bot_messages(chat)]
        for p in planned:
            if p.team_id == team:
                cards = [x for x in heads if x[:1] in "📋☑☕" and re.search(rf"#{by_key[p.key]}(?!\d)", x)]
                assert len(cards) == 1, (team, p.key)
        numbered = [m for m in await h.emu.bot_messages(chat) if "#" in (m.get("text") or "")]
        ids = [int(x) for m in numbered for x in re.findall(r"#(\d+)", m["text"].split("\n")[0])]
        own = {by_key[p.key] for p in planned if p.team_id == team}
        assert set(ids) <= own, team
    assert sum(1 for p in planned if p.team_id == "hotline") == 1


async def task_by_id(h: Harness, task_id: int) -> Task:
    return next(t for t in await tasks(h) if t.id == task_id)


async def test_done_by_a_member_and_refused_for_an_outsider(h: Harness) -> None:
    await book(h, start=h.at(2, 10))
    await at(h, h.at(2, 9))
    av_test = await task(h, "av_test")
    message = await card(h, AV, av_test.id)
    refused = await press(h, SECURITY_LEADER, AV, message, f"t:{av_test.id}:d")
    assert "只有" in refused["text"]
    assert (await task(h, "av_test")).status == "open"
    assert (await h.emu.get_message(AV, message["message_id"]))["reply_markup"]
    forged = await press(h, AV_MEMBER, AV, message, "t:999999:d", forge=True)
    assert forged["answered"] and (await task(h, "av_test")).status == "open"
    done = await press(h, AV_MEMBER, AV, message, f"t:{av_test.id}:d")
    assert "已记录" in done["text"]
    edited = await h.emu.get_message(AV, message["message_id"])
    assert "已完成" in edited["text"] and "郑浩" in edited["text"]
    assert not edited.get("reply_markup")
    # a second press (a client still showing the old button) is harmless
    again = await press(h, AV_LEADER, AV, message, f"t:{av_test.id}:d", forge=True)
    assert "已完成" in again["text"]
    assert (await task(h, "av_test")).confirmed_by_id == AV_MEMBER


async def test_a_leader_only_check_refuses_a_member(h: Harness) -> None:
    await book(h, start=h.at(2, 10))
    await at(h, h.at(2, 8))
    check = await task(h, "check_1")
    message = await card(h, SERVICE, check.id)
    refused = await press(h, 3002, SERVICE, message, f"t:{check.id}:d")
    assert "组长" in refused["text"]
    done = await press(h, SERVICE_LEADER, SERVICE, message, f"t:{check.id}:d")
    assert "已记录" in done["text"]


async def test_a_problem_with_a_preset_reason_reaches_the_supervisor(h: Harness) -> None:
    await book(h, start=h.at(2, 10))
    await at(h, h.at(2, 9))
    av_test = await task(h, "av_test")
    message = await card(h, AV, av_test.id)
    since = await h.emu.current_seq()
    await press(h, AV_MEMBER, AV, message, f"t:{av_test.id}:p")
    prompt = await h.emu.wait_for_message(AV, "出了什么问题", since=since)
    await press(h, AV_MEMBER, AV, prompt, f"t:{av_test.id}:r:equipment")
    alert = await h.emu.wait_for_message(SUPERVISOR, "问题报告", since=since, timeout=10)
    assert "设备故障" in alert["text"] and f"#{av_test.id}" in alert["text"]
    labels = [b["callback_data"] for row in alert["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == [f"e:{av_test.id}:a", f"e:{av_test.id}:d", f"e:{av_test.id}:r"]
    assert "设备故障" in (await h.emu.get_message(AV, message["message_id"]))["text"]


async def test_a_problem_typed_as_a_reply_reaches_the_supervisor(h: Harness) -> None:
    await book(h, start=h.at(2, 10))
    await at(h, h.at(2, 9))
    av_test = await task(h, "av_test")
    message = await card(h, AV, av_test.id)
    since = await h.emu.current_seq()
    await press(h, AV_MEMBER, AV, message, f"t:{av_test.id}:p")
    choices = await h.emu.wait_for_message(AV, "出了什么问题", since=since)
    await press(h, AV_MEMBER, AV, choices, f"t:{av_test.id}:o")
    prompt = await h.emu.wait_for_message(AV, "请回复本条消息", since=since)
    sent = await h.emu.send_message(
        AV_MEMBER, "投影仪 <灯泡> 坏了 & 没有备用", chat_id=AV, reply_to_message_id=prompt["message_id"]
    )
    assert sent["update_id"] is not None  # a reply to the bot passes privacy mode
    await h.emu.wait_for_message(AV, "已报告客服主管", since=since, timeout=10)
    await h.settle()
    alert = await h.emu.wait_for_message(SUPERVISOR, "问题报告", since=since, timeout=10)
    assert "投影仪 <灯泡> 坏了 & 没有备用" in alert["text"]


async def test_unconfirmed_escalates_to_supervisor_then_manager_and_stops_when_confirmed(h: Harness) -> None:
    await book(h, start=h.at(2, 10))
    await at(h, h.at(2, 9))
    av_test = await task(h, "av_test")
    await at(h, h.at(2, 9, 30))
    reminder = [m for m in await h.emu.bot_messages(AV) if shows(m, av_test.id) and "尚未确认" in m["text"]]
    assert len(reminder) == 1
    mentions = [e for e in reminder[0].get("entities", []) if e["type"] == "text_mention"]
    assert mentions and mentions[0]["user"]["id"] == AV_LEADER
    assert not [m for m in await h.emu.bot_messages(SUPERVISOR) if shows(m, av_test.id)]
    await at(h, h.at(2, 9, 40))
    escalation = [m for m in await h.emu.bot_messages(SUPERVISOR) if shows(m, av_test.id)]
    assert len(escalation) == 1 and "升级至客服主管" in escalation[0]["text"]
    await at(h, h.at(2, 9, 50))
    to_manager = [m for m in await h.emu.bot_messages(MANAGER) if shows(m, av_test.id)]
    assert len(to_manager) == 1 and "升级至部门经理" in to_manager[0]["text"]
    answer = await press(h, MANAGER, MANAGER, to_manager[0], f"e:{av_test.id}:d")
    assert "代本组确认" in answer["text"]
    for chat, message in ((SUPERVISOR, escalation[0]), (MANAGER, to_manager[0])):
        edited = await h.emu.get_message(chat, message["message_id"])
        # one message per meeting: the task is shown done and loses its buttons, the others keep theirs
        assert "已完成" in edited["text"]
        data = [
            b["callback_data"]
            for row in (edited.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
        ]
        assert not [d for d in data if d.startswith(f"e:{av_test.id}:")]
    assert (
        "已完成"
        in (
            await card(h, AV, av_test.id) if False else await h.emu.get_message(AV, reminder[0]["message_id"])
        )["text"]
    )


async def test_a_confirmation_before_the_supervisor_stops_the_chain(h: Harness) -> None:
    await book(h, start=h.at(2, 10))
    await at(h, h.at(2, 9))
    av_test = await task(h, "av_test")
    await at(h, h.at(2, 9, 30))
    await press(h, AV_LEADER, AV, await card(h, AV, av_test.id), f"t:{av_test.id}:d")
    await at(h, h.at(2, 10, 30))
    assert not [m for m in await h.emu.bot_messages(SUPERVISOR) if shows(m, av_test.id)]
    assert not [m for m in await h.emu.bot_messages(MANAGER) if shows(m, av_test.id)]


async def test_the_supervisor_acknowledges_and_reassigns(h: Harness) -> None:
    await book(h, start=h.at(2, 10))
    for minute in (0, 30, 40):
        await at(h, h.at(2, 9, minute))
    av_test = await task(h, "av_test")
    escalation = next(m for m in await h.emu.bot_messages(SUPERVISOR) if shows(m, av_test.id))
    await press(h, SUPERVISOR, SUPERVISOR, escalation, f"e:{av_test.id}:r")
    picker = await h.emu.get_message(SUPERVISOR, escalation["message_id"])
    names = [b["text"] for row in picker["reply_markup"]["inline_keyboard"] for b in row]
    assert names[:2] == ["吴刚", "郑浩"]
    answer = await press(h, SUPERVISOR, SUPERVISOR, picker, f"e:{av_test.id}:m:{AV_MEMBER}")
    assert "已改派" in answer["text"]
    notice = [m for m in await h.emu.bot_messages(AV) if shows(m, av_test.id) and "改派" in m["text"]]
    assert len(notice) == 1
    assert any(e["type"] == "text_mention" and e["user"]["id"] == AV_MEMBER for e in notice[0]["entities"])
    await at(h, h.at(2, 9, 45))
    await press(
        h,
        SUPERVISOR,
        SUPERVISOR,
        await h.emu.get_message(SUPERVISOR, escalation["message_id"]),
        f"e:{av_test.id}:a",
    )
    await at(h, h.at(2, 11))
    assert not [m for m in await h.emu.bot_messages(MANAGER) if shows(m, av_test.id)]


async def test_a_change_replans_and_tells_the_teams_old_and_new(h: Harness) -> None:
    view = await book(h, start=h.at(2, 10), services={"tea": {}})
    await at(h, h.at(1, 10))  # the day-before inspection is out
    inspection = await task(h, "inspection")
    card_message = await card(h, SERVICE, inspection.id)
    since = await h.emu.current_seq()
    await change(h, view.id, start=h.at(2, 14), end=h.at(2, 16), services={})
    for chat in (SERVICE, AV, SECURITY, CLEANING, HOTLINE):
        notice = await h.emu.wait_for_message(chat, "会议变更", since=since, timeout=10)
        assert "10:00–12:00 → " in notice["text"] and "14:00–16:00" in notice["text"]
    service = await h.emu.wait_for_message(SERVICE, "会议变更", since=since)
    assert "取消：茶水准备" in service["text"] and "调整：" in service["text"]
    # the inspection was pushed for the old time, which is still past: it stays, re-rendered
    edited = await h.emu.get_message(SERVICE, card_message["message_id"])
    assert "14:00–16:00" in edited["text"]
    await at(h, h.at(2, 13))
    av_test = await task(h, "av_test")
    assert [m for m in await h.emu.bot_messages(AV) if shows(m, av_test.id)]


async def test_a_cancel_cancels_the_tasks_and_tells_the_teams(h: Harness) -> None:
    view = await book(h, start=h.at(2, 10))
    await at(h, h.at(1, 10))
    inspection = await task(h, "inspection")
    card_message = await card(h, SERVICE, inspection.id)
    since = await h.emu.current_seq()
    await cancel(h, view.id)
    for chat in (SERVICE, AV, SECURITY, CLEANING, HOTLINE):
        await h.emu.wait_for_message(chat, "会议已取消", since=since, timeout=10)
    edited = await h.emu.get_message(SERVICE, card_message["message_id"])
    assert "已取消" in edited["text"] and not edited.get("reply_markup")
    before = len(await h.emu.messages(AV))
    await at(h, h.at(2, 13))
    assert len(await h.emu.messages(AV)) == before


async def test_supervisor_views(h: Harness) -> None:
    await book(h, start=h.at(0, 15), hours=1)
    await book(h, room="r102", start=h.at(0, 16), hours=1, confidential=True, title="秘密会谈")
    await at(h, h.at(0, 14, 30))
    data = h.app.dispatcher.workflow_data
    check_2 = next(t for t in await tasks(h) if t.template_id == "check_2" and t.team_id == "av")
    async with h.app.db.transaction() as session:
        result = await TaskActions(h.site, h.clock).confirm(session, check_2.id, AV_MEMBER)
        await queue(session, data["delivery"], result.outgoing)
    today = await h.ask(SUPERVISOR, "/today", "今天")
    assert "第一会议室" in today["text"] and "秘密会谈" in today["text"]
    assert "郑浩" in today["text"]  # who confirmed
    overdue = await h.ask(SUPERVISOR, "/overdue", "当前逾期")
    assert "#" in overdue["text"]
    refused = await h.ask(AV_MEMBER, "/today", "仅供")
    assert refused
    mine = await h.ask(AV_MEMBER, "/mytasks", "待完成")
    assert "技术保障组" in mine["text"]
    since = await h.emu.current_seq()
    await h.emu.send_message(AV_MEMBER, "/mytasks", chat_id=AV)
    in_group = await h.emu.wait_for_message(AV, "待完成", since=since)
    assert "秘密会谈" not in in_group["text"]  # confidential: no title in a group


async def test_bind_a_group_to_a_team(h: Harness) -> None:
    new_group = -1099
    await h.emu.create_group(new_group, "新技术保障群", [MANAGER, AV_MEMBER, AV_LEADER])
    since = await h.emu.current_seq()
    await h.emu.send_message(AV_MEMBER, "/bind av", chat_id=new_group)
    refused = await h.emu.wait_for_message(new_group, "只有机器人管理员", since=since)
    assert refused
    await h.emu.send_message(MANAGER, "/bind nosuchteam", chat_id=new_group)
    await h.emu.wait_for_message(new_group, "绑定哪个组", since=since)
    await h.emu.send_message(MANAGER, "/bind av", chat_id=new_group)
    bound = await h.emu.wait_for_message(new_group, "已绑定", since=since)
    assert "技术保障组" in bound["text"] and "隐私模式已开启" in bound["text"]
    await book(h, start=h.at(2, 10))
    await at(h, h.at(2, 9))
    av_test = await task(h, "av_test")
    assert [m for m in await h.emu.bot_messages(new_group) if shows(m, av_test.id)]
    assert not [m for m in await h.emu.bot_messages(AV) if shows(m, av_test.id)]
    since = await h.emu.current_seq()
    await h.emu.send_message(AV_MEMBER, "/mytasks", chat_id=new_group)
    listing = await h.emu.wait_for_message(new_group, "待完成", since=since)
    assert f"#{av_test.id}" in listing["text"]
