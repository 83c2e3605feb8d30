"""Check-in and no-show release end to end through the emulator (docs/product.md §2): the
prompt ten minutes before, Check in and We are running late keep the booking, nobody checking
in releases it at start + 15 with its teams told, its tasks cancelled and the room bookable
again, a stranger's press changes nothing, the door's deep link checks in, the prompts the
others got then say who checked in (without buttons), and /my shows each meeting's check-in.

The harness starts on Tuesday 1 December 2026 at 09:00 (Asia/Shanghai); the meetings are in
第一会议室 (class A) at 11:00 with tea and water, so the service team has tasks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.jobs import run_clock_jobs
from bot.services.deep_links import CHECKIN_PAYLOAD
from bot.services.types import BookingStatus
from storage.models import Booking, Task
from tests.e2e.booking_steps import answer_of
from tests.e2e.invite_steps import join_department
from tests.support.clock_steps import book
from tests.support.harness import Harness
from tests.support.people import ALICE, REQUESTER, SERVICE_GROUP

JSON = dict[str, Any]


def buttons(message: JSON) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


async def jobs(h: Harness) -> int:
    queued = await run_clock_jobs(h.app.jobs)
    await h.settle()
    return queued


async def booking_row(h: Harness, booking_id: int) -> Booking:
    async with h.app.db.transaction() as session:
        booking = await session.get(Booking, booking_id)
        assert booking is not None
        return booking


async def open_tasks(h: Harness, booking_id: int) -> list[str]:
    async with h.app.db.transaction() as session:
        rows = await session.scalars(select(Task.status).where(Task.booking_id == booking_id))
        return [status for status in rows if status in ("planned", "open", "problem")]


async def prompted_meeting(h: Harness) -> tuple[int, JSON]:
    """A meeting at 11:00 and, at 10:50, its Check in prompt in the requester's chat."""
    view = await book(h, h.at(0, 11), title="周例会")
    await h.settle()
    h.clock.set(h.at(0, 10, 49))
    await jobs(h)
    assert not [text for text in await h.texts(REQUESTER) if "会议签到" in text]
    since = await h.emu.current_seq()
    h.clock.set(h.at(0, 10, 50))
    await jobs(h)
    prompt = await h.emu.wait_for_message(REQUESTER, "会议签到", since=since, timeout=10)
    assert f"预订 #{view.id}" in prompt["text"] and "周例会" in prompt["text"]
    assert buttons(prompt) == ["✅ 签到", "⏳ 我们会晚到"]
    return view.id, prompt


async def test_the_prompt_arrives_ten_minutes_before_and_check_in_keeps_it(harness: Harness) -> None:
    h = harness
    number, _prompt = await prompted_meeting(h)
    await jobs(h)
    assert len([text for text in await h.texts(REQUESTER) if "会议签到" in text]) == 1  # once

    edited = await h.click(REQUESTER, "✅ 签到", "已为预订")
    assert buttons(edited) == []
    h.clock.set(h.at(0, 11, 30))
    await jobs(h)
    stored = await booking_row(h, number)
    assert stored.status != BookingStatus.no_show and stored.checkin_state == "checked_in"
    assert stored.checked_in_by == REQUESTER
    assert not [text for text in await h.texts(REQUESTER) if "已释放" in text]


async def test_nobody_checks_in_and_the_room_is_released(harness: Harness) -> None:
    h = harness
    number, _prompt = await prompted_meeting(h)
    h.clock.set(h.at(0, 11, 14))
    await jobs(h)
    assert await open_tasks(h, number)  # the tea service's refills, the clean-up after
    assert (await booking_row(h, number)).status != BookingStatus.no_show

    since = await h.emu.current_seq()
    h.clock.set(h.at(0, 11, 15))
    await jobs(h)
    told = await h.emu.wait_for_message(REQUESTER, f"预订 #{number} 已释放", since=since, timeout=10)
    assert "无人签到" in told["text"] and "11:15" in told["text"]
    team = await h.emu.wait_for_message(SERVICE_GROUP, "会议已取消", since=since, timeout=10)
    assert "会议室已释放" in team["text"]
    assert (await booking_row(h, number)).status == BookingStatus.no_show
    assert await open_tasks(h, number) == []

    # a press after the release changes nothing and says why
    press = await h.press(REQUESTER, "✅ 签到")
    assert "已按未到场释放" in (await answer_of(h, press))["text"]
    assert (await booking_row(h, number)).status == BookingStatus.no_show

    # the room is bookable again for the rest of the meeting's time
    again = await book(h, h.at(0, 12, 30), minutes=60, title="临时会")
    assert again.status == BookingStatus.confirmed


async def test_running_late_keeps_it(harness: Harness) -> None:
    h = harness
    number, _prompt = await prompted_meeting(h)
    h.clock.set(h.at(0, 11, 5))
    edited = await h.click(REQUESTER, "我们会晚到", "推迟开始")
    assert "✅ 签到" in buttons(edited)  # they can still check in when they arrive
    h.clock.set(h.at(0, 11, 20))
    await jobs(h)
    stored = await booking_row(h, number)
    assert stored.status != BookingStatus.no_show and stored.checkin_state == "late"


async def test_a_strangers_press_changes_nothing(harness: Harness) -> None:
    h = harness
    number, prompt = await prompted_meeting(h)
    data = next(
        button["callback_data"]
        for row in prompt["reply_markup"]["inline_keyboard"]
        for button in row
        if button["text"] == "✅ 签到"
    )
    # Alice (another department) presses the same button data, on a message in her own chat
    welcome = await h.ask(ALICE, "/start", "/book")
    press = await h.emu.click_button(ALICE, ALICE, welcome["message_id"], data, forge=True)
    answer = await answer_of(h, press)
    assert answer.get("show_alert") and "can check in" in answer["text"]
    assert (await booking_row(h, number)).checkin_state == "prompted"


async def test_the_door_deep_link_checks_in(harness: Harness) -> None:
    h = harness
    view = await book(h, h.at(0, 11), title="周例会")
    await h.settle()
    h.clock.set(h.at(0, 10, 55))
    reply = await h.ask(REQUESTER, f"/start {CHECKIN_PAYLOAD}{view.id}", "已为预订")
    assert f"#{view.id}" in reply["text"]
    assert (await booking_row(h, view.id)).checkin_state == "checked_in"
    h.clock.set(h.at(0, 11, 20))
    await jobs(h)
    assert (await booking_row(h, view.id)).status != BookingStatus.no_show


COLLEAGUE = 9003
"""Joins the finance department by invite and reads English: prompted beside 王敏."""


async def with_a_colleague(h: Harness) -> None:
    await h.emu.create_user(COLLEAGUE, "Lin", language_code="en")
    await join_department(h, COLLEAGUE, "finance")
    await h.ask(COLLEAGUE, "/language en", "Language set to English.")  # notices follow the choice


async def test_a_check_in_edits_the_prompts_the_others_got(harness: Harness) -> None:
    h = harness
    await with_a_colleague(h)
    number, prompt = await prompted_meeting(h)
    theirs = await h.emu.wait_for_message(COLLEAGUE, "Check in", since=0, timeout=10)
    assert buttons(theirs) == ["✅ Check in", "⏳ We are running late"]

    since = await h.emu.current_seq()
    await h.click(REQUESTER, "✅ 签到", "已为预订")
    await h.settle()
    edited = await h.emu.wait_for_message(COLLEAGUE, "Checked in by 王敏", since=since, timeout=10)
    assert edited["message_id"] == theirs["message_id"] and buttons(edited) == []
    assert f"booking #{number}" in edited["text"] and "10:50" in edited["text"]
    # the presser's own prompt shows the handler's answer, not the outbox's edit
    mine = next(m for m in await h.emu.bot_messages(REQUESTER) if m["message_id"] == prompt["message_id"])
    assert "已为预订" in mine["text"]


async def test_running_late_edits_the_others_prompts_in_their_language(harness: Harness) -> None:
    h = harness
    await with_a_colleague(h)
    _number, prompt = await prompted_meeting(h)
    await h.emu.wait_for_message(COLLEAGUE, "Check in", since=0, timeout=10)
    h.clock.set(h.at(0, 11, 5))
    since = await h.emu.current_seq()
    late = await h.click(COLLEAGUE, "running late", "running late")
    assert "✅ Check in" in buttons(late)  # the presser can still check in on arrival
    await h.settle()
    edited = await h.emu.wait_for_message(REQUESTER, "Lin", since=since, timeout=10)
    assert edited["message_id"] == prompt["message_id"] and buttons(edited) == []
    assert "Lin于11:05说明会议推迟开始" in edited["text"]


async def test_my_shows_the_check_in(harness: Harness) -> None:
    h = harness
    number, _prompt = await prompted_meeting(h)
    await h.click(REQUESTER, "✅ 签到", "已为预订")
    listing = await h.ask(REQUESTER, "/my", f"#{number}")
    assert "王敏已于10:50签到" in listing["text"]
    await h.ask(REQUESTER, "/language en", "Language set to English.")
    listing = await h.ask(REQUESTER, "/my", f"#{number}")
    assert "Checked in by 王敏 at 10:50." in listing["text"]
    detail = await h.click(REQUESTER, f"#{number}", "Checked in by")
    assert "Checked in by 王敏 at 10:50." in detail["text"]


async def test_my_details_of_a_released_meeting_say_so(harness: Harness) -> None:
    h = harness
    number, _prompt = await prompted_meeting(h)
    await h.ask(REQUESTER, "/my", f"#{number}")  # its button stays in the chat
    h.clock.set(h.at(0, 11, 15))
    await jobs(h)
    detail = await h.click(REQUESTER, f"#{number} ·", "未到场")
    assert "11:15" in detail["text"]
