"""Each room's schedule as an iCalendar feed (RFC 5545), for ``/ics <room>``.

The feed holds the room's bookings from :data:`PAST` ago to :data:`AHEAD` ahead (pending ones
TENTATIVE). What an event says depends on who asks, as
:func:`bot.services.visibility.meeting_view` decides for a file (a calendar is synced and
forwarded): the title and unit of an ordinary meeting for the organising department, the
centre's roles and the teams' staff; of a confidential meeting for its own department only.
Anyone else is told only that the room is taken. The words are chosen by the caller
(``Wording``), in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.clock import Clock
from bot.services.visibility import Medium, MeetingFacts, audience_of, meeting_view, needs_approval
from bot.site import Room, SiteConfig
from storage.repositories.aftercare import AftercareRepository

PAST = timedelta(days=30)
AHEAD = timedelta(days=180)
FEED_STATUSES = ("pending", "confirmed", "in_progress", "finished")


@dataclass(frozen=True)
class CalendarEntry:
    booking_id: int
    revision: int
    status: str
    start: datetime
    end: datetime
    title: str | None
    """None when the reader may not see it."""
    department_id: str | None
    attendees: int
    confidential: bool


@dataclass(frozen=True)
class Wording:
    calendar_name: str
    location: str
    describe: Callable[[CalendarEntry], tuple[str, str]]
    """An entry's summary and description, in the reader's language."""


def find_room(site: SiteConfig, text: str) -> Room | None:
    """A room by id, alias or name in either language (case and spaces do not matter)."""
    wanted = " ".join(text.lower().split())
    if not wanted:
        return None
    for room in site.rooms:
        names = {room.id, room.name.zh, room.name.en, *room.aliases}
        if wanted in {" ".join(name.lower().split()) for name in names}:
            return room
    return None


class CalendarService:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self.site = site
        self.clock = clock

    async def entries(
        self, session: AsyncSession, room_id: str, viewer_id: int | None, viewer_department: str | None
    ) -> list[CalendarEntry]:
        """The room's bookings as the viewer may read them in a file (None: nobody in particular)."""
        now = self.clock.now()
        rows = await AftercareRepository(session).bookings_of_room(
            room_id, now - PAST, now + AHEAD, FEED_STATUSES
        )
        audience = audience_of(self.site, viewer_id, viewer_department, Medium.report)
        entries = []
        for row in rows:
            facts = MeetingFacts(
                row.department_id,
                row.title,
                row.confidential,
                needs_approval=needs_approval(self.site, row.room_id, row.layout),
            )
            visible = meeting_view(facts, audience)
            entries.append(
                CalendarEntry(
                    booking_id=row.id,
                    revision=row.revision,
                    status=row.status,
                    start=row.start_at,
                    end=row.end_at,
                    title=visible.title,
                    department_id=visible.department_id,
                    attendees=row.attendees,
                    confidential=row.confidential,
                )
            )
        return entries

    def feed(self, room: Room, entries: list[CalendarEntry], wording: Wording) -> bytes:
        from icalendar import Calendar, Event  # imported on the first /ics, not at start-up

        calendar = Calendar()
        calendar.add("prodid", "-//Huiwu//Meeting rooms//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", wording.calendar_name)
        calendar.add("x-wr-timezone", self.site.site.timezone)
        stamp = self.clock.now()
        for entry in entries:
            summary, description = wording.describe(entry)
            event = Event()
            event.add("uid", f"booking-{entry.booking_id}@{self.site.site.bot_username}")
            event.add("dtstamp", stamp)
            event.add("dtstart", entry.start)
            event.add("dtend", entry.end)
            event.add("sequence", entry.revision)
            event.add("summary", summary)
            if description:
                event.add("description", description)
            event.add("location", wording.location)
            event.add("status", "TENTATIVE" if entry.status == "pending" else "CONFIRMED")
            event.add("transp", "OPAQUE")
            if entry.confidential:
                event.add("class", "CONFIDENTIAL")
            calendar.add_component(event)
        return calendar.to_ical()
