"""Ready-made domain objects for tests: one place for the fields a test does not care about.

A test names only what it is about (the room, the time, the number of attendees); the rest is
an ordinary booking of the example site's finance department by 王敏.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.services.booking import BookingRequest
from tests.support.people import WANG


def booking_request(
    start: datetime,
    *,
    end: datetime | None = None,
    duration: timedelta = timedelta(hours=1),
    department_id: str = "finance",
    requester_id: int = WANG,
    booked_by_id: int | None = None,
    room_id: str = "r101",
    attendees: int = 10,
    layout: str = "discussion",
    reception_level: int = 3,
    title: str = "预算评审",
    contact_name: str = "王敏",
    contact_phone: str = "010-6512 3456",
    confidential: bool = False,
    notes: str = "",
    services: dict[str, dict[str, Any]] | None = None,
) -> BookingRequest:
    """A request from ``start`` for ``duration`` (or until ``end``), booked by the requester."""
    return BookingRequest(
        department_id=department_id,
        requester_id=requester_id,
        booked_by_id=requester_id if booked_by_id is None else booked_by_id,
        room_id=room_id,
        start=start,
        end=start + duration if end is None else end,
        attendees=attendees,
        layout=layout,
        reception_level=reception_level,
        title=title,
        contact_name=contact_name,
        contact_phone=contact_phone,
        confidential=confidential,
        notes=notes,
        services={} if services is None else services,
    )
