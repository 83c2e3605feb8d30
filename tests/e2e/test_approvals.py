"""Approvals that chase, end to end through the emulator (docs/product.md §2): the reminder and
the escalation with the clock moved, /approvals and its buttons, withdraw from /my, the request
rejected by itself at its start, and each claim taken once.

The harness starts on Tuesday 1 December 2026 at 09:00 (Asia/Shanghai); office hours are
09:00-17:00 and both waits two working hours (examples/site.toml).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot.app import build_app, stop
from bot.jobs.approvals import run_approvals
from bot.services.types import BookingStatus
from storage.models import Booking
from tests.e2e.booking_steps import answer_of
from tests.support.clock_steps import book
from tests.support.harness import Harness
from tests.support.people import APPROVER, MANAGER, REQUESTER, SUPERVISOR

JSON = dict[str, Any]


def buttons(message: JSON) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


def approve_data(message: JSON) -> str:
    markup = message.get("reply_markup") or {}
    return next(
        button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if button.get("callback_data", "").endswith(":a")
    )


async def chase(h: Harness) -> int:
    """The approvals clock job once, then everything it queued delivered."""
    queued = await run_approvals(h.app.jobs)
    await h.settle()
    return queued


async def status_of(h: Harness, booking_id: int) -> str:
    async with h.app.db.transaction() as session:
        booking = await session.get(Booking, booking_id)
        assert booking is not None
        return booking.status


async def request_hall(h: Harness, day: int = 2, hour: int = 10, room: str = "r203") -> int:
    """A class-C request, waiting for approval; the approver has its message."""
    since = await h.emu.current_seq()
    view = await book(h, h.at(day, hour), room=room, layout="theatre", attendees=100, title="年度工作会")
    assert view.status == BookingStatus.pending
    await h.settle()
    await h.emu.wait_for_message(APPROVER, f"预订 #{view.id}", since=since, timeout=10)
    return view.id


async def test_a_request_is_reminded_then_escalated_and_the_manager_decides(harness: Harness) -> None:
    h = harness
    number = await request_hall(h)
    assert await chase(h) == 0  # 09:00: nothing is due yet

    h.clock.set(h.at(0, 10, 59))
    assert await chase(h) == 0
    since = await h.emu.current_seq()
    h.clock.set(h.at(0, 11))  # two working hours after the request
    assert await chase(h) == 1
    reminder = await h.emu.wait_for_message(APPROVER, "提醒：待审批", since=since, timeout=10)
    assert f"预订 #{number}" in reminder["text"] and "年度工作会" in reminder["text"]
    assert "✅ 批准" in buttons(reminder)
    assert await chase(h) == 0  # the claim was taken once: a second run finds nothing

    h.clock.set(h.at(0, 13))  # two working hours after the reminder
    since = await h.emu.current_seq()
    assert await chase(h) == 1
    escalated = await h.emu.wait_for_message(MANAGER, "上报：待审批", since=since, timeout=10)
    assert "年度工作会" in escalated["text"] and "✅ 批准" in buttons(escalated)
    assert not [text for text in await h.texts(SUPERVISOR) if "待审批" in text]

    since = await h.emu.current_seq()
    press = await h.press(MANAGER, "批准")
    assert (await answer_of(h, press))["text"] == "已批准。"
    await h.emu.wait_for_message(MANAGER, "已由周伟批准", since=since, timeout=10)
    await h.settle()
    await h.emu.wait_for_message(REQUESTER, "已获批准", since=since, timeout=10)
    # the approver's request and reminder now say what became of them, without buttons
    for message in await h.emu.bot_messages(APPROVER):
        if f"预订 #{number}" in (message.get("text") or ""):
            assert "已由周伟批准" in message["text"], message["text"]
            assert buttons(message) == []
    assert await status_of(h, number) == BookingStatus.confirmed
    h.clock.set(h.at(1, 10))
    assert await chase(h) == 0  # decided: nothing more is chased


async def test_two_instances_chasing_at_once_remind_once(harness: Harness) -> None:
    h = harness
    await request_hall(h)
    h.clock.set(h.at(0, 11))
    first, second = await asyncio.gather(run_approvals(h.app.jobs), run_approvals(h.app.jobs))
    assert first + second == 1
    await h.settle()
    reminders = [text for text in await h.texts(APPROVER) if "提醒：待审批" in text]
    assert len(reminders) == 1


async def test_approvals_lists_every_waiting_request_with_its_buttons(harness: Harness) -> None:
    h = harness
    numbers = [await request_hall(h, day=2 + index, hour=10) for index in range(6)]

    refused = await h.ask(REQUESTER, "/approvals", "供审批人")
    assert buttons(refused) == []
    followed = await h.ask(SUPERVISOR, "/approvals", "待审批")
    assert "共6项" in followed["text"] and "第1页，共2页" in followed["text"]
    assert not [label for label in buttons(followed) if "批准" in label]  # the supervisor only reads

    listing = await h.ask(APPROVER, "/approvals", "待审批")
    assert f"#{numbers[0]}" in listing["text"] and f"#{numbers[5]}" not in listing["text"]
    assert f"✅ 批准 #{numbers[0]}" in buttons(listing)
    later = await h.click(APPROVER, "后一页", f"#{numbers[5]}")
    assert "第2页，共2页" in later["text"]
    await h.click(APPROVER, "前一页", "第1页")

    press = await h.press(APPROVER, f"批准 #{numbers[0]}")
    assert (await answer_of(h, press))["text"] == "已批准。"
    updated = await h.emu.wait_for_message(APPROVER, "共5项", timeout=10)
    assert f"#{numbers[0]} " not in updated["text"]
    assert await status_of(h, numbers[0]) == BookingStatus.confirmed

    await h.click(APPROVER, f"驳回 #{numbers[1]}", f"驳回预订 #{numbers[1]} 的理由")
    await h.ask(APPROVER, "会场检修", "已驳回")
    await h.emu.wait_for_message(APPROVER, "共4项", timeout=10)
    assert await status_of(h, numbers[1]) == BookingStatus.rejected

    # someone who may not decide changes nothing, even with the list's own button data
    data = approve_data(updated)
    forged = await h.emu.click_button(SUPERVISOR, SUPERVISOR, followed["message_id"], data, forge=True)
    assert "只有审批人" in (await answer_of(h, forged))["text"]
    assert await status_of(h, numbers[2]) == BookingStatus.pending


async def test_the_requester_sees_the_state_and_withdraws_from_my(harness: Harness) -> None:
    h = harness
    number = await request_hall(h)
    request = await h.emu.last_bot_message(APPROVER)
    assert request is not None
    data = approve_data(request)
    h.clock.set(h.at(0, 11))
    assert await chase(h) == 1

    listing = await h.ask(REQUESTER, "/my", "预订")
    assert "自09:00起等待审批" in listing["text"] and "已于11:00提醒审批人" in listing["text"]
    detail = await h.click(REQUESTER, f"#{number}", "等待审批")
    assert "撤回申请" in str(buttons(detail))
    confirm = await h.click(REQUESTER, "撤回申请", "撤回这项申请吗")
    assert "确定撤回" in buttons(confirm)
    since = await h.emu.current_seq()
    press = await h.press(REQUESTER, "确定撤回")
    assert (await answer_of(h, press))["text"] == "申请已撤回。"
    await h.emu.wait_for_message(REQUESTER, "申请已撤回", since=since, timeout=10)
    await h.settle()
    assert await status_of(h, number) == BookingStatus.cancelled
    # the approver's request and reminder say it was withdrawn, without buttons
    for message in await h.emu.bot_messages(APPROVER):
        if f"预订 #{number}" in (message.get("text") or ""):
            assert "已由王敏撤回" in message["text"], message["text"]
            assert buttons(message) == []
    # a press on the old request changes nothing and says why
    stale = await h.emu.click_button(APPROVER, APPROVER, request["message_id"], data, forge=True)
    assert "申请人已撤回" in (await answer_of(h, stale))["text"]
    assert await status_of(h, number) == BookingStatus.cancelled
    # and a second withdraw from the old confirmation says so too
    again = await h.emu.click_button(
        REQUESTER,
        REQUESTER,
        confirm["message_id"],
        f"bk:{number}:wy:{_revision_of(confirm)}",
        forge=True,
    )
    assert "已经撤回" in (await answer_of(h, again))["text"]


def _revision_of(message: JSON) -> str:
    markup = message.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data", "")
            if ":wy:" in data:
                return str(data.rsplit(":", 1)[1])
    raise AssertionError("no withdraw button")


async def test_a_request_still_waiting_at_its_start_is_rejected_by_itself(harness: Harness) -> None:
    h = harness
    number = await request_hall(h, day=1, hour=10)  # tomorrow 10:00
    request = await h.emu.last_bot_message(APPROVER)
    assert request is not None
    data = approve_data(request)
    since = await h.emu.current_seq()
    # the bot was down from before the reminder until the start: only the rejection is left
    h.clock.set(h.at(1, 10))
    await chase(h)
    told = await h.emu.wait_for_message(REQUESTER, "自动", since=since, timeout=10)
    assert f"预订 #{number}" in told["text"] and "驳回" in told["text"]
    assert await status_of(h, number) == BookingStatus.rejected
    assert not [text for text in await h.texts(APPROVER) if "提醒：待审批" in text]
    edited = await h.emu.get_message(APPROVER, request["message_id"])
    assert "已自动驳回" in edited["text"] and buttons(edited) == []
    stale = await h.emu.click_button(APPROVER, APPROVER, request["message_id"], data, forge=True)
    assert "自动驳回" in (await answer_of(h, stale))["text"]
    assert await chase(h) == 0


async def test_withdraw_is_refused_once_decided(harness: Harness) -> None:
    h = harness
    number = await request_hall(h)
    await h.ask(REQUESTER, "/my", "预订")
    await h.click(REQUESTER, f"#{number}", "等待审批")
    confirm = await h.click(REQUESTER, "撤回申请", "撤回这项申请吗")
    await h.click(APPROVER, "批准", "已由孙建国批准")
    press = await h.emu.click_button(
        REQUESTER, REQUESTER, confirm["message_id"], f"bk:{number}:wy:{_revision_of(confirm)}"
    )
    assert "已处理" in (await answer_of(h, press))["text"]
    async with h.app.db.transaction() as session:
        booking = (await session.scalars(select(Booking).where(Booking.id == number))).one()
    assert booking.status == BookingStatus.confirmed


async def test_a_fresh_instance_takes_up_the_timers_from_the_database(harness: Harness) -> None:
    """As after a restart: a new instance (nothing in memory) reminds nothing twice and
    escalates on time, from what the database holds."""
    h = harness
    await request_hall(h)
    h.clock.set(h.at(0, 11))
    assert await chase(h) == 1  # the running instance reminds
    fresh = build_app(h.app.settings, h.site, h.clock)
    try:
        assert await run_approvals(fresh.jobs) == 0  # the reminder is not sent again
        h.clock.set(h.at(0, 13))
        assert await run_approvals(fresh.jobs) == 1  # the escalation, from the stored timer
        assert await run_approvals(h.app.jobs) == 0
    finally:
        await stop(fresh)
    await h.settle()
    assert len([text for text in await h.texts(APPROVER) if "提醒：待审批" in text]) == 1
    assert len([text for text in await h.texts(MANAGER) if "上报：待审批" in text]) == 1


async def test_help_names_approvals_to_those_who_may_use_it(harness: Harness) -> None:
    h = harness
    approver = await h.ask(APPROVER, "/help", "使用说明")
    assert "/approvals" in approver["text"] and "等待您决定" in approver["text"]
    await h.ask(APPROVER, "/language en", "Language set to English.")
    approver = await h.ask(APPROVER, "/help", "What I can do")
    assert "/approvals — the requests waiting for your decision" in approver["text"]
    supervisor = await h.ask(SUPERVISOR, "/help", "使用说明")
    assert "/approvals" in supervisor["text"] and "（只读）" in supervisor["text"]
    requester = await h.ask(REQUESTER, "/help", "使用说明")
    assert "/approvals" not in requester["text"]
