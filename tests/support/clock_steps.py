"""Steps of the end-to-end tests that book meetings straight through the booking service and
move the clock: the digest, the weekly report, after-care, late changes, delivery paths."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.jobs import run_clock_jobs
from bot.services.booking import BookingService
from bot.services.types import BookingView
from storage.models import OutboxMessage
from tests.support.factories import booking_request
from tests.support.harness import Harness
from tests.support.people import REQUESTER

JSON = dict[str, Any]


async def book(
    h: Harness,
    start: datetime,
    minutes: int = 120,
    *,
    room: str = "r101",
    requester: int = REQUESTER,
    department: str = "finance",
    attendees: int = 10,
    layout: str | None = None,
    level: int = 3,
    title: str = "季度工作会",
    confidential: bool = False,
    services: dict[str, dict[str, Any]] | None = None,
) -> BookingView:
    """A booking made straight through the booking service (its tasks are planned as usual)."""
    service: BookingService = h.app.dispatcher.workflow_data["booking_service"]
    site_room = h.site.room(room)
    assert site_room is not None
    request = booking_request(
        start,
        requester_id=requester,
        duration=timedelta(minutes=minutes),
        department_id=department,
        room_id=room,
        attendees=attendees,
        layout=layout or site_room.layouts[0],
        reception_level=level,
        title=title,
        contact_name="联系人",
        contact_phone="13800000000",
        confidential=confidential,
        services=services if services is not None else {"tea": {"refill_minutes": 30}, "water": {}},
    )
    async with h.app.db.transaction() as session:
        outcome = await service.create(session, request)
        await h.app.workers.delivery.deliver(session, outcome.notices)
    return outcome.booking


async def drain(h: Harness, seconds: float = 10.0) -> None:
    """Settle until the outbox holds nothing that may go now (the sender's per-second budget
    can leave rows for the next second)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        await h.settle()
        async with h.app.db.transaction() as session:
            waiting = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))
                .where(OutboxMessage.not_before <= h.clock.now())
            )
        if not waiting or loop.time() > deadline:
            return
        await asyncio.sleep(0.2)


async def clock_jobs(h: Harness) -> int:
    """Run the clock jobs at the harness's time, then deliver what they queued."""
    await h.settle()
    queued = await run_clock_jobs(h.app.jobs)
    await drain(h)
    return queued


async def move_to(h: Harness, moment: datetime) -> None:
    """Move the clock to ``moment`` (task timers fire on the way), then run the clock jobs."""
    delta = moment - h.clock.now()
    assert delta >= timedelta(0), "the clock only moves forward"
    await h.advance(seconds=delta.total_seconds())
    await clock_jobs(h)


async def new_messages(h: Harness, chat_id: int, since: int) -> list[JSON]:
    page = await h.emu.history(chat_id, since=since, sender="bot")
    return [m for m in page["messages"] if not m.get("deleted")]


def text_of(message: JSON) -> str:
    return str(message.get("text") or message.get("caption") or "")
