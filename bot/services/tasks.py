"""Presses on tasks (Done, Problem, Acknowledge, Reassign) and the supervisors' views.

Every press is checked against the site file (the ids in callback data are only ids) and
recorded in task_events with who and when, refused presses included. A press that changes
a task re-renders every message showing it (through the outbox, as edits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.booking import to_view
from bot.services.clock import Clock
from bot.services.dispatch import (
    ESCALATION_PREFIX,
    OPEN,
    PROBLEM_ALERT,
    REASSIGNED,
    Outgoing,
    TaskState,
    TaskStatus,
    escalation_purpose,
    may_confirm,
    may_report,
    refresh_messages,
    supervises,
    task_state,
    team_chats,
    within_window,
)
from bot.services.escalation import EscalationPolicy
from bot.services.meeting_alerts import group_alerts, one_edit_per_message
from bot.services.readiness import ReadinessItem, is_readiness_check, meeting_readiness, readiness_refreshes
from bot.services.strict import clean_text
from bot.services.types import BookingView, Notice
from bot.site import Role, SiteConfig, TaskKind
from storage.models import Task
from storage.repositories.bookings import BookingRepository
from storage.repositories.tasks import TaskRepository

MAX_REASON = 300
PRESET_REASONS = ("equipment", "locked", "supplies", "staff")
"""Reasons offered as buttons; stored as ``preset:<key>`` and shown in the reader's language."""


@dataclass
class ActionResult:
    code: str
    """done | already_done | reported | acknowledged | reassigned | refused | closed | missing |
    not_member | allowed | not_ready"""
    task_id: int | None = None
    on_behalf: bool = False
    outgoing: list[Outgoing] = field(default_factory=list)
    blockers: tuple[ReadinessItem, ...] = ()
    """not_ready: what the readiness check would be confirmed over."""

    @property
    def changed(self) -> bool:
        return self.code in ("done", "reported", "acknowledged", "reassigned")


class TaskActions:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self.site = site
        self.clock = clock
        self.policy = EscalationPolicy(site)

    async def _load(self, session: AsyncSession, task_id: int) -> Task | None:
        return await TaskRepository(session).get(task_id, for_update=True)

    async def _refuse(self, session: AsyncSession, task: Task, user_id: int, action: str) -> ActionResult:
        await TaskRepository(session).event(task, "refused", self.clock.now(), user_id, action=action)
        return ActionResult("refused", task.id)

    # ---- Done ----------------------------------------------------------------------------
    async def confirm(
        self, session: AsyncSession, task_id: int, user_id: int, *, anyway: bool = False
    ) -> ActionResult:
        """Done. The readiness check (check 3) over an unconfirmed check it verifies or an open
        problem of the meeting only ``anyway`` (the explicit button), and the event says over what;
        a supervisor or manager confirming on the team's behalf has the meeting's list in front
        of them, so theirs counts as explicit."""
        task = await self._load(session, task_id)
        if task is None:
            return ActionResult("missing")
        permission = may_confirm(self.site, task, user_id)
        if not permission.allowed:
            return await self._refuse(session, task, user_id, "done")
        if task.status == TaskStatus.done:
            return ActionResult("already_done", task.id, task.on_behalf)
        if task.status not in OPEN:
            return ActionResult("closed", task.id)
        now = self.clock.now()
        over: list[dict[str, object]] = []
        if is_readiness_check(self.site, task):
            readiness = await meeting_readiness(session, self.site, task.booking_id, now, check=task)
            blockers = readiness.blockers
            if blockers and not (anyway or permission.on_behalf):
                return ActionResult("not_ready", task.id, blockers=blockers)
            over = [{"task_id": item.task_id, "state": item.state.value} for item in blockers]
        task.status = TaskStatus.done
        task.confirmed_by_id = user_id
        task.confirmed_at = now
        task.on_behalf = permission.on_behalf
        task.next_at = None
        task.lease_until = None
        task.updated_at = now
        detail: dict[str, object] = {"on_behalf": permission.on_behalf}
        if over:
            detail["anyway"] = over
        await TaskRepository(session).event(task, "done", now, user_id, **detail)
        await session.flush()
        outgoing = await refresh_messages(session, task)
        outgoing += await readiness_refreshes(session, self.site, [task])
        return ActionResult("done", task.id, permission.on_behalf, outgoing)

    # ---- Problem -------------------------------------------------------------------------
    async def may_report(self, session: AsyncSession, task_id: int, user_id: int) -> ActionResult:
        """The first press on Problem: may this person report one (before asking the reason)?"""
        task = await self._load(session, task_id)
        if task is None:
            return ActionResult("missing")
        if not may_report(self.site, task, user_id).allowed:
            return await self._refuse(session, task, user_id, "problem")
        if task.status not in OPEN:
            return ActionResult("already_done" if task.status == TaskStatus.done else "closed", task.id)
        return ActionResult("allowed", task.id)

    async def report_problem(
        self, session: AsyncSession, task_id: int, user_id: int, reason: str, photo_file_id: str | None = None
    ) -> ActionResult:
        """``reason`` is a preset (``preset:<key>``) or what the person typed; a photo that
        came with a typed reason is kept in the task's history (``photo_file_id``)."""
        checked = await self.may_report(session, task_id, user_id)
        if checked.code != "allowed":
            return checked
        task = await self._load(session, task_id)
        assert task is not None
        now = self.clock.now()
        reason = reason if reason.startswith("preset:") else clean_text(reason, MAX_REASON)
        task.status = TaskStatus.problem
        task.problem_reason = reason or "-"
        task.problem_by_id = user_id
        task.acknowledged_by_id = None
        task.steps += 1
        task.updated_at = now
        # the supervisor hears of it now: the chain goes on from the supervisor's step
        stage = self.policy.stage_of(Role.supervisor)
        if stage is not None and task.stage < stage:
            task.stage = stage
            wait = self.policy.wait_after(stage)
            task.next_at = within_window(task, now + wait if wait is not None else None)
        elif task.next_at is None or task.next_at == task.expires_at:
            # the chain had ended or was acknowledged (only the expiry was left): it goes on
            wait = self.policy.wait_after(task.stage)
            task.next_at = within_window(task, now + wait if wait is not None else None)
        supervisors = self.site.people_with(Role.supervisor)
        photo = {"photo": photo_file_id} if photo_file_id else {}
        await TaskRepository(session).event(
            task, "problem", now, user_id, reason=reason, alerted=supervisors, **photo
        )
        await session.flush()
        outgoing = await refresh_messages(session, task)
        outgoing += await readiness_refreshes(session, self.site, [task])
        # the supervisor's message about this meeting says it (edited, or sent if none yet):
        # one message per meeting, a problem before the due time included
        alerts = [
            Outgoing(
                Notice(
                    "task_escalation",
                    person,
                    {"task_id": task.id, "role": Role.supervisor.value},
                    task_ids=(task.id,),
                    dedupe_key=f"task:{task.id}:problem:{task.steps}:{person}",
                ),
                link=escalation_purpose(Role.supervisor.value),
            )
            for person in supervisors
        ]
        outgoing += await group_alerts(session, alerts)
        return ActionResult("reported", task.id, outgoing=one_edit_per_message(outgoing))

    # ---- the supervisor's buttons -----------------------------------------------------------
    async def acknowledge(self, session: AsyncSession, task_id: int, user_id: int) -> ActionResult:
        task = await self._load(session, task_id)
        if task is None:
            return ActionResult("missing")
        if not supervises(self.site, user_id):
            return await self._refuse(session, task, user_id, "acknowledge")
        if task.status not in OPEN:
            return ActionResult("already_done" if task.status == TaskStatus.done else "closed", task.id)
        now = self.clock.now()
        task.acknowledged_by_id = user_id
        task.next_at = within_window(task, None)  # still missed if not done in time
        task.updated_at = now
        await TaskRepository(session).event(task, "acknowledged", now, user_id)
        await session.flush()
        outgoing = await refresh_messages(session, task, (ESCALATION_PREFIX, PROBLEM_ALERT))
        outgoing += await readiness_refreshes(session, self.site, [task])
        return ActionResult("acknowledged", task.id, outgoing=outgoing)

    async def task(self, session: AsyncSession, task_id: int) -> Task | None:
        """The task as it is, read without a lock (what a refused press is told, the reassign
        picker)."""
        return await TaskRepository(session).get(task_id)

    async def refuse_press(self, session: AsyncSession, task_id: int, user_id: int, action: str) -> None:
        """Record a supervisor's button pressed by someone who does not supervise."""
        task = await TaskRepository(session).get(task_id)
        if task is not None:
            await self._refuse(session, task, user_id, action)

    async def members(self, session: AsyncSession, task_id: int) -> list[int]:
        task = await TaskRepository(session).get(task_id)
        team = self.site.team(task.team_id) if task else None
        return [team.leader, *team.members] if team else []

    async def reassign(
        self, session: AsyncSession, task_id: int, user_id: int, assignee_id: int
    ) -> ActionResult:
        task = await self._load(session, task_id)
        if task is None:
            return ActionResult("missing")
        if not supervises(self.site, user_id):
            return await self._refuse(session, task, user_id, "reassign")
        team = self.site.team(task.team_id)
        if team is None or assignee_id not in team.everyone:
            return ActionResult("not_member", task.id)
        if task.status not in OPEN:
            return ActionResult("already_done" if task.status == TaskStatus.done else "closed", task.id)
        now = self.clock.now()
        task.assignee_id = assignee_id
        task.acknowledged_by_id = None
        task.steps += 1
        task.updated_at = now
        # the new person gets the chain's first wait before it climbs again
        task.stage = 1
        wait = self.policy.wait_after(1)
        task.next_at = within_window(task, now + wait if wait is not None else None)
        await TaskRepository(session).event(task, "reassigned", now, user_id, assignee=assignee_id)
        await session.flush()
        outgoing = await refresh_messages(session, task, (ESCALATION_PREFIX, PROBLEM_ALERT))
        outgoing += await readiness_refreshes(session, self.site, [task])
        chat_id = (await team_chats(session, self.site)).get(task.team_id)
        if chat_id is not None:
            outgoing.append(
                Outgoing(
                    Notice(
                        "task_reassigned",
                        chat_id,
                        {"task_id": task.id},
                        task_ids=(task.id,),
                        mergeable=True,
                        dedupe_key=f"task:{task.id}:reassign:{task.steps}",
                    ),
                    link=REASSIGNED,
                )
            )
        return ActionResult("reassigned", task.id, outgoing=outgoing)


# ---------------------------------------------------------------------------- views


async def task_with_booking(session: AsyncSession, task_id: int) -> tuple[Task, BookingView] | None:
    """The task and its meeting as they are now (a message showing the task is rendered from
    them), or None if either is gone."""
    task = await TaskRepository(session).get(task_id)
    if task is None:
        return None
    booking = await BookingRepository(session).get(task.booking_id)
    if booking is None:
        return None
    return task, to_view(booking)


@dataclass(frozen=True)
class TaskLine:
    task_id: int
    template_id: str
    team_id: str
    kind: str
    state: TaskState
    push_at: datetime
    due_at: datetime | None
    confirmed_by_id: int | None
    confirmed_at: datetime | None
    on_behalf: bool
    problem_reason: str | None
    escalated_to: str | None
    late: bool


@dataclass(frozen=True)
class MeetingTasks:
    booking: BookingView
    tasks: list[TaskLine]


class TaskViews:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self.site = site
        self.clock = clock
        self.policy = EscalationPolicy(site)

    def line(self, task: Task, now: datetime) -> TaskLine:
        state = task_state(task, now)
        return TaskLine(
            task_id=task.id,
            template_id=task.template_id,
            team_id=task.team_id,
            kind=task.kind,
            state=state,
            push_at=task.push_at,
            due_at=task.due_at,
            confirmed_by_id=task.confirmed_by_id,
            confirmed_at=task.confirmed_at,
            on_behalf=task.on_behalf,
            problem_reason=task.problem_reason,
            escalated_to=self.policy.role_at(task.stage) if task.stage >= 2 else None,
            late=task.late,
        )

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, time(0), tzinfo=self.site.zone)
        return start, start + timedelta(days=1)

    def today(self) -> date:
        return self.clock.now().astimezone(self.site.zone).date()

    async def day(self, session: AsyncSession, day: date) -> list[MeetingTasks]:
        """Every meeting of the day (site zone) with its tasks; reminders and cancelled ones left out."""
        now = self.clock.now()
        start, end = self.day_bounds(day)
        meetings = []
        for booking, tasks in await TaskRepository(session).of_bookings_between(start, end):
            lines = [
                self.line(task, now)
                for task in tasks
                if task.kind != TaskKind.reminder and task.status != TaskStatus.cancelled
            ]
            meetings.append(MeetingTasks(to_view(booking), lines))
        return meetings

    async def overdue(self, session: AsyncSession) -> list[MeetingTasks]:
        now = self.clock.now()
        return await self._grouped(session, await TaskRepository(session).overdue(now), now)

    async def for_teams(self, session: AsyncSession, team_ids: list[str]) -> list[MeetingTasks]:
        """Open tasks of these teams, and the ones coming up before the end of tomorrow."""
        now = self.clock.now()
        _, until = self.day_bounds(self.today() + timedelta(days=1))
        tasks = await TaskRepository(session).open_for_teams(team_ids, until)
        return await self._grouped(session, tasks, now)

    async def _grouped(
        self, session: AsyncSession, tasks: Sequence[Task], now: datetime
    ) -> list[MeetingTasks]:
        grouped: dict[int, list[TaskLine]] = {}
        for task in tasks:
            grouped.setdefault(task.booking_id, []).append(self.line(task, now))
        bookings = BookingRepository(session)
        meetings = []
        for booking_id, lines in grouped.items():
            booking = await bookings.get(booking_id)
            if booking is not None:
                meetings.append(MeetingTasks(to_view(booking), lines))
        meetings.sort(key=lambda m: (m.booking.start, m.booking.id))
        return meetings
