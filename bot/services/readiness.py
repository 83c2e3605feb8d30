"""How ready a meeting is: every team's checks and preparations in one list (docs/product.md §3).

The hotline verifies checks 1 and 2 (check 3), so its card shows them, and the rest of the
meeting's preparation, as they stand: ✅ done, ⏳ waiting, ⏰ overdue, ⚠️ a problem (with who
and why), ⌛ missed. The supervisor's message about the meeting shows the same list. Check 3
confirmed over a verified check that is not done, or over a problem still open, is an explicit
"confirm anyway" and is recorded so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.dispatch import CARD, Outgoing, TaskStatus, notice_for
from bot.site import SiteConfig, TaskKind
from storage.models import Booking, OutboxMessage, Task, TaskMessage


class Readiness(StrEnum):
    done = "done"
    waiting = "waiting"
    """Planned, or pushed and not yet due."""
    overdue = "overdue"
    problem = "problem"
    missed = "missed"


@dataclass(frozen=True)
class ReadinessItem:
    task_id: int
    team_id: str
    template_id: str
    state: Readiness
    verified: bool
    """One of the checks the readiness check verifies."""
    problem_reason: str | None = None
    problem_by_id: int | None = None

    @property
    def blocks(self) -> bool:
        """Confirming the readiness check over this needs "confirm anyway"."""
        return self.state == Readiness.problem or (self.verified and self.state != Readiness.done)


@dataclass(frozen=True)
class MeetingReadiness:
    booking_id: int
    items: tuple[ReadinessItem, ...]

    @property
    def blockers(self) -> tuple[ReadinessItem, ...]:
        return tuple(item for item in self.items if item.blocks)

    def count(self, state: Readiness) -> int:
        return sum(1 for item in self.items if item.state == state)


_SHOWN = (TaskStatus.planned, TaskStatus.open, TaskStatus.problem, TaskStatus.done, TaskStatus.missed)


def readiness_of(task: Task, now: datetime) -> Readiness:
    status = TaskStatus(task.status)
    if status == TaskStatus.done:
        return Readiness.done
    if status == TaskStatus.problem:
        return Readiness.problem
    if status == TaskStatus.missed:
        return Readiness.missed
    if status == TaskStatus.open and task.due_at is not None and task.due_at <= now:
        return Readiness.overdue
    return Readiness.waiting


def is_readiness_check(site: SiteConfig, task: Task) -> bool:
    template = site.task_template(task.template_id)
    return template is not None and bool(template.verifies)


def _preparation() -> Select[Task]:
    """A meeting's confirmable tasks due by its start, as the readiness list shows them."""
    return (
        select(Task)
        .join(Booking, Booking.id == Task.booking_id)
        .where(
            Task.needs_confirmation.is_(True),
            Task.kind != TaskKind.reminder.value,
            Task.status.in_([s.value for s in _SHOWN]),
            Task.due_at.is_not(None),
            Task.due_at <= Booking.start_at,
        )
        .order_by(Task.due_at, Task.id)
    )


_PRELOADED = "huiwu_meeting_preparation"
"""``session.info`` key: {booking id: its preparation tasks} read by :func:`preload_readiness`."""


async def preload_readiness(session: AsyncSession, booking_ids: Iterable[int]) -> None:
    """Read these meetings' preparation with one query for :func:`meeting_readiness` to answer
    from, for as long as ``session`` lives.

    For a read-only unit that renders many cards at once (the sender's claimed batch): each
    card shows its meeting's readiness, one query a card otherwise. The state is the one of
    this moment, as the cards' tasks loaded with it; a unit that writes must not use it."""
    held: dict[int, list[Task]] = session.info.setdefault(_PRELOADED, {})
    ids = sorted(set(booking_ids) - set(held))
    for first in range(0, len(ids), 500):
        chunk = ids[first : first + 500]
        for booking_id in chunk:
            held[booking_id] = []
        for task in await session.scalars(_preparation().where(Task.booking_id.in_(chunk))):
            held[task.booking_id].append(task)


async def meeting_readiness(
    session: AsyncSession, site: SiteConfig, booking_id: int, now: datetime, *, check: Task | None = None
) -> MeetingReadiness:
    """The meeting's preparation: its confirmable tasks due by the start (the readiness check
    itself left out), earliest due first. Without a ``check``, the site's readiness checks
    say which tasks are verified. Answered from :func:`preload_readiness` when the session
    holds the meeting's."""
    preloaded: dict[int, list[Task]] | None = session.info.get(_PRELOADED)
    if preloaded is not None and booking_id in preloaded:
        rows: Iterable[Task] = preloaded[booking_id]
    else:
        rows = await session.scalars(_preparation().where(Task.booking_id == booking_id))
    if check is not None:
        template = site.task_template(check.template_id)
        verified = set(template.verifies) if template else set()
    else:
        verified = {v for t in site.task_templates for v in t.verifies}
    readiness = site.readiness_templates
    items = tuple(
        ReadinessItem(
            task.id,
            task.team_id,
            task.template_id,
            readiness_of(task, now),
            task.template_id in verified,
            task.problem_reason if task.status in (TaskStatus.problem, TaskStatus.missed) else None,
            task.problem_by_id if task.status in (TaskStatus.problem, TaskStatus.missed) else None,
        )
        for task in rows
        if task.template_id not in readiness and (check is None or task.id != check.id)
    )
    return MeetingReadiness(booking_id, items)


async def readiness_refreshes(
    session: AsyncSession, site: SiteConfig, tasks: Sequence[Task]
) -> list[Outgoing]:
    """Edits of the readiness cards of these tasks' meetings, which are linked to their own
    check rather than to these tasks.

    Read by the booking and the readiness templates (the tasks' unique index), so a press costs
    the same whatever else the meeting holds. The supervisors' meeting messages show the
    readiness as of their last edit (they say when) and are not edited for every task of the
    meeting: they follow the tasks they are about."""
    readiness = sorted(site.readiness_templates)
    bookings = sorted({task.booking_id for task in tasks})
    if not readiness or not bookings:
        return []
    changed = {task.id for task in tasks}
    rows = await session.execute(
        select(TaskMessage.outbox_id, TaskMessage.chat_id, Task.id)
        .join(Task, Task.id == TaskMessage.task_id)
        .join(OutboxMessage, OutboxMessage.id == TaskMessage.outbox_id)
        .where(
            Task.booking_id.in_(bookings),
            Task.template_id.in_(readiness),
            TaskMessage.purpose == CARD,
            OutboxMessage.status.notin_(("failed", "dropped")),
        )
    )
    return [
        Outgoing(notice_for(CARD, chat_id, task_id), edit_of=outbox_id)
        for outbox_id, chat_id, task_id in rows
        if task_id not in changed  # its own card is refreshed by its own link
    ]
