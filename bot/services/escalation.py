"""Timers (docs/product.md §4): pushing tasks at their time, reminding, escalating; bookings' progress.

Every timer is ``tasks.next_at``. One tick claims the tasks that came due (see
``TaskRepository.claim_due``) and, in the same transaction, takes one step for each and
queues its messages, so a step and its messages exist together or not at all: after a crash
nothing is lost and nothing is done twice.

The steps of a task:

1. push (status planned → open, or sent for a reminder) at ``push_at``; late when the tick
   comes more than ``late_after`` after the push time. A task pushed so late that its due
   time is past (or nearly: less than its window, at most :data:`LATE_NOTICE`, is left) gets
   the time its template allows between push and due again, counted from now, so the team
   has a chance before the chain starts; but never a due time after its expiry, which is
   the meeting's start for a task due by the start and its end for one due by the end
   (:func:`bot.services.planning.expiry`).
2. at ``due_at`` + ``reminder_after_due``: a reminder in the group mentioning the leader;
3. after ``chain[0].wait``: the chain's first role (the supervisor) in private, with
   Acknowledge / Done on behalf / Reassign; after ``chain[1].wait`` the next role, …;
4. then, when ``repeat_every_minutes`` and ``max_repeats`` say so, the last step again;
5. at ``expires_at``, a task still open is missed: no more steps, its messages lose their
   buttons. The timer of an open task is never later than its expiry (``within_window``).

Each step's time counts from the time the previous step was due (not from when it ran), so
after a downtime every step that came due is taken, once each, in order, marked late.
Done or cancelling ends the task (``next_at`` = None); Acknowledge, or the chain's last step,
leaves only its expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.clock import Clock
from bot.services.dispatch import (
    ACTIVE,
    CARD,
    REMINDER,
    Outgoing,
    TaskStatus,
    escalation_purpose,
    refresh_tasks,
    team_chats,
    within_window,
)
from bot.services.meeting_alerts import group_alerts
from bot.services.types import BookingStatus, Notice
from bot.site import Role, SiteConfig
from storage.models import Booking
from storage.repositories.outbox import OutboxRepository
from storage.repositories.tasks import TaskRepository, TimerRow

TIMED = frozenset(status.value for status in ACTIVE)
"""Statuses whose timer the tick steps."""
LATE_NOTICE = timedelta(hours=1)
"""A task pushed late keeps its due time while this much of it (or its whole window, when
shorter) is left: a class-C notice approved the day before keeps "ready the day before"."""


@dataclass
class TickResult:
    steps: int = 0
    claimed: int = 0
    outgoing: list[Outgoing] = field(default_factory=list)
    bookings_started: int = 0
    bookings_finished: int = 0


class EscalationPolicy:
    """Which step comes after which, and when (the site's [escalation] table)."""

    def __init__(self, site: SiteConfig) -> None:
        self.site = site
        self.config = site.escalation

    @property
    def reminder_delay(self) -> timedelta:
        return timedelta(minutes=self.config.reminder_after_due_minutes)

    def chain_length(self) -> int:
        return len(self.config.chain)

    def last_stage(self) -> int:
        """Stage of the last step: 1 (the group reminder) + the chain + its repeats."""
        repeats = self.config.max_repeats if self.config.repeat_every_minutes > 0 and self.config.chain else 0
        return 1 + self.chain_length() + repeats

    def role_at(self, stage: int) -> str | None:
        """Whom the step at ``stage`` escalates to (stage 2 = the chain's first role; repeats
        the last); None for the group reminder (stage 1)."""
        chain = self.config.chain
        if stage < 2 or not chain:
            return None
        index = stage - 2
        return chain[index].role if index < len(chain) else chain[-1].role

    def wait_after(self, stage: int) -> timedelta | None:
        """Time from the step at ``stage`` to the next one; None after the last."""
        if stage < 1 or stage + 1 > self.last_stage():
            return None
        chain = self.config.chain
        if stage <= len(chain):
            return timedelta(minutes=chain[stage - 1].wait_minutes)
        return timedelta(minutes=self.config.repeat_every_minutes)

    def stage_of(self, role: Role) -> int | None:
        """The stage at which the chain reaches ``role`` first."""
        for index, step in enumerate(self.config.chain):
            if step.role == role.value:
                return index + 2
        return None


class TimerCounters(Protocol):
    """Where the tick counts what it did (bot/ops/metrics.py in the running bot)."""

    def tick_steps(self, steps: int) -> None: ...

    def escalated(self, role: str | None) -> None: ...


class NoCounters:
    """Counts nothing: the domain does not need metrics to work (tests, benchmarks)."""

    def tick_steps(self, steps: int) -> None:
        pass

    def escalated(self, role: str | None) -> None:
        pass


class TaskTimers:
    def __init__(
        self,
        site: SiteConfig,
        clock: Clock,
        instance: str,
        late_after: timedelta,
        counters: TimerCounters | None = None,
    ) -> None:
        self.site = site
        self.clock = clock
        self.instance = instance
        self.late_after = late_after
        self.policy = EscalationPolicy(site)
        self.counters: TimerCounters = counters or NoCounters()

    async def tick(self, session: AsyncSession, limit: int = 50) -> TickResult:
        """Claim up to ``limit`` due timers and take every step that came due for each.

        A few statements per batch whatever its size: the claim, one UPDATE (a prepared
        statement run for every row) writing the new states, one INSERT of the events; the
        steps themselves are worked out in Python on plain rows.
        """
        now = self.clock.now()
        repo = TaskRepository(session)
        result = TickResult()
        rows = await repo.claim_due(now, limit)
        result.claimed = len(rows)
        if not rows:
            return result
        chats = await team_chats(session, self.site)
        events: list[dict[str, Any]] = []
        cards: list[tuple[int, int, str]] = []
        most_steps = self.policy.last_stage() + 2
        for row in rows:
            if row.status not in TIMED:
                row.next_at = None  # an ended task left with a timer: nothing to step
                continue
            # every step that came due, in order (several after a downtime)
            for _ in range(most_steps):
                if row.next_at is None or row.next_at > now or row.status not in TIMED:
                    break
                result.outgoing += self._step(row, now, chats, events, cards)
                result.steps += 1
        await repo.save_timers(rows, now)
        await repo.add_events(events)
        # the messages of the tasks missed in this batch say so and lose their buttons
        missed = [event["task_id"] for event in events if event["kind"] == "missed"]
        result.outgoing += await refresh_tasks(session, missed)
        # one message per meeting and person, reminders as edits of the cards
        result.outgoing = await group_alerts(session, result.outgoing)
        await self._queue_cards(session, cards, now)
        self.counters.tick_steps(result.steps)
        return result

    async def _queue_cards(
        self, session: AsyncSession, cards: list[tuple[int, int, str]], now: datetime
    ) -> None:
        """The pushed tasks' cards in their groups, and their links, written here with one or
        two statements for the whole batch rather than as a notice per task through the
        delivery queue (a catch-up pushes a hundred thousand). A group reads the site's
        language (bot/delivery/notices.py, ``language_of_chat``)."""
        await OutboxRepository(session).add_task_cards(cards, now, self.site.site.default_language, CARD)

    async def progress_bookings(self, session: AsyncSession, result: TickResult) -> None:
        """Confirmed bookings whose start has come are in progress; those whose end has come, finished."""
        now = self.clock.now()
        started = await session.execute(
            update(Booking)
            .where(
                Booking.status == BookingStatus.confirmed.value, Booking.start_at <= now, Booking.end_at > now
            )
            .values(status=BookingStatus.in_progress.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        finished = await session.execute(
            update(Booking)
            .where(
                Booking.status.in_((BookingStatus.confirmed.value, BookingStatus.in_progress.value)),
                Booking.end_at <= now,
            )
            .values(status=BookingStatus.finished.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        result.bookings_started += int(started.rowcount or 0)  # type: ignore[attr-defined]
        result.bookings_finished += int(finished.rowcount or 0)  # type: ignore[attr-defined]

    # ---- one step ----------------------------------------------------------------------------
    def _step(
        self,
        task: TimerRow,
        now: datetime,
        chats: dict[str, int],
        events: list[dict[str, Any]],
        cards: list[tuple[int, int, str]],
    ) -> list[Outgoing]:
        assert task.next_at is not None
        scheduled = task.next_at
        late = now - scheduled > self.late_after
        task.steps += 1
        if task.status == TaskStatus.planned:
            # a push is late against its own time, also when it was planned after that time
            return self._push(task, now, now - task.push_at > self.late_after, chats, events, cards)
        if task.expires_at is not None and task.expires_at <= now:
            return self._expire(task, now, events)
        return self._escalate(task, now, scheduled, late, chats, events)

    def _push(
        self,
        task: TimerRow,
        now: datetime,
        late: bool,
        chats: dict[str, int],
        events: list[dict[str, Any]],
        cards: list[tuple[int, int, str]],
    ) -> list[Outgoing]:
        """Open (or send) the task; its card for its group goes into ``cards`` (see
        :meth:`_queue_cards`), a card for a private chat is returned as a notice."""
        if task.expires_at is not None and task.expires_at <= now:
            task.status, task.next_at = TaskStatus.skipped, None
            events.append(_event(task, "skipped", now, reason="expired", push_at=task.push_at.isoformat()))
            return []
        task.late = late
        task.pushed_at = now
        task.stage = 0
        if task.needs_confirmation and task.due_at is not None:
            task.status = TaskStatus.open
            if late:
                task.due_at = _late_due(task, now)
            task.next_at = within_window(task, task.due_at + self.policy.reminder_delay)
        else:
            task.status = TaskStatus.sent
            task.next_at = None
        chat_id = chats.get(task.team_id)
        if chat_id is None:
            events.append(_event(task, "no_group", now, late=late))
            return [self._unbound_notice(task, now)]
        events.append(
            _event(
                task,
                "pushed",
                now,
                chat_id=chat_id,
                late=late,
                due_at=task.due_at.isoformat() if task.due_at else None,
            )
        )
        dedupe_key = f"task:{task.id}:step:{task.steps}"
        if chat_id < 0:
            cards.append((task.id, chat_id, dedupe_key))
            return []
        return [
            Outgoing(
                Notice(
                    "task_card",
                    chat_id,
                    {"task_id": task.id},
                    task_ids=(task.id,),
                    mergeable=True,
                    dedupe_key=dedupe_key,
                ),
                link=CARD,
            )
        ]

    def _unbound_notice(self, task: TimerRow, now: datetime) -> Outgoing:
        supervisor = self.site.people_with(Role.supervisor)
        target = supervisor[0] if supervisor else None
        day = now.date().isoformat()
        return Outgoing(
            Notice(
                "team_unbound",
                target if target is not None else 0,
                {"team_id": task.team_id, "task_id": task.id},
                dedupe_key=f"unbound:{task.team_id}:{day}:{target}",
            )
        )

    def _escalate(
        self,
        task: TimerRow,
        now: datetime,
        scheduled: datetime,
        late: bool,
        chats: dict[str, int],
        events: list[dict[str, Any]],
    ) -> list[Outgoing]:
        stage = task.stage + 1
        outgoing: list[Outgoing] = []
        if stage == 1:
            chat_id = chats.get(task.team_id)
            if chat_id is not None:
                outgoing.append(
                    Outgoing(
                        Notice(
                            "task_reminder",
                            chat_id,
                            {"task_id": task.id, "late": late},
                            task_ids=(task.id,),
                            mergeable=True,
                            dedupe_key=f"task:{task.id}:step:{task.steps}",
                        ),
                        link=REMINDER,
                    )
                )
            events.append(
                _event(task, "reminded", now, chat_id=chat_id, late=late, scheduled=scheduled.isoformat())
            )
        else:
            role = self.policy.role_at(stage)
            recipients = self.site.people_with(Role(role)) if role else []
            for person in recipients:
                outgoing.append(
                    Outgoing(
                        Notice(
                            "task_escalation",
                            person,
                            {"task_id": task.id, "role": role, "late": late},
                            task_ids=(task.id,),
                            dedupe_key=f"task:{task.id}:step:{task.steps}:{person}",
                        ),
                        link=escalation_purpose(role or ""),
                    )
                )
            events.append(
                _event(
                    task,
                    "escalated",
                    now,
                    role=role,
                    to=recipients,
                    stage=stage,
                    late=late,
                    scheduled=scheduled.isoformat(),
                )
            )
            self.counters.escalated(role)
        task.stage = stage
        wait = self.policy.wait_after(stage)
        task.next_at = within_window(task, scheduled + wait if wait is not None else None)
        return outgoing

    def _expire(self, task: TimerRow, now: datetime, events: list[dict[str, Any]]) -> list[Outgoing]:
        """Its window closed while it was open: recorded as missed, the chain stops (steps that
        came due meanwhile, after a downtime, are not taken: they would be about a moment past)."""
        assert task.expires_at is not None
        task.status, task.next_at = TaskStatus.missed, None
        events.append(
            _event(
                task,
                "missed",
                now,
                expires_at=task.expires_at.isoformat(),
                due_at=task.due_at.isoformat() if task.due_at else None,
                stage=task.stage,
            )
        )
        return []


def _late_due(task: TimerRow, now: datetime) -> datetime:
    """The due time of a task pushed late: its own while at least its window (at most
    :data:`LATE_NOTICE`) is left, else its window again from now; never after its expiry."""
    assert task.due_at is not None
    window = max(timedelta(0), (task.planned_due_at or task.due_at) - task.push_at)
    due = task.due_at if task.due_at - now >= min(window, LATE_NOTICE) else now + window
    return due if task.expires_at is None else min(due, task.expires_at)


def _event(task: TimerRow, kind: str, at: datetime, **detail: Any) -> dict[str, Any]:
    """A task event's values, written with the batch's others (TaskRepository.add_events)."""
    return {"task_id": task.id, "kind": kind, "actor_id": None, "at": at, "detail": detail}
