"""The clock job's step of approvals that chase (docs/product.md §2): remind, escalate, or
reject at its start each request whose timer came due; and the /approvals list.

The job claims each due request with a conditional update (storage/repositories/approvals.py),
so a restart or a second instance neither loses nor doubles a reminder. Each step is
computed again from ``approval_since`` / ``approval_stage_at`` when it is taken, so a moment
stored earlier is only ever a moment to look again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.approvals import (
    ASKED,
    ESCALATED,
    REMINDED,
    ApprovalState,
    escalation_recipients,
    first_approvers,
    request_key,
    state_of,
    working_time_after,
)
from bot.services.booking import BookingService, to_view
from bot.services.types import BookingView, Notice
from bot.site import SiteConfig
from storage.models import Booking
from storage.repositories.approvals import ApprovalRepository

DUE_BATCH = 100
"""Requests stepped per transaction by the clock job."""


async def waiting_page(
    session: AsyncSession, page: int, size: int
) -> tuple[list[tuple[BookingView, ApprovalState]], int, int]:
    """One page of the requests waiting for approval, longest waiting first: the requests,
    how many wait in all, and the page shown (the last one when ``page`` is past the end)."""
    repo = ApprovalRepository(session)
    rows, total = await repo.waiting(page * size, size)
    if not rows and page > 0 and total:
        page = (total - 1) // size
        rows, total = await repo.waiting(page * size, size)
    return [(to_view(row), state_of(row)) for row in rows], total, page


@dataclass
class ChaseResult:
    notices: list[Notice]
    reminded: int = 0
    escalated: int = 0
    expired: int = 0
    looked_again: int = 0


class ApprovalChaser:
    """Takes the steps of the requests whose timer came due (called by bot/jobs/approvals.py)."""

    def __init__(self, site: SiteConfig, booking_service: BookingService) -> None:
        self.site = site
        self.bookings = booking_service
        self.clock = booking_service.clock

    async def run(self, session: AsyncSession, limit: int = DUE_BATCH) -> tuple[ChaseResult, int]:
        """Step every due request of one batch; the result and how many were due."""
        now = self.clock.now()
        repo = ApprovalRepository(session)
        due = list(await repo.due(now, limit))
        result = ChaseResult([])
        for booking in due:
            await self._step(session, repo, booking, now, result)
        return result, len(due)

    async def _step(
        self,
        session: AsyncSession,
        repo: ApprovalRepository,
        booking: Booking,
        now: datetime,
        result: ChaseResult,
    ) -> None:
        approvals = self.site.approvals
        if booking.status != "pending":
            # ended by a path that left its timer (an older version): nothing to chase
            await repo.clear(booking.id)
            return
        if booking.start_at <= now:
            outcome = await self.bookings.expire(session, booking.id, booking.revision)
            if outcome is not None:
                result.notices += outcome.notices
                result.expired += 1
            return
        since = booking.approval_since or booking.updated_at
        if booking.approval_stage == ASKED:
            moment = working_time_after(self.site, since, approvals.remind_after)
            if moment > now:
                await self._look_again(repo, booking, moment, result)
                return
            following = min(working_time_after(self.site, now, approvals.escalate_after), booking.start_at)
            if await repo.claim(booking, stage=REMINDED, stage_at=now, next_at=following):
                result.reminded += 1
                result.notices += self._chase_notices(
                    booking, "approval_reminder", "r", first_approvers(self.site)
                )
            return
        if booking.approval_stage == REMINDED:
            reminded = booking.approval_stage_at or since
            moment = working_time_after(self.site, reminded, approvals.escalate_after)
            if moment > now:
                await self._look_again(repo, booking, moment, result)
                return
            if await repo.claim(booking, stage=ESCALATED, stage_at=now, next_at=booking.start_at):
                result.escalated += 1
                result.notices += self._chase_notices(
                    booking, "approval_escalated", "e", escalation_recipients(self.site)
                )
            return
        # escalated: only its start is left to wait for
        await self._look_again(repo, booking, booking.start_at, result)

    async def _look_again(
        self, repo: ApprovalRepository, booking: Booking, moment: datetime, result: ChaseResult
    ) -> None:
        if await repo.claim(
            booking,
            stage=booking.approval_stage,
            stage_at=booking.approval_stage_at,
            next_at=min(moment, booking.start_at),
        ):
            result.looked_again += 1

    def _chase_notices(self, booking: Booking, kind: str, step: str, people: list[int]) -> list[Notice]:
        return [
            Notice(
                kind,
                person,
                {"booking_id": booking.id, "revision": booking.revision},
                dedupe_key=request_key(booking.id, booking.revision, person, step),
            )
            for person in people
        ]
