"""Plain values the services hand to the bot layer (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class BookingStatus(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    in_progress = "in_progress"
    finished = "finished"
    rejected = "rejected"
    cancelled = "cancelled"
    no_show = "no_show"
    """Nobody checked in by the deadline: the room was released (docs/product.md §2)."""


ACTIVE_STATUSES = (BookingStatus.pending, BookingStatus.confirmed, BookingStatus.in_progress)


@dataclass(frozen=True)
class BookingView:
    id: int
    status: BookingStatus
    revision: int
    department_id: str
    requester_id: int
    booked_by_id: int
    room_id: str
    start: datetime
    end: datetime
    attendees: int
    layout: str
    reception_level: int
    confidential: bool
    title: str
    contact_name: str
    contact_phone: str
    notes: str
    services: dict[str, dict[str, Any]]
    decision_reason: str | None = None
    series_id: int | None = None
    """The recurring series the booking is a meeting of (docs/product.md §2), or None."""
    series_index: int | None = None
    """Its place in the series, 0 for the first meeting."""


@dataclass(frozen=True)
class RoomOffer:
    room_id: str
    room_class: str
    capacity: int


@dataclass(frozen=True)
class Notice:
    """Something to tell someone: rendered in their language by the bot layer, then sent."""

    kind: str
    chat_id: int
    params: dict[str, Any] = field(default_factory=dict)
    task_ids: tuple[int, ...] = ()
    mergeable: bool = False
    dedupe_key: str | None = None


@dataclass
class Outcome:
    """A service's result together with what must be told to whom in the same transaction."""

    booking: BookingView
    notices: list[Notice] = field(default_factory=list)
