"""What the screen at a room's door shows: the meeting on now, the rest of today, how long the
room stays free, and where its QR code leads.

The screen is public (whoever walks past reads it), so each meeting is read by
:meth:`Audience.passer_by` (bot/services/visibility.py): the title and unit of an ordinary
meeting, nothing but "booked" and its time for a confidential one, never a phone number or
notes. "Today" and every time are the site's zone; "now" is the injected clock.

The QR code checks in to the meeting on now, or to the next one once its check-in window is
open (the site's ``[checkin] prompt_minutes`` before its start, when the Check in prompts go
out: the code and the prompt open together); otherwise it books this room.

Which token opens a room's display: the one a site admin issued in chat (``/display
<room>``; only its SHA-256 digest is stored, storage/models/displays.py), else the site
file's ``display_token``. Issuing a new token replaces the old one at once (a tablet lost).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.clock import Clock
from bot.services.deep_links import book_room_link, checkin_link
from bot.services.visibility import Audience, MeetingFacts, meeting_view, needs_approval
from bot.site import Room, SiteConfig
from storage.repositories.aftercare import AftercareRepository
from storage.repositories.displays import DisplayTokenRepository

DISPLAY_STATUSES = ("pending", "confirmed", "in_progress")
"""The bookings that hold the room (a pending one waits for approval but holds it already)."""
TOKEN_BYTES = 24
"""Random bytes of an issued token: 32 URL-safe characters, within the site file's 16-128."""
_NO_TOKEN_DIGEST = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
"""Compared against when the room has no token, so a refusal takes as long either way."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def issue_display_token(session: AsyncSession, room_id: str, issued_by: int, now: datetime) -> str:
    """A fresh unguessable token for the room's display, which replaces any token before it
    (issued or the site file's); the token itself is returned once and never stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await DisplayTokenRepository(session).replace(room_id, token_digest(token), issued_by, now)
    return token


async def room_opened_by(session: AsyncSession, site: SiteConfig, room_id: str, token: str) -> Room | None:
    """The room whose display ``token`` opens, or None: a wrong token, a room without a
    display and an unknown room are told apart by nobody (one constant-time comparison each)."""
    room = site.room(room_id)
    issued = await DisplayTokenRepository(session).digest_of(room.id) if room is not None else None
    if issued is None and room is not None and room.display_token:
        issued = token_digest(room.display_token)
    opens = secrets.compare_digest(token_digest(token), issued or _NO_TOKEN_DIGEST)
    return room if opens and issued is not None else None


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
        if checkin is None and later and later[0].start - now <= self.site.checkin.prompt_before:
            checkin = later[0]
        link = checkin_link(self.site, checkin.booking_id) if checkin else book_room_link(self.site, room.id)
        return DoorState(room, now, current, later, free_until, busy_until, checkin, link)
