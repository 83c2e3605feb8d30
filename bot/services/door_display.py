"""What the screen at a room's door shows: the meeting on now, the rest of today, how long the
room stays free, and where its QR code leads.

The screen is public (whoever walks past reads it), so each meeting is read by
:meth:`Audience.passer_by` (bot/services/visibility.py): the title and unit of an ordinary
meeting, nothing but "booked" and its time for a confidential one, never a phone number or
notes. "Today" and every time are the site's zone; "now" is the injected clock.

The QR code checks in to the meeting on now, or to the next one once its check-in window is
open (:data:`CHECKIN_OPENS_BEFORE` before its start); otherwise it books this room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.clock import Clock
from bot.services.deep_links import book_room_link, checkin_link
from bot.services.visibility import Audience, MeetingFacts, meeting_view, needs_approval
from bot.site import Room, SiteConfig
from storage.repositories.aftercare import AftercareRepository

DISPLAY_STATUSES = ("pending", "confirmed", "in_progress")
"""The bookings that hold the room (a pending one waits for approval but holds it already)."""
CHECKIN_OPENS_BEFORE = timedelta(minutes=10)
"""How long before its start a meeting's check-in opens (docs/product.md §2: ten minutes)."""


@dataclass(frozen=True)
class DoorMeeting:
    booking_id: int
    start: datetime
    end: datetime
    title: str | None
    """None for a confidential meeting: the screen says only that the room is booked."""
    department_id: str | None
    pending: bool
    """Still waiting for approval."""


@dataclass(frozen=True)
class DoorState:
    room: Room
    now: datetime
    current: DoorMeeting | None
    """The meeting on now (None: the room is free)."""
    later: tuple[DoorMeeting, ...]
    """Today's meetings after the current one (or after now), in order."""
    free_until: datetime | None
    """While free: the start of the next meeting today; None: free for the rest of the day."""
    busy_until: datetime | None
    """While in use: the end of the current meeting, or of the meetings that follow it with
    no free time between."""
    checkin: DoorMeeting | None
    """The meeting the QR code checks in to; None: the code books the room."""
    link: str


class DoorDisplayService:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self.site = site
        self.clock = clock

    def end_of_day(self, now: datetime) -> datetime:
        local = now.astimezone(self.site.zone)
        return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=self.site.zone)

    async def state(self, session: AsyncSession, room: Room) -> DoorState:
        now = self.clock.now()
        rows = await AftercareRepository(session).bookings_of_room(
            room.id, now, self.end_of_day(now), DISPLAY_STATUSES
        )
        audience = Audience.passer_by()
        meetings = []
        for row in rows:
            facts = MeetingFacts(
                row.department_id,
                row.title,
                row.confidential,
                needs_approval=needs_approval(self.site, row.room_id, row.layout),
            )
            shown = meeting_view(facts, audience)
            meetings.append(
                DoorMeeting(
                    booking_id=row.id,
                    start=row.start_at,
                    end=row.end_at,
                    title=shown.title,
                    department_id=shown.department_id,
                    pending=row.status == "pending",
                )
            )
        meetings.sort(key=lambda meeting: (meeting.start, meeting.booking_id))
        current = next((m for m in meetings if m.start <= now < m.end), None)
        later = tuple(m for m in meetings if m.start > now and m is not current)
        free_until = None if current is not None or not later else later[0].start
        busy_until = None
        if current is not None:
            busy_until = current.end
            for meeting in later:  # back to back: the room is not free between them
                if meeting.start > busy_until:
                    break
                busy_until = max(busy_until, meeting.end)
        checkin = current
        if checkin is None and later and later[0].start - now <= CHECKIN_OPENS_BEFORE:
            checkin = later[0]
        link = checkin_link(self.site, checkin.booking_id) if checkin else book_room_link(self.site, room.id)
        return DoorState(room, now, current, later, free_until, busy_until, checkin, link)
