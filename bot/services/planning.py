"""Task planning (docs/product.md §3): a booking's task templates become timed tasks, re-planned on change.

Rules decided here (see also docs):

* ``@involved`` is every team that has another task of kind "task" for the booking; checks
  and reminders do not make a team "involved" (the hotline's third-level check does not send
  the hotline on site).
* A repeating template makes one task per interval: the first one interval after its push
  offset, then every interval while the meeting lasts (at most :data:`MAX_OCCURRENCES`).
* Every task ends with its window (``expires_at``, see :func:`expiry`): a task that prepares
  the meeting (due, or pushed, by the start) at the start, one due during the meeting at its
  end, a refill reminder when the next one is due or the meeting ended, a task after the
  meeting :data:`EXPIRY_AFTER_END` after its due time; a template's ``expires_after_minutes``
  closes it earlier (or, after the meeting, sets it). Still open then, it is ``missed``
  (bot/services/escalation.py).
* A task whose push time has already passed when it is planned is pushed at once by the next
  tick, marked late, unless its moment is over (``expires_at``); such a task is recorded as
  ``skipped``.
* Re-planning compares the tasks already stored with the new plan: tasks no longer wanted are
  cancelled; moved ones get their new times (one already pushed whose new push time is still
  ahead goes back to waiting and is pushed again then; one done whose new push time is ahead
  is to be done again); new ones are created. The messages showing changed tasks are
  re-rendered, and every team touched gets one notice saying what changed (old → new).
* A booking that is no longer confirmed (cancelled, or back to approval) cancels its open and
  waiting tasks and tells every team that had tasks: a change waiting for approval puts them
  on hold, and the notice says the time the teams knew and the time proposed.
* ``previous`` is the booking as its teams knew it. After a change waited for approval (every
  task cancelled by the hold), the approval gives the confirmed booking before the change: the
  tasks come back at their new times and each team is told old → new, as for any change; a
  rejection that keeps the booking gives the booking itself: the tasks come back at their old
  times and each team is told the meeting stays as before (``tasks_kept``); a rejection or
  a cancel that ends the held booking tells the teams it is cancelled, at the time they knew.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.clock import Clock
from bot.services.dispatch import (
    ACTIVE,
    OPEN,
    Outgoing,
    TaskStatus,
    refresh_messages,
    team_chats,
    within_window,
)
from bot.services.types import BookingStatus, BookingView, Notice
from bot.site import INVOLVED_TEAMS, Anchor, ExpiryFrom, SiteConfig, TaskKind, TaskTemplate
from storage.models import Task
from storage.repositories.tasks import TaskRepository

MAX_OCCURRENCES = 200
EXPIRY_AFTER_END = timedelta(hours=12)
PLANNED_STATUSES = (BookingStatus.confirmed, BookingStatus.in_progress)
VISIBLE_FIELDS = ("time", "room", "attendees", "layout", "services")


@dataclass(frozen=True)
class PlannedTask:
    template_id: str
    team_id: str
    occurrence: int
    kind: str
    needs_confirmation: bool
    leader_only: bool
    push_at: datetime
    due_at: datetime | None
    expires_at: datetime | None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.template_id, self.team_id, self.occurrence)


def _applies(template: TaskTemplate, view: BookingView, room_class: str | None) -> bool:
    rule = template.applies_to
    if rule.classes and room_class not in rule.classes:
        return False
    if rule.levels and view.reception_level not in rule.levels:
        return False
    return not (rule.services and not any(service in view.services for service in rule.services))


def repeat_interval(template: TaskTemplate, view: BookingView) -> timedelta | None:
    """The booking's own interval (e.g. tea.refill_minutes) when it gives one, else the template's."""
    if template.repeat_every_minutes is None:
        return None
    minutes = template.repeat_every_minutes
    if template.repeat_interval_detail:
        service_id, _, key = template.repeat_interval_detail.partition(".")
        value = (view.services.get(service_id) or {}).get(key)
        try:
            given = float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            given = None
        if given is not None and given > 0:
            minutes = given
    return timedelta(minutes=minutes)


def expiry(
    template: TaskTemplate,
    view: BookingView,
    push_at: datetime,
    due_at: datetime | None,
    interval: timedelta | None,
) -> datetime:
    """When the task's window closes: not pushed by then it is skipped, open then it is missed.

    A task due (or, without a due time, pushed) by the meeting's start ends at the start at the
    latest, one due by the end at the end; the template's own expiry may close it earlier.
    """
    if interval is not None:
        return min(push_at + interval, view.end)
    reference = due_at or push_at
    bound = view.start if reference <= view.start else view.end if reference <= view.end else None
    if template.expires_after_minutes is not None:
        base = {ExpiryFrom.start: view.start, ExpiryFrom.end: view.end}.get(template.expiry_from, reference)
        own = base + timedelta(minutes=template.expires_after_minutes)
        return own if bound is None else min(own, bound)
    return bound if bound is not None else reference + EXPIRY_AFTER_END


def plan_tasks(site: SiteConfig, view: BookingView) -> list[PlannedTask]:
    """Every task the booking needs, by the site's templates (pure: no database, no clock)."""
    room = site.room(view.room_id)
    room_class = room.room_class if room else None
    templates = [t for t in site.task_templates if _applies(t, view, room_class)]
    involved = {
        t.team
        for t in templates
        if t.team != INVOLVED_TEAMS and t.kind == TaskKind.task and site.team(t.team)
    }
    planned: list[PlannedTask] = []
    for template in templates:
        if template.team == INVOLVED_TEAMS:
            teams = [team.id for team in site.teams if team.id in involved]
        else:
            teams = [template.team] if site.team(template.team) else []
        anchor = view.start if template.anchor == Anchor.start else view.end
        push_at = anchor + timedelta(minutes=template.push_offset_minutes)
        due_at = (
            anchor + timedelta(minutes=template.due_offset_minutes)
            if template.due_offset_minutes is not None
            else None
        )
        interval = repeat_interval(template, view)
        moments: list[tuple[datetime, datetime | None]]
        if interval is None:
            moments = [(push_at, due_at)]
        else:
            moments = []
            moment = push_at + interval
            while moment < view.end and len(moments) < MAX_OCCURRENCES:
                moments.append((moment, None if due_at is None else due_at + (moment - push_at)))
                moment += interval
        for team_id in teams:
            for occurrence, (push, due) in enumerate(moments):
                planned.append(
                    PlannedTask(
                        template_id=template.id,
                        team_id=team_id,
                        occurrence=occurrence,
                        kind=template.kind.value,
                        needs_confirmation=template.needs_confirmation,
                        leader_only=template.leader_only,
                        push_at=push,
                        due_at=due,
                        expires_at=expiry(template, view, push, due, interval),
                    )
                )
    planned.sort(key=lambda p: (p.push_at, p.template_id, p.team_id, p.occurrence))
    return planned


@dataclass(frozen=True)
class TaskChange:
    team_id: str
    template_id: str
    occurrence: int
    kind: str
    change: str
    """new | moved | cancelled | resumed (back at its own time after the booking's hold)"""
    old_push: datetime | None = None
    new_push: datetime | None = None
    old_due: datetime | None = None
    new_due: datetime | None = None


@dataclass
class PlanOutcome:
    outgoing: list[Outgoing] = field(default_factory=list)
    """Edits of messages that show changed tasks: the caller queues them."""
    notices: list[Notice] = field(default_factory=list)
    """What each touched team is told; handed back to the booking service."""
    changes: list[TaskChange] = field(default_factory=list)


def meeting_slot(view: BookingView) -> dict[str, Any]:
    """Where and when a meeting is, as a notice's parameters keep it."""
    return {"room_id": view.room_id, "start": view.start, "end": view.end}


def field_changes(previous: BookingView, view: BookingView) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    if (previous.start, previous.end) != (view.start, view.end):
        changes.append(
            {"field": "time", "old": (previous.start, previous.end), "new": (view.start, view.end)}
        )
    if previous.room_id != view.room_id:
        changes.append({"field": "room", "old": previous.room_id, "new": view.room_id})
    if previous.attendees != view.attendees:
        changes.append({"field": "attendees", "old": previous.attendees, "new": view.attendees})
    if previous.layout != view.layout:
        changes.append({"field": "layout", "old": previous.layout, "new": view.layout})
    if previous.services != view.services:
        changes.append({"field": "services", "old": sorted(previous.services), "new": sorted(view.services)})
    return changes


class TaskPlanner:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self.site = site
        self.clock = clock

    async def plan(
        self, session: AsyncSession, view: BookingView, previous: BookingView | None
    ) -> PlanOutcome:
        repo = TaskRepository(session)
        existing = list(await repo.for_booking(view.id))
        if view.status not in PLANNED_STATUSES:
            return await self._cancel_all(session, view, previous, existing)
        return await self._replan(session, view, previous, existing)

    # ---- cancelling ----------------------------------------------------------------------
    async def _cancel_all(
        self, session: AsyncSession, view: BookingView, previous: BookingView | None, existing: list[Task]
    ) -> PlanOutcome:
        outcome = PlanOutcome()
        now = self.clock.now()
        repo = TaskRepository(session)
        touched: set[str] = set()
        held = previous is not None and all(
            task.status in (TaskStatus.cancelled, TaskStatus.skipped) for task in existing
        )
        for task in existing:
            if held and task.status == TaskStatus.cancelled and task.kind != TaskKind.reminder:
                touched.add(task.team_id)  # on hold, so its team knows the meeting: it hears the end
            if task.status in (TaskStatus.cancelled, TaskStatus.skipped):
                continue
            if task.kind != TaskKind.reminder:
                touched.add(task.team_id)
            if task.status not in ACTIVE:
                continue
            was_pushed = task.status in OPEN
            self._close(task, TaskStatus.cancelled, now)
            await repo.event(task, "cancelled", now, reason=view.status.value, revision=view.revision)
            outcome.changes.append(self._change(task, "cancelled"))
            if was_pushed:
                await session.flush()
                outcome.outgoing += await refresh_messages(session, task)
        if not touched:
            return outcome
        chats = await team_chats(session, self.site)
        # the meeting as the teams knew it, and, on hold, the one proposed: by send time the
        # booking may already have been decided either way
        known = meeting_slot(previous) if previous is not None else meeting_slot(view)
        proposed = meeting_slot(view) if view.status == BookingStatus.pending else None
        for team in self.site.teams:
            if team.id in touched and team.id in chats:
                outcome.notices.append(
                    Notice(
                        "tasks_cancelled",
                        chats[team.id],
                        {
                            "booking_id": view.id,
                            "team_id": team.id,
                            "reason": view.status.value,
                            "was": known,
                            "proposed": proposed,
                            "tasks": [
                                c for c in outcome.changes if c.team_id == team.id and c.kind != "reminder"
                            ],
                        },
                        dedupe_key=f"tasks:{view.id}:{view.revision}:{team.id}",
                    )
                )
        return outcome

    # ---- planning and re-planning ----------------------------------------------------------
    async def _replan(
        self, session: AsyncSession, view: BookingView, previous: BookingView | None, existing: list[Task]
    ) -> PlanOutcome:
        outcome = PlanOutcome()
        now = self.clock.now()
        repo = TaskRepository(session)
        rows = {(task.template_id, task.team_id, task.occurrence): task for task in existing}
        wanted = plan_tasks(self.site, view)
        fields = field_changes(previous, view) if previous is not None else []
        had_tasks = any(t.status not in (TaskStatus.cancelled, TaskStatus.skipped) for t in existing)
        # every task cancelled by a hold, and the booking its teams knew is given: they are told
        resumed = previous is not None and bool(existing) and not had_tasks
        to_refresh: list[Task] = []
        for planned in wanted:
            task = rows.pop(planned.key, None)
            if task is None:
                task = await repo.add(self._new_task(view, planned, now))
                await repo.event(task, "planned", now, revision=view.revision, **self._times(task))
                if task.status == TaskStatus.skipped:
                    await repo.event(task, "skipped", now, reason="expired")
                if had_tasks or resumed:
                    outcome.changes.append(self._change(task, "new", new=planned))
                continue
            change = await self._update(session, task, planned, now, view, resumed)
            if change is not None:
                outcome.changes.append(change)
                if task.status in OPEN or change.change in ("moved", "resumed"):
                    to_refresh.append(task)
            elif fields and task.status in OPEN:
                to_refresh.append(task)
        for task in rows.values():
            if task.status not in ACTIVE:
                continue
            was_pushed = task.status in OPEN
            self._close(task, TaskStatus.cancelled, now)
            await repo.event(task, "cancelled", now, reason="not needed", revision=view.revision)
            outcome.changes.append(self._change(task, "cancelled"))
            if was_pushed:
                to_refresh.append(task)
        await session.flush()
        for task in to_refresh:
            outcome.outgoing += await refresh_messages(session, task)
        if had_tasks or resumed:
            outcome.notices += await self._change_notices(
                session, view, fields, outcome.changes, existing, wanted, resumed=resumed
            )
        return outcome

    def _new_task(self, view: BookingView, planned: PlannedTask, now: datetime) -> Task:
        task = Task(
            booking_id=view.id,
            template_id=planned.template_id,
            team_id=planned.team_id,
            occurrence=planned.occurrence,
            kind=planned.kind,
            needs_confirmation=planned.needs_confirmation,
            leader_only=planned.leader_only,
            stage=0,
            steps=0,
            late=False,
            on_behalf=False,
            updated_at=now,
        )
        self._schedule(task, planned, now)
        return task

    @staticmethod
    def _schedule(task: Task, planned: PlannedTask, now: datetime) -> None:
        """Wait for the push time; a push time already passed means "at once" (the next tick)."""
        task.push_at = planned.push_at
        task.planned_due_at = planned.due_at
        task.due_at = planned.due_at
        task.expires_at = planned.expires_at
        task.kind = planned.kind
        task.needs_confirmation = planned.needs_confirmation
        task.leader_only = planned.leader_only
        task.stage = 0
        task.late = False
        task.pushed_at = None
        task.confirmed_by_id = None
        task.confirmed_at = None
        task.on_behalf = False
        task.problem_reason = None
        task.problem_by_id = None
        task.acknowledged_by_id = None
        task.assignee_id = None
        task.lease_until = None
        task.leased_by = None
        task.updated_at = now
        if planned.push_at > now:
            task.status, task.next_at = TaskStatus.planned, planned.push_at
        elif planned.expires_at is not None and planned.expires_at <= now:
            task.status, task.next_at = TaskStatus.skipped, None
        else:
            task.status, task.next_at = TaskStatus.planned, now

    async def _update(
        self,
        session: AsyncSession,
        task: Task,
        planned: PlannedTask,
        now: datetime,
        view: BookingView,
        resumed: bool,
    ) -> TaskChange | None:
        repo = TaskRepository(session)
        moved = task.push_at != planned.push_at or task.planned_due_at != planned.due_at
        status = TaskStatus(task.status)
        if status in (TaskStatus.cancelled, TaskStatus.skipped):
            if planned.push_at <= now and planned.expires_at is not None and planned.expires_at <= now:
                return None  # still nothing to do
            old_push, old_due = task.push_at, task.planned_due_at
            self._schedule(task, planned, now)
            await repo.event(task, "replanned", now, revision=view.revision, **self._times(task))
            if resumed and status == TaskStatus.cancelled:
                # put on hold with the booking: its team knew it at its old time
                return TaskChange(
                    task.team_id,
                    task.template_id,
                    task.occurrence,
                    task.kind,
                    "moved" if moved else "resumed",
                    old_push=old_push,
                    new_push=planned.push_at,
                    old_due=old_due,
                    new_due=planned.due_at,
                )
            return self._change(task, "new", new=planned)
        if not moved:
            return None
        old_push, old_due = task.push_at, task.planned_due_at
        change = TaskChange(
            task.team_id,
            task.template_id,
            task.occurrence,
            task.kind,
            "moved",
            old_push=old_push,
            new_push=planned.push_at,
            old_due=old_due,
            new_due=planned.due_at,
        )
        if status == TaskStatus.planned or planned.push_at > now:
            # not pushed yet, or pushed/done for the old time and due again at the new one
            self._schedule(task, planned, now)
        elif status in OPEN:
            task.push_at, task.planned_due_at, task.expires_at = (
                planned.push_at,
                planned.due_at,
                planned.expires_at,
            )
            task.due_at = planned.due_at
            task.stage = 0
            task.acknowledged_by_id = None
            task.next_at = within_window(
                task, planned.due_at + self._reminder_delay() if planned.due_at is not None else None
            )
            task.updated_at = now
        else:  # done or sent, and its new time has passed too: it stays as it is
            task.push_at, task.planned_due_at, task.expires_at = (
                planned.push_at,
                planned.due_at,
                planned.expires_at,
            )
            return None
        await repo.event(
            task,
            "moved",
            now,
            revision=view.revision,
            old_push=old_push.isoformat(),
            old_due=old_due.isoformat() if old_due else None,
            **self._times(task),
        )
        return change

    def _reminder_delay(self) -> timedelta:
        return timedelta(minutes=self.site.escalation.reminder_after_due_minutes)

    @staticmethod
    def _close(task: Task, status: TaskStatus, now: datetime) -> None:
        task.status = status
        task.next_at = None
        task.lease_until = None
        task.updated_at = now

    @staticmethod
    def _times(task: Task) -> dict[str, Any]:
        return {
            "push_at": task.push_at.isoformat(),
            "due_at": task.due_at.isoformat() if task.due_at else None,
            "status": task.status,
        }

    @staticmethod
    def _change(task: Task, change: str, new: PlannedTask | None = None) -> TaskChange:
        if change == "cancelled":
            return TaskChange(
                task.team_id,
                task.template_id,
                task.occurrence,
                task.kind,
                change,
                old_push=task.push_at,
                old_due=task.planned_due_at,
            )
        assert new is not None
        return TaskChange(
            task.team_id,
            task.template_id,
            task.occurrence,
            task.kind,
            change,
            new_push=new.push_at,
            new_due=new.due_at,
        )

    async def _change_notices(
        self,
        session: AsyncSession,
        view: BookingView,
        fields: list[dict[str, Any]],
        changes: list[TaskChange],
        existing: list[Task],
        wanted: list[PlannedTask],
        *,
        resumed: bool = False,
    ) -> list[Notice]:
        """``resumed``: the tasks come back after the booking's hold; with no field changed, the
        booking stays as its teams knew it (its change was not approved)."""
        kept = resumed and not fields
        listed = [c for c in changes if c.kind != TaskKind.reminder]
        touched = {c.team_id for c in listed}
        # a team whose tasks were on hold hears the outcome, even if it has none any more
        gone = (TaskStatus.skipped,) if resumed else (TaskStatus.cancelled, TaskStatus.skipped)
        if fields or resumed:
            touched |= {p.team_id for p in wanted if p.kind != TaskKind.reminder}
            touched |= {t.team_id for t in existing if t.kind != TaskKind.reminder and t.status not in gone}
        if not touched:
            return []
        chats = await team_chats(session, self.site)
        return [
            Notice(
                "tasks_kept" if kept else "tasks_changed",
                chats[team.id],
                {
                    "booking_id": view.id,
                    "team_id": team.id,
                    "fields": fields,
                    "tasks": [c for c in listed if c.team_id == team.id],
                },
                dedupe_key=f"tasks:{view.id}:{view.revision}:{team.id}",
            )
            for team in self.site.teams
            if team.id in touched and team.id in chats
        ]
