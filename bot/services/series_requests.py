"""A series asked once for approval (docs/product.md §2).

The meetings of a series made waiting for approval form one request: those still pending at
their first revision (a meeting changed since was asked again on its own). One of them, the
first, carries the request's timer (reminders, escalation, its end at its start); the others
wait ``WITH_SERIES``: never reminded themselves, only ended at their start if still waiting.
Deciding any of them decides them all (``BookingService.decide``); when the one
that carries it ends otherwise (cancelled, withdrawn, changed, or its start came), the next
one carries it on and the approvers are asked again, so the rest never waits unasked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.approvals import request_notices, start_waiting
from bot.services.types import BookingStatus, Notice
from bot.site import SiteConfig
from storage.models import Booking
from storage.repositories.approvals import WITH_SERIES
from storage.repositories.bookings import BookingRepository
from storage.repositories.series import SeriesRepository

REQUEST_REVISION = 1
"""The revision of a series' meetings that were asked together: as they were made.
A meeting waiting with its series' request has the approval stage ``WITH_SERIES``: the clock
job only ends it at its start (ApprovalChaser: past the stages it chases)."""


def wait_with_series(booking: Booking) -> None:
    """``booking`` waits with its series' request instead of being asked itself."""
    booking.approval_since = None
    booking.approval_stage = WITH_SERIES
    booking.approval_stage_at = None
    booking.approval_next_at = booking.start_at


async def series_request_members(session: AsyncSession, booking_id: int) -> Sequence[Booking]:
    """The meetings asked together with ``booking_id`` (itself included), in their order;
    empty when it is not a meeting of a series waiting at its first revision."""
    booking = await BookingRepository(session).get(booking_id)
    if booking is None or booking.series_id is None:
        return []
    if booking.status != BookingStatus.pending or booking.revision != REQUEST_REVISION:
        return []
    return await _waiting(session, booking.series_id)


async def _waiting(session: AsyncSession, series_id: int) -> Sequence[Booking]:
    rows = await SeriesRepository(session).meetings(series_id, statuses=[BookingStatus.pending.value])
    return [row for row in rows if row.revision == REQUEST_REVISION]


async def carry_on(
    session: AsyncSession, site: SiteConfig, series_id: int | None, now: datetime
) -> list[Notice]:
    """When no meeting of the series' request carries it any more, the next one still ahead
    does: its timer starts and the approvers are asked (the message lists the dates)."""
    if series_id is None:
        return []
    members = await _waiting(session, series_id)
    if not members or any(row.approval_stage != WITH_SERIES for row in members):
        return []
    ahead = [row for row in members if row.start_at > now]
    if not ahead:
        return []
    start_waiting(site, ahead[0], now)
    await session.flush()
    return request_notices(site, ahead[0].id, ahead[0].revision)
