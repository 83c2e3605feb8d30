"""Approvals that chase (docs/product.md §2): a request waiting for approval is reminded to
the approvers after ``[approvals] remind_after_hours`` working hours, escalated after
``escalate_after_hours`` more, and rejected by itself when its start comes.

The database holds every timer: ``bookings.approval_next_at`` is when the clock job
(bot/jobs/approvals.py, bot/services/approval_chase.py) looks at a request next,
``approval_stage`` how far it was chased. This module is what the booking service needs:
the working-hours arithmetic, who is asked, and the timer set when a request starts or stops
waiting.

Working hours are ``office_hours`` in the site's zone on the working days of ``[digest]``
(``working_days`` less ``holidays``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.types import Notice
from bot.site import Role, SiteConfig
from storage.models import Booking
from storage.repositories.approvals import ApprovalRepository
from storage.repositories.bookings import BookingRepository

ASKED, REMINDED, ESCALATED = 0, 1, 2
MAX_DAYS = 400
"""How far working hours are looked for (a year of holidays and more); beyond it the wait is
counted in clock time."""


def working_time_after(site: SiteConfig, start: datetime, amount: timedelta) -> datetime:
    """The moment ``amount`` of working time after ``start`` (UTC): office hours on working days.

    A start outside office hours counts from the next opening: Friday 16:30 plus two
    working hours (09:00-17:00, Monday to Friday) is Monday 10:30.
    """
    zone = site.zone
    opening, closing = site.approvals.office_minutes
    local = start.astimezone(zone)
    day = local.date()
    remaining = amount
    for _ in range(MAX_DAYS):
        if site.digest.is_working_day(day):
            opens = _at(day, opening, zone).astimezone(UTC)
            closes = _at(day, closing, zone).astimezone(UTC)
            begin = max(opens, start.astimezone(UTC))
            if begin < closes:
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
        day += timedelta(days=1)
    return start.astimezone(UTC) + amount


def _at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    if minutes >= 24 * 60:  # "24:00": the start of the next day
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)


# ---- who is asked ----------------------------------------------------------------------------
def first_approvers(site: SiteConfig) -> list[int]:
    """Who is asked when a request comes: the approvers, less the second approvers."""
    target = site.approvals.escalate_to
    seconds = set(target) if isinstance(target, tuple) else set()
    return [person for person in site.people_with(Role.approver) if person not in seconds]


def escalation_recipients(site: SiteConfig) -> list[int]:
    """Who a request is escalated to: the second approvers, or everyone with the role."""
    target = site.approvals.escalate_to
    return list(target) if isinstance(target, tuple) else site.people_with(target)


def may_decide(site: SiteConfig, user_id: int) -> bool:
    """The approvers and whoever requests are escalated to may approve or reject one."""
    return Role.approver in site.roles_of(user_id) or user_id in escalation_recipients(site)


def may_follow(site: SiteConfig, user_id: int) -> bool:
    """Who may list the waiting requests (/approvals)."""
    follows = {Role.approver, Role.manager, Role.supervisor}
    return bool(site.roles_of(user_id) & follows) or may_decide(site, user_id)


def request_key(booking_id: int, revision: int, person: int, step: str = "") -> str:
    """The dedupe key of a message asking ``person`` to decide the booking at ``revision``;
    ``step`` "r" for the reminder, "e" for the escalation, "" for the request itself."""
    return f"approve:{booking_id}:{revision}:" + (f"{step}:" if step else "") + str(person)


def request_notices(site: SiteConfig, booking_id: int, revision: int) -> list[Notice]:
    """The request to every first approver."""
    return [
        Notice(
            "approval_request",
            approver,
            {"booking_id": booking_id, "revision": revision},
            dedupe_key=request_key(booking_id, revision, approver),
        )
        for approver in first_approvers(site)
    ]


# ---- the state of a request --------------------------------------------------------------------
@dataclass(frozen=True)
class ApprovalState:
    """How far a waiting request was chased, for /my and /approvals."""

    booking_id: int
    since: datetime | None
    stage: int
    stage_at: datetime | None
    next_at: datetime | None


def state_of(booking: Booking) -> ApprovalState:
    return ApprovalState(
        booking.id,
        booking.approval_since,
        booking.approval_stage,
        booking.approval_stage_at,
        booking.approval_next_at,
    )


async def approval_states(session: AsyncSession, booking_ids: list[int]) -> dict[int, ApprovalState]:
    """The approval state of each of these bookings (for the pending ones of a list)."""
    rows = await ApprovalRepository(session).of_bookings(booking_ids)
    return {booking_id: state_of(row) for booking_id, row in rows.items()}


async def request_was_shown(session: AsyncSession, dedupe_key: str | None) -> bool:
    """Whether the request message queued with this key went out (it has a message to edit)."""
    return await ApprovalRepository(session).was_shown(dedupe_key)


@dataclass(frozen=True)
class LastChange:
    """The latest recorded change of a booking: what happened (``approved``, ``rejected``,
    ``withdrawn``…) and who did it; what a request message that no longer waits says."""

    event: str
    actor_id: int


async def last_change(session: AsyncSession, booking_id: int) -> LastChange | None:
    revisions = await BookingRepository(session).revisions(booking_id)
    if not revisions:
        return None
    last = revisions[-1]
    return LastChange(last.event, last.actor_id)


def start_waiting(site: SiteConfig, booking: Booking, now: datetime) -> None:
    """The booking is (again) a request waiting for approval from ``now``: asked, not chased yet."""
    booking.approval_since = now
    booking.approval_stage = ASKED
    booking.approval_stage_at = None
    booking.approval_next_at = min(
        working_time_after(site, now, site.approvals.remind_after), booking.start_at
    )


def stop_waiting(booking: Booking) -> None:
    """The request was decided, withdrawn, cancelled or ended: nothing is chased any more.
    ``approval_since`` and the stage stay, as the history of the request."""
    booking.approval_next_at = None
