"""Shared steps for the booking end-to-end tests (people of examples/site.toml)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.services.booking import BookingService
from bot.services.types import BookingView
from tests.support.factories import booking_request
from tests.support.harness import Harness
from tests.support.people import ALICE

JSON = dict[str, Any]


async def english_to_summary(
    h: Harness,
    user: int = ALICE,
    *,
    day: str = "2026-12-03",
    start: str = "10:00",
    end: str = "12:00",
    count: str = "12",
    room: str = "Meeting Room 1",
    layout: str = "Discussion",
    title: str = "Budget review",
) -> JSON:
    """An English speaker goes through the wizard by typing, up to the summary."""
    await h.ask(user, "/book", "Which day")
    await h.ask(user, day, "when does the meeting start")
    await h.ask(user, start, "When does it end")
    await h.ask(user, end, "How many people")
    await h.ask(user, count, "Rooms free")
    await h.click(user, room, "How should")
    await h.click(user, layout, "Reception level")
    await press_exact(h, user, "3", "Which services")
    await h.click(user, "Done", "title of the meeting")
    await h.ask(user, title, "contact person")
    await h.ask(user, "Alice Chen", "phone number")
    await h.ask(user, "010-6512 3456", "confidential")
    await press_exact(h, user, "No", "notes")
    return await h.click(user, "No notes", "check your booking")


async def press_exact(h: Harness, user: int, label: str, expect: str) -> JSON:
    since = await h.emu.current_seq()
    await h.emu.press_button(user, user, label, exact=True)
    return await h.emu.wait_for_message(user, expect, since=since, timeout=10)


def service(h: Harness) -> BookingService:
    return h.app.dispatcher.workflow_data["booking_service"]


async def book_directly(
    h: Harness,
    *,
    room: str = "r101",
    start: datetime,
    hours: float = 2,
    requester: int = ALICE,
    department: str = "office",
    layout: str = "discussion",
    attendees: int = 10,
    title: str = "Existing meeting",
) -> BookingView:
    """A booking made through the service, as if someone had just booked it in the bot."""
    request = booking_request(
        start,
        requester_id=requester,
        duration=timedelta(hours=hours),
        department_id=department,
        room_id=room,
        attendees=attendees,
        layout=layout,
        title=title,
        contact_name="Someone",
        contact_phone="010-1234 5678",
    )
    async with h.app.db.transaction() as session:
        outcome = await service(h).create(session, request)
    return outcome.booking


async def answer_of(h: Harness, press: JSON) -> JSON:
    """The bot's answer to a button press (text, show_alert)."""
    return await h.emu.wait_for_callback_answer(press["callback_query_id"], timeout=10)
