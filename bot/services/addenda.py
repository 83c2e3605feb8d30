"""Digest addenda (docs/product.md §5): a late change told at once, since no digest will carry it.

The digest of a working day covers the days up to the next working day
(bot/services/digest.py). A meeting added, changed or cancelled after the digest that covers
its day went out — or on a day no digest will ever cover — reaches neither the supervisors nor
the teams' whiteboards that way; it is told at once instead, as an addendum, to whoever gets
the digest (:func:`bot.services.digest.digest_recipients`) and to the group of every team the
meeting gives work to.

Rules decided here:

* What the digest and the teams know of a booking is its **confirmed** version. The booking
  service says which one stood before and which one stands after: a booking is *added* when
  it becomes confirmed (booked so, or approved), *cancelled* when a confirmed booking is
  cancelled, or rejected after a change (its old time lost), and *changed* when what a
  confirmed booking shows (time, room, attendees, layout, service items) differs. A change
  waiting for approval changes nothing yet: its approval or rejection does.
* A day's digest is **behind** when the working day that covers it (the last working day
  before it) is today and today's digest run is recorded in ``clock_runs`` (``digest`` and the
  date, as the digest job claims it), or is before today (today's own meetings; a day off whose
  last working day is past; a digest that never ran), or does not exist. A change touches the
  day of the meeting before and the day after; one of them behind is enough.
* The supervisors' copy is a report like the digest itself: what it shows of the meeting is
  :func:`bot.services.visibility.meeting_view`'s for the reader in a report. A team's copy is
  read as its group.
* A team that is told of the change anyway, by the planner's change notice for its tasks
  (``tasks_changed``, ``tasks_cancelled``, ``tasks_kept``), gets that notice marked as the
  addendum (``addendum`` in its parameters) rather than a second message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.clock import Clock
from bot.services.digest import (
    DIGEST_JOB,
    TaskItem,
    covering_digest_day,
    digest_recipients,
    local_today,
    task_items,
)
from bot.services.dispatch import TaskStatus, team_chats
from bot.services.planning import field_changes, plan_tasks
from bot.services.types import BookingView, Notice
from bot.site import SiteConfig
from storage.repositories.aftercare import ClockRunRepository
from storage.repositories.bookings import BookingRepository
from storage.repositories.tasks import TaskRepository

ADDENDUM = "digest_addendum"
TEAM_CHANGE_NOTICES = frozenset({"tasks_changed", "tasks_cancelled", "tasks_kept"})
"""The planner's notices to a team about a booking it already knew."""


class LateChange(StrEnum):
    added = "added"
    changed = "changed"
    cancelled = "cancelled"


def slot(view: BookingView) -> dict[str, Any]:
    """Where and when a meeting is, as an addendum's parameters keep it."""
    return {"room_id": view.room_id, "start": view.start, "end": view.end}


def late_change(
    before: BookingView | None, after: BookingView | None
) -> tuple[LateChange, list[dict[str, Any]]] | None:
    """What happened between two confirmed versions of a booking (None: not confirmed), and
    the fields that changed; None when nothing the digest shows changed."""
    if before is None and after is None:
        return None
    if before is None:
        return LateChange.added, []
    if after is None:
        return LateChange.cancelled, []
    fields = field_changes(before, after)
    return (LateChange.changed, fields) if fields else None


async def team_tasks_of_meeting(session: AsyncSession, booking_id: int, team_id: str) -> list[TaskItem]:
    """The team's tasks for the meeting as its digest lists them (none cancelled or skipped):
    what a team's copy of an addendum shows."""
    booking = await BookingRepository(session).get(booking_id)
    if booking is None:
        return []
    tasks = [
        task
        for task in await TaskRepository(session).for_booking(booking.id)
        if task.team_id == team_id and task.status not in (TaskStatus.cancelled, TaskStatus.skipped)
    ]
    return task_items((task, booking) for task in tasks)


class DigestAddenda:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self.site = site
        self.clock = clock

    async def digest_behind(self, session: AsyncSession, day: date) -> bool:
        """No digest still to come covers ``day`` (see the module's rules)."""
        today = local_today(self.site, self.clock.now())
        covering = covering_digest_day(self.site, day)
        if covering is None or covering < today:
            return True
        if covering > today:
            return False
        return await ClockRunRepository(session).exists(DIGEST_JOB, today.isoformat())

    async def notices(
        self,
        session: AsyncSession,
        booking_id: int,
        revision: int,
        before: BookingView | None,
        after: BookingView | None,
        told: Sequence[Notice],
    ) -> list[Notice]:
        """``told`` (the planner's notices of the same change), marked as the addendum where
        they are one, followed by the addenda still to send; ``told`` as it is when the change
        needs none."""
        found = late_change(before, after)
        if found is None:
            return list(told)
        change, fields = found
        versions = [view for view in (before, after) if view is not None]
        days = sorted({view.start.astimezone(self.site.zone).date() for view in versions})
        if not [day for day in days if await self.digest_behind(session, day)]:
            return list(told)
        params: dict[str, Any] = {
            "booking_id": booking_id,
            "change": change.value,
            "before": slot(before) if before is not None else None,
            "after": slot(after) if after is not None else None,
            "fields": fields,
        }
        notices = [
            replace(notice, params={**notice.params, "addendum": True})
            if notice.kind in TEAM_CHANGE_NOTICES
            else notice
            for notice in told
        ]
        notices += [
            Notice(ADDENDUM, person, params, dedupe_key=f"addendum:{booking_id}:{revision}:{person}")
            for person in digest_recipients(self.site)
        ]
        already = {notice.chat_id for notice in told if notice.kind in TEAM_CHANGE_NOTICES}
        teams = {planned.team_id for view in versions for planned in plan_tasks(self.site, view)}
        chats = await team_chats(session, self.site)
        for team in self.site.teams:
            chat_id = chats.get(team.id)
            if team.id not in teams or chat_id is None or chat_id in already:
                continue
            notices.append(
                Notice(
                    ADDENDUM,
                    chat_id,
                    {**params, "team_id": team.id},
                    dedupe_key=f"addendum:{booking_id}:{revision}:{chat_id}",
                )
            )
        return notices
