"""Shared helpers of the security tests: database snapshots, forged presses, chat scans."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import Booking, Task
from tests.support.harness import Harness
from tests.support.people import AV_GROUP, CLEANING_GROUP, HOTLINE_GROUP, SECURITY_GROUP, SERVICE_GROUP

JSON = dict[str, Any]
# the teams' groups by the short names the security tests use
SERVICE, AV, SECURITY = SERVICE_GROUP, AV_GROUP, SECURITY_GROUP
CLEANING, HOTLINE = CLEANING_GROUP, HOTLINE_GROUP
GROUPS = (SERVICE, AV, SECURITY, CLEANING, HOTLINE)

BOOKING_COLUMNS = (
    "id",
    "status",
    "revision",
    "department_id",
    "requester_id",
    "room_id",
    "start_at",
    "end_at",
    "attendees",
    "layout",
    "title",
    "notes",
    "services",
    "confidential",
    "decided_by_id",
)
TASK_COLUMNS = ("id", "status", "stage", "steps", "push_at", "due_at", "confirmed_by_id")


async def snapshot(h: Harness) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What nobody without the right may change: every booking and task, column by column."""
    async with h.app.db.transaction() as session:
        bookings = (await session.scalars(select(Booking).order_by(Booking.id))).all()
        tasks = (await session.scalars(select(Task).order_by(Task.id))).all()
        return (
            [tuple(getattr(b, c) for c in BOOKING_COLUMNS) for b in bookings],
            [tuple(getattr(t, c) for c in TASK_COLUMNS) for t in tasks],
        )


async def anchor(h: Harness, user_id: int, chat_id: int) -> int:
    """A bot message in the chat to hang a forged press on (the user says /help if none)."""
    message = await h.emu.last_bot_message(chat_id)
    if message is None:
        since = await h.emu.current_seq()
        await h.emu.send_message(user_id, "/help", chat_id=None if chat_id == user_id else chat_id)
        message = await h.emu.wait_for_message(chat_id, None, since=since, timeout=10)
    return int(message["message_id"])


async def forge(h: Harness, user_id: int, chat_id: int, data: str) -> JSON:
    """Press a button with arbitrary data; the bot's answer (it must answer)."""
    message_id = await anchor(h, user_id, chat_id)
    click = await h.emu.click_button(user_id, chat_id, message_id, data, forge=True)
    return await h.emu.wait_for_callback_answer(click["callback_query_id"], timeout=10)


def text_of(message: JSON) -> str:
    return str(message.get("text") or message.get("caption") or "")


async def every_bot_text(h: Harness) -> dict[int, list[str]]:
    """Every message the bot has in every chat the emulator knows (deleted ones included)."""
    found: dict[int, list[str]] = {}
    for chat in await h.emu.chats():
        chat_id = int(chat["id"])
        messages = await h.emu.bot_messages(chat_id, include_deleted=True)
        found[chat_id] = [text_of(m) + "\n" + repr(m.get("reply_markup") or "") for m in messages]
    return found
