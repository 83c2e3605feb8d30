"""The weekly briefing (周业务简报): one ISO week's figures, as plain values.

What is counted (decided here, documented in the report):

* **Meetings**: bookings confirmed, in progress or finished whose start falls in the week
  (Monday 00:00 to Monday 00:00 in the site's zone): by room, by room class, attendees, and
  how many meetings asked for each service item.
* **Teams**: tasks that need a confirmation and whose due time is in the week and has come
  (not cancelled or skipped). *On time* = confirmed by the team no later than the due time;
  a confirmation on the team's behalf (by a supervisor) or after the due time, or none yet,
  is *late*. *Missed* = still open when its window closed (status ``missed``): counted among
  the late ones too. The median time to confirm runs from the push to the confirmation, over
  the tasks confirmed.
* **Escalations**: those tasks that went up the chain (an ``escalated`` task event), with the
  highest role reached. **Problems**: those tasks with a problem report, with its reason.
* **Feedback**: scores given for the week's meetings: count, average, each score.
* **Confidential meetings** are counted like the others; what the briefing shows of them is
  for bot/render/reports.py and :mod:`bot.services.visibility` to decide.
* **Consumables**: what the week's meetings used, with amounts.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.clock import Clock
from bot.services.dispatch import TaskStatus
from bot.site import SiteConfig
from storage.repositories.aftercare import MEETING_STATUSES, AftercareRepository, ClockRunRepository
from storage.repositories.checkin import CheckInRepository

WEEKLY_JOB = "weekly"
# [0-9], not \d: "٢٠٢٦-W49" is no week (bot/services/strict.py)
_WEEK = re.compile(r"^([0-9]{4})-?W([0-9]{1,2})$", re.IGNORECASE)
_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")


class WeekError(ValueError):
    """The text names no ISO week or date."""


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    def bounds(self, site: SiteConfig) -> tuple[datetime, datetime]:
        start = datetime.combine(self.monday, time(0), tzinfo=site.zone)
        return start, start + timedelta(days=7)


def parse_week(text: str | None, today: date) -> IsoWeek:
    """``2026-W49``, ``2026W49``, a date ``2026-12-03`` (its week), or nothing (this week)."""
    value = (text or "").strip()
    if not value:
        return IsoWeek.of(today)
    match = _WEEK.match(value)
    if match:
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise WeekError(value) from None
        return IsoWeek(year, week)
    match = _DATE.match(value)
    if match:
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise WeekError(value) from None
        return IsoWeek.of(day)
    raise WeekError(value)


def weekly_due(site: SiteConfig, now: datetime) -> IsoWeek:
    """The week whose briefing is due at ``now``: this week from its weekday and time on,
    before that the week that just ended.

    The briefing is claimed once per week (:meth:`ReportService.claim`), so this only says
    which week a missed briefing may still be caught up for: a bot that was down at Friday
    17:00 sends it when it comes back, at most once, and never for an older week.
    """
    local = now.astimezone(site.zone)
    moment = (local.isoweekday(), local.hour, local.minute)
    if moment < (site.weekly.weekday, *site.weekly.hour_minute):
        return IsoWeek.of(local.date() - timedelta(days=7))
    return IsoWeek.of(local.date())


@dataclass(frozen=True)
class MeetingRow:
    booking_id: int
    start: datetime
    end: datetime
    room_id: str
    room_class: str
    department_id: str
    title: str
    confidential: bool
    attendees: int
    services: tuple[str, ...]


@dataclass(frozen=True)
class CountRow:
    key: str
    meetings: int
    attendees: int


@dataclass(frozen=True)
class TeamRow:
    team_id: str
    tasks: int
    on_time: int
    late: int
    median_minutes: float | None
    missed: int = 0

    @property
    def rate(self) -> float | None:
        return self.on_time / self.tasks if self.tasks else None


@dataclass(frozen=True)
class TaskRow:
    task_id: int
    booking_id: int
    team_id: str
    template_id: str
    room_id: str
    due_at: datetime | None
    confirmed_at: datetime | None
    on_behalf: bool
    detail: str = ""
    """Late: empty; escalation: the highest role reached; problem: the reason."""


@dataclass(frozen=True)
class FeedbackRow:
    booking_id: int
    room_id: str
    department_id: str
    start: datetime
    score: int
    comment: str | None
    confidential: bool = False


@dataclass(frozen=True)
class ConsumableRow:
    consumable_id: str
    quantity: int
    amount_cents: int


@dataclass
class WeekFigures:
    week: IsoWeek
    generated_at: datetime
    meetings: list[MeetingRow] = field(default_factory=list)
    by_room: list[CountRow] = field(default_factory=list)
    by_class: list[CountRow] = field(default_factory=list)
    services: list[tuple[str, int]] = field(default_factory=list)
    teams: list[TeamRow] = field(default_factory=list)
    late: list[TaskRow] = field(default_factory=list)
    missed: list[TaskRow] = field(default_factory=list)
    escalations: list[TaskRow] = field(default_factory=list)
    problems: list[TaskRow] = field(default_factory=list)
    feedback: list[FeedbackRow] = field(default_factory=list)
    consumables: list[ConsumableRow] = field(default_factory=list)
    no_shows: list[tuple[str, int]] = field(default_factory=list)
    """Meetings released because nobody checked in, per department (docs/product.md §2)."""

    @property
    def attendees(self) -> int:
        return sum(m.attendees for m in self.meetings)

    @property
    def feedback_average(self) -> float | None:
        return statistics.fmean(f.score for f in self.feedback) if self.feedback else None

    @property
    def score_counts(self) -> dict[int, int]:
        counts = Counter(f.score for f in self.feedback)
        return {score: counts.get(score, 0) for score in range(1, 6)}

    @property
    def tasks(self) -> int:
        return sum(t.tasks for t in self.teams)

    @property
    def on_time(self) -> int:
        return sum(t.on_time for t in self.teams)

    @property
    def consumables_cents(self) -> int:
        return sum(c.amount_cents for c in self.consumables)


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


class ReportService:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self.site = site
        self.clock = clock

    async def claim(self, session: AsyncSession, week: IsoWeek) -> bool:
        return await ClockRunRepository(session).claim(WEEKLY_JOB, week.label, self.clock.now())

    async def claimed(self, session: AsyncSession, week: IsoWeek) -> bool:
        """Whether the week's briefing was already claimed (a read: no write lock needed)."""
        return await ClockRunRepository(session).exists(WEEKLY_JOB, week.label)

    def _room_class(self, room_id: str) -> str:
        room = self.site.room(room_id)
        return room.room_class if room else "?"

    async def week(self, session: AsyncSession, week: IsoWeek) -> WeekFigures:
        now = self.clock.now()
        start, end = week.bounds(self.site)
        repo = AftercareRepository(session)
        figures = WeekFigures(week, now)

        for booking in await repo.bookings_starting(start, end, MEETING_STATUSES):
            figures.meetings.append(
                MeetingRow(
                    booking.id,
                    booking.start_at,
                    booking.end_at,
                    booking.room_id,
                    self._room_class(booking.room_id),
                    booking.department_id,
                    booking.title,
                    booking.confidential,
                    booking.attendees,
                    tuple(booking.services or {}),
                )
            )
        figures.by_room = self._counts(figures.meetings, lambda m: m.room_id, [r.id for r in self.site.rooms])
        figures.by_class = self._counts(
            figures.meetings, lambda m: m.room_class, sorted(self.site.room_classes)
        )
        service_counts = Counter(s for m in figures.meetings for s in m.services)
        order = [s.id for s in self.site.services] + sorted(
            set(service_counts) - {s.id for s in self.site.services}
        )
        figures.services = [(s, service_counts[s]) for s in order if service_counts.get(s)]

        await self._tasks(session, figures, start, end, now)
        figures.no_shows = list(await CheckInRepository(session).no_shows_between(start, end))

        for row, booking in await repo.feedback_between(start, end):
            assert row.score is not None
            figures.feedback.append(
                FeedbackRow(
                    booking.id,
                    booking.room_id,
                    booking.department_id,
                    booking.start_at,
                    row.score,
                    row.comment,
                    booking.confidential,
                )
            )

        quantities: dict[str, int] = defaultdict(int)
        amounts: dict[str, int] = defaultdict(int)
        for record, _booking in await repo.records_between(start, end):
            quantities[record.consumable_id] += record.quantity
            amounts[record.consumable_id] += record.quantity * record.unit_price_cents
        known = [c.id for c in self.site.consumables]
        for consumable_id in known + sorted(set(quantities) - set(known)):
            if consumable_id in quantities:
                figures.consumables.append(
                    ConsumableRow(consumable_id, quantities[consumable_id], amounts[consumable_id])
                )
        return figures

    @staticmethod
    def _counts(
        meetings: list[MeetingRow], key: Callable[[MeetingRow], str], order: list[str]
    ) -> list[CountRow]:
        meetings_by: Counter[str] = Counter()
        attendees_by: Counter[str] = Counter()
        for meeting in meetings:
            value = key(meeting)
            meetings_by[value] += 1
            attendees_by[value] += meeting.attendees
        keys = [k for k in order if k in meetings_by] + sorted(set(meetings_by) - set(order))
        return [CountRow(k, meetings_by[k], attendees_by[k]) for k in keys]

    async def _tasks(
        self, session: AsyncSession, figures: WeekFigures, start: datetime, end: datetime, now: datetime
    ) -> None:
        repo = AftercareRepository(session)
        rows = await repo.confirmable_tasks_due(start, end, now)
        events = await repo.task_events([task.id for task, _ in rows])
        escalated: dict[int, str] = {}
        problems: dict[int, str] = {}
        for event in events:
            if event.kind == "escalated":
                escalated[event.task_id] = str((event.detail or {}).get("role") or "")
            elif event.kind == "problem":
                problems[event.task_id] = str((event.detail or {}).get("reason") or "")
        per_team: dict[str, list[bool]] = defaultdict(list)
        missed: Counter[str] = Counter()
        waits: dict[str, list[float]] = defaultdict(list)
        for task, booking in rows:
            assert task.due_at is not None
            confirmed = task.confirmed_at
            on_time = confirmed is not None and confirmed <= task.due_at and not task.on_behalf
            per_team[task.team_id].append(on_time)
            if confirmed is not None and task.pushed_at is not None:
                waits[task.team_id].append(max(0.0, _minutes(confirmed - task.pushed_at)))
            row = TaskRow(
                task.id,
                booking.id,
                task.team_id,
                task.template_id,
                booking.room_id,
                task.due_at,
                confirmed,
                task.on_behalf,
            )
            if not on_time:
                figures.late.append(row)
            if task.status == TaskStatus.missed:
                figures.missed.append(row)
                missed[task.team_id] += 1
            if task.id in escalated or task.stage >= 2:
                figures.escalations.append(replace(row, detail=escalated.get(task.id, "")))
            if task.id in problems or task.problem_reason:
                reason = task.problem_reason or problems.get(task.id, "")
                figures.problems.append(replace(row, detail=reason))
        order = [t.id for t in self.site.teams]
        for team_id in order + sorted(set(per_team) - set(order)):
            results = per_team.get(team_id)
            if not results:
                continue
            punctual = sum(results)
            figures.teams.append(
                TeamRow(
                    team_id,
                    len(results),
                    punctual,
                    len(results) - punctual,
                    statistics.median(waits[team_id]) if waits.get(team_id) else None,
                    missed[team_id],
                )
            )
