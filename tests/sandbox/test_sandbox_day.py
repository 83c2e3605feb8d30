"""A day in the sandbox over its HTTP API: a persona checks in when prompted, a meeting nobody
checks in to is released, a waiting approval is reminded then escalated, and every room's door
display is served by the sandbox and follows its clock. Only the page's clock buttons move
time; each message must carry the moment it was due, which shows the clock stopped there.

The sandbox starts on Tuesday 1 December 2026 at 09:00 (Asia/Shanghai); office hours are
09:00-17:00 and both approval waits two working hours (examples/site.toml).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from bot.sandbox.runtime import Sandbox
from bot.services.booking import BookingService
from bot.services.types import BookingStatus
from storage.models import Booking
from tests.sandbox.conftest import SHANGHAI, START, Client
from tests.support.factories import booking_request

WANG_MIN, LI_QIANG, APPROVER, SUPERVISOR, MANAGER = 1001, 3001, 2101, 2201, 2301
TEA_GROUP = -1001
CHECK_IN = "✅ 签到"


async def ok(response: Any, status: int = 200) -> dict[str, Any]:
    body = await response.json()
    assert response.status == status, body
    return body


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return START.replace(hour=hour, minute=minute) + timedelta(days=day)


async def book(
    sandbox: Sandbox, start: datetime, *, room: str = "r101", attendees: int = 10, title: str = "周例会"
) -> int:
    """A two-hour meeting of 王敏's, made straight through the bot's booking service."""
    assert sandbox.app is not None
    service: BookingService = sandbox.app.dispatcher.workflow_data["booking_service"]
    site_room = sandbox.site.room(room)
    assert site_room is not None
    request = booking_request(
        start,
        duration=timedelta(hours=2),
        room_id=room,
        attendees=attendees,
        layout=site_room.layouts[0],
        title=title,
        contact_phone="13800000000",
        services={"tea": {"refill_minutes": 30}},
    )
    async with sandbox.app.db.transaction() as session:
        outcome = await service.create(session, request)
        await sandbox.app.workers.delivery.deliver(session, outcome.notices)
    return outcome.booking.id


async def move(client: Client, minutes: float) -> dict[str, Any]:
    return await ok(await client.post("/api/clock", json={"action": "forward", "minutes": minutes}))


async def bot_messages(client: Client, user_id: int, chat_id: int, mark: str) -> list[dict[str, Any]]:
    history = await ok(await client.get(f"/api/chats/{chat_id}/messages", params={"user_id": user_id}))
    return [m for m in history["messages"] if m["sender"] == "bot" and mark in (m.get("text") or "")]


async def bot_message(client: Client, user_id: int, chat_id: int, mark: str) -> dict[str, Any]:
    """The first of the bot's messages in the chat (as ``user_id`` sees it) that contains ``mark``."""
    for _ in range(100):
        found = await bot_messages(client, user_id, chat_id, mark)
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {mark!r} in chat {chat_id}")


def sent_at(message: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(message["sandbox_date"], SHANGHAI)


def close_to(moment: datetime, expected: datetime) -> bool:
    """Within the real seconds the test itself takes (the sandbox's clock keeps running)."""
    return abs(moment - expected) < timedelta(seconds=30)


async def stored(sandbox: Sandbox, booking_id: int) -> Booking:
    assert sandbox.app is not None
    async with sandbox.app.db.transaction() as session:
        booking = await session.get(Booking, booking_id)
        assert booking is not None
        return booking


# ---- check-in and no-show --------------------------------------------------------------------------
async def test_a_persona_checks_in_from_the_prompt_and_the_meeting_is_kept(
    unthrottled: tuple[Sandbox, Client],
) -> None:
    sandbox, client = unthrottled
    number = await book(sandbox, at(0, 11))
    await move(client, 115)  # to 10:55: the prompt came at 10:50, ten minutes before the start
    prompt = await bot_message(client, WANG_MIN, WANG_MIN, "会议签到")
    assert f"预订 #{number}" in prompt["text"]
    assert close_to(sent_at(prompt), at(0, 10, 50)), sent_at(prompt)

    button = next(b for b in prompt["buttons"] if b["text"] == CHECK_IN)
    await ok(
        await client.post(
            f"/api/chats/{WANG_MIN}/press",
            json={"user_id": WANG_MIN, "message_id": prompt["message_id"], "data": button["callback_data"]},
        )
    )
    for _ in range(100):
        if (await stored(sandbox, number)).checkin_state == "checked_in":
            break
        await asyncio.sleep(0.1)
    booking = await stored(sandbox, number)
    assert booking.checkin_state == "checked_in" and booking.checked_in_by == WANG_MIN

    await move(client, 40)  # 11:35: past the release time, and nothing is released
    assert (await stored(sandbox, number)).status != BookingStatus.no_show
    assert await bot_messages(client, WANG_MIN, WANG_MIN, "已释放") == []


async def test_a_meeting_nobody_checks_in_to_is_released_with_its_teams_told(
    unthrottled: tuple[Sandbox, Client],
) -> None:
    sandbox, client = unthrottled
    number = await book(sandbox, at(0, 11))
    await move(client, 140)  # to 11:20
    told = await bot_message(client, WANG_MIN, WANG_MIN, f"预订 #{number} 已释放")
    assert "无人签到" in told["text"] and "11:15" in told["text"]
    assert close_to(sent_at(told), at(0, 11, 15)), sent_at(told)
    team = await bot_message(client, LI_QIANG, TEA_GROUP, "会议已取消")
    assert "会议室已释放" in team["text"]
    assert close_to(sent_at(team), at(0, 11, 15)), sent_at(team)
    assert (await stored(sandbox, number)).status == BookingStatus.no_show
    # the door shows the room free again, in the middle of the meeting's time
    room = next(room for room in (await ok(await client.get("/api/rooms")))["rooms"] if room["id"] == "r101")
    door = await ok(await client.get(room["display"].replace("/display?", "/display.json?")))
    assert door["state"] == "free" and door["time"].startswith("11:2")


# ---- approvals that chase --------------------------------------------------------------------------
async def test_a_waiting_approval_is_reminded_then_escalated_and_the_supervisor_follows(
    unthrottled: tuple[Sandbox, Client],
) -> None:
    sandbox, client = unthrottled
    number = await book(sandbox, at(2, 10), room="r203", attendees=100, title="年度工作会")
    assert (await stored(sandbox, number)).status == BookingStatus.pending
    await bot_message(client, APPROVER, APPROVER, f"预订 #{number}")

    await move(client, 125)  # to 11:05: two working hours after the request
    reminder = await bot_message(client, APPROVER, APPROVER, "提醒：待审批")
    assert f"预订 #{number}" in reminder["text"]
    assert close_to(sent_at(reminder), at(0, 11)), sent_at(reminder)
    assert await bot_messages(client, MANAGER, MANAGER, "上报：待审批") == []

    await move(client, 120)  # to 13:05: two working hours after the reminder
    escalated = await bot_message(client, MANAGER, MANAGER, "上报：待审批")
    assert "年度工作会" in escalated["text"]
    assert any("批准" in button["text"] for button in escalated["buttons"])
    assert close_to(sent_at(escalated), at(0, 13)), sent_at(escalated)

    await ok(
        await client.post(
            f"/api/chats/{SUPERVISOR}/messages", json={"user_id": SUPERVISOR, "text": "/approvals"}
        )
    )
    listing = await bot_message(client, SUPERVISOR, SUPERVISOR, f"#{number}")
    assert "待审批" in listing["text"]


# ---- door displays ---------------------------------------------------------------------------------
async def test_every_room_links_a_door_display_that_follows_the_sandbox_clock(
    client: Client, sandbox: Sandbox
) -> None:
    rooms = (await ok(await client.get("/api/rooms")))["rooms"]
    assert [room["id"] for room in rooms] == [room.id for room in sandbox.site.rooms]
    for room in rooms:
        for language in ("zh", "en"):
            page = await client.get(f"{room['display']}&lang={language}")
            assert page.status == 200, room
            assert room["name"][language] in await page.text()
    forged = await client.get(f"/rooms/{rooms[0]['id']}/display", params={"token": "x" * 24})
    assert forged.status == 403

    first = rooms[0]
    state_url = first["display"].replace("/display?", "/display.json?") + "&lang=en"
    before = await ok(await client.get(state_url))
    assert before["state"] == "free" and before["time"].startswith("09:0")
    await book(sandbox, at(0, 11), room=first["id"], title="预算评审")
    await move(client, 125)  # 11:05, inside the meeting
    during = await ok(await client.get(state_url))
    assert during["state"] == "busy" and during["time"].startswith("11:0")
