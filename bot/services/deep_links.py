"""Deep links into the bot (``https://t.me/<bot>?start=<payload>``) other than invites.

The room's door display shows them as QR codes: ``checkin-<booking id>`` while a meeting is on
or about to start (checking in to it), ``book-<room id>`` while the room is free (booking it).
/start reads them with :func:`read_payload` before it takes a payload for an invite code; a
payload that does not read as one of these (``book-`` and no such room) is left to the invite
rules. Telegram allows 1-64 characters from ``A-Z a-z 0-9 _ -`` in a payload: a room id
(at most 32 of them) and a booking id fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.services.strict import parse_id
from bot.site import SiteConfig

CHECKIN_PAYLOAD = "checkin-"
"""The payload of a check-in link, followed by the booking's id."""
BOOK_ROOM_PAYLOAD = "book-"
"""The payload of a link that books a room, followed by the room's id."""


@dataclass(frozen=True)
class DeepLink:
    kind: Literal["checkin", "book"]
    booking_id: int | None = None
    room_id: str | None = None


def bot_link(site: SiteConfig, payload: str) -> str:
    return f"https://t.me/{site.site.bot_username}?start={payload}"


def checkin_link(site: SiteConfig, booking_id: int) -> str:
    return bot_link(site, f"{CHECKIN_PAYLOAD}{booking_id}")


def book_room_link(site: SiteConfig, room_id: str) -> str:
    return bot_link(site, f"{BOOK_ROOM_PAYLOAD}{room_id}")


def read_payload(site: SiteConfig, payload: str) -> DeepLink | None:
    """The deep link a /start payload is, or None (then it may be an invite code)."""
    if payload.startswith(CHECKIN_PAYLOAD):
        booking_id = parse_id(payload.removeprefix(CHECKIN_PAYLOAD))
        return DeepLink("checkin", booking_id=booking_id) if booking_id else None
    if payload.startswith(BOOK_ROOM_PAYLOAD):
        room = site.room(payload.removeprefix(BOOK_ROOM_PAYLOAD))
        return DeepLink("book", room_id=room.id) if room is not None else None
    return None
