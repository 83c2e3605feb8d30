"""The values and rules of a booking that need no database (docs/product.md §2): the request
and a change of it, the errors a rule gives, the checks of times and attendees, and the
booking as a plain view (and as a revision's snapshot). bot/services/booking.py applies them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.strict import clean_text, has_foreign_digits, parse_count
from bot.services.types import BookingStatus, BookingView, Notice
from bot.site import Room, SiteConfig
from storage.models import Booking

MAX_ATTENDEES = 10_000
MAX_DURATION = timedelta(hours=16)
MAX_ADVANCE = timedelta(days=366)
MAX_TITLE = 200
MAX_NOTES = 1000
MAX_FIELD = 100
MAX_DETAIL = 500
OFFER_STEP = timedelta(minutes=5)
OFFER_SPARE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
THE_BOT = 0
"""The actor recorded for what the bot does by itself (a request rejected at its start)."""

Planner = Callable[[AsyncSession, BookingView, BookingView | None], Awaitable[list[Notice]]]


class BookingError(Exception):
    """A rule said no; ``code`` picks the message, ``params`` fill it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class BookingRequest:
    department_id: str
    requester_id: int
    booked_by_id: int
    room_id: str
    start: datetime
    end: datetime
    attendees: int
    layout: str
    reception_level: int
    title: str
    contact_name: str
    contact_phone: str
    confidential: bool = False
    notes: str = ""
    services: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class BookingChanges:
    start: datetime | None = None
    end: datetime | None = None
    room_id: str | None = None
    attendees: int | None = None
    layout: str | None = None
    services: dict[str, dict[str, Any]] | None = None


def parse_attendees(text: str) -> int:
    cleaned = text.strip().removesuffix("人")
    count = parse_count(cleaned, max_digits=6)
    if count is None:
        raise BookingError("digits_only" if has_foreign_digits(cleaned) else "attendees_not_number")
    if count < 1:
        raise BookingError("attendees_too_few")
    if count > MAX_ATTENDEES:
        raise BookingError("attendees_absurd", maximum=MAX_ATTENDEES)
    return count


def check_times(site: SiteConfig, room: Room | None, start: datetime, end: datetime, now: datetime) -> None:
    """Raise the first rule the times break; ``room`` None checks only what needs no room."""
    if end <= start:
        raise BookingError("end_before_start")
    if end - start > MAX_DURATION:
        raise BookingError("too_long", hours=int(MAX_DURATION.total_seconds() // 3600))
    if start < now:
        raise BookingError("in_past")
    if start - now > MAX_ADVANCE:
        raise BookingError("too_far")
    if room is not None:
        notice = site.room_class_of(room).min_notice
        if start < now + notice:
            raise BookingError("too_early", earliest=offered_start(now, notice), room_class=room.room_class)


def offered_start(now: datetime, notice: timedelta) -> datetime:
    """The earliest start to offer a person when ``notice`` is needed from ``now``.

    The rule itself allows ``now + notice`` to the second, but a time offered that way is
    refused by the time the person has read it and chosen it (offered "11:01" at 10:01:30
    means 11:01:00 < 11:01:30). So the offer is the first five-minute mark at least a minute
    after the notice runs out: a time people type, still allowed for a minute or more.
    (Five-minute marks are the same in UTC and in every zone in use, whose offsets are
    whole quarter hours.)"""
    after = now + notice + OFFER_SPARE
    step = OFFER_STEP // timedelta(microseconds=1)
    micro = (after - _EPOCH) // timedelta(microseconds=1)
    return _EPOCH + timedelta(microseconds=-(-micro // step) * step)


def earliest_start(site: SiteConfig, room: Room, now: datetime) -> datetime:
    """The earliest start offered for ``room`` (see :func:`offered_start`)."""
    return offered_start(now, site.room_class_of(room).min_notice)


def to_view(booking: Booking) -> BookingView:
    return BookingView(
        id=booking.id,
        status=BookingStatus(booking.status),
        revision=booking.revision,
        department_id=booking.department_id,
        requester_id=booking.requester_id,
        booked_by_id=booking.booked_by_id,
        room_id=booking.room_id,
        start=booking.start_at,
        end=booking.end_at,
        attendees=booking.attendees,
        layout=booking.layout,
        reception_level=booking.reception_level,
        confidential=booking.confidential,
        title=booking.title,
        contact_name=booking.contact_name,
        contact_phone=booking.contact_phone,
        notes=booking.notes,
        services=dict(booking.services or {}),
        decision_reason=booking.decision_reason,
        series_id=booking.series_id,
        series_index=booking.series_index,
    )


def _snapshot(view: BookingView) -> dict[str, Any]:
    data = asdict(view)
    data["status"] = view.status.value
    data["start"] = view.start.astimezone(UTC).isoformat()
    data["end"] = view.end.astimezone(UTC).isoformat()
    return data


def from_snapshot(snapshot: Mapping[str, Any]) -> BookingView:
    """The booking as a revision's snapshot (:func:`_snapshot`) recorded it."""
    values = {item.name: snapshot[item.name] for item in fields(BookingView) if item.name in snapshot}
    values["status"] = BookingStatus(values["status"])
    values["start"] = datetime.fromisoformat(values["start"])
    values["end"] = datetime.fromisoformat(values["end"])
    values["services"] = dict(values.get("services") or {})
    return BookingView(**values)


def _clean_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        key: {
            k: (clean_text(v, MAX_DETAIL, multiline=True) if isinstance(v, str) else v)
            for k, v in details.items()
        }
        for key, details in services.items()
    }
