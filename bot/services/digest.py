"""The daily digest (docs/product.md §5): tomorrow's meetings for the supervisors, each team's tasks.

Rules decided here:

* The digest goes out at ``[digest] time`` on working days (``working_days``, minus
  ``holidays``). It covers every day from tomorrow up to and including the next working
  day: on a Tuesday that is Wednesday; on a Friday it is Saturday, Sunday and Monday; before
  a holiday it runs on to the first working day after it.
* ``/tomorrow`` shows the same window on any day (on a Saturday: Sunday and Monday).
* Meetings listed: pending (awaiting approval), confirmed and in progress. Tasks listed: the
  team's tasks that are not cancelled or skipped, by their due time (else push time), in the
  site's zone; repeating reminders are folded into one line per meeting.
* A run is claimed in ``clock_runs`` (``digest`` + the date) so it happens once across
  instances and restarts, and each message has a dedupe key besides.
* What changes once the digest covering its day was claimed is told at once as an addendum
  (bot/services/addenda.py reads the same ``clock_runs`` row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.clock import Clock
from bot.site import Role, SiteConfig, TaskKind
from storage.models import Booking, Task
from storage.repositories.aftercare import AftercareRepository, ClockRunRepository

MAX_WINDOW_DAYS = 31
DIGEST_JOB = "digest"
DIGEST_STATUSES = ("pending", "confirmed", "in_progress")
DIGEST_ROLES = (Role.supervisor, Role.manager, Role.dispatcher)


@dataclass(frozen=True)
class MeetingItem:
    booking_id: int
    status: str
    room_id: str
    start: datetime
    end: datetime
    department_id: str
    title: str
    confidential: bool
    attendees: int
    reception_level: int
    services: tuple[str, ...]


@dataclass(frozen=True)
class TaskItem:
    task_id: int
    booking_id: int
    template_id: str
    team_id: str
    kind: str
    status: str
    room_id: str
    push_at: datetime
    due_at: datetime | None
    meeting_start: datetime
    meeting_end: datetime
    count: int = 1
    """Repeating reminders of one meeting are one item: how many, from push_at to last_at."""
    last_at: datetime | None = None


@dataclass(frozen=True)
class DayMeetings:
    day: date
    meetings: list[MeetingItem] = field(default_factory=list)


@dataclass(frozen=True)
class DayTasks:
    day: date
    tasks: list[TaskItem] = field(default_factory=list)


def next_working_day(site: SiteConfig, after: date) -> date:
    day = after + timedelta(days=1)
    for _ in range(366):
        if site.digest.is_working_day(day):
            return day
        day += timedelta(days=1)
    return after + timedelta(days=1)  # pragma: no cover - a site with no working day at all


def covered_days(site: SiteConfig, today: date) -> list[date]:
    """Tomorrow up to and including the next working day (at most a month)."""
    last = min(next_working_day(site, today), today + timedelta(days=MAX_WINDOW_DAYS))
    return [today + timedelta(days=offset) for offset in range(1, (last - today).days + 1)]


def covering_digest_day(site: SiteConfig, day: date) -> date | None:
    """The working day whose digest covers ``day``: the last working day before it (None: no
    working day in the month before it, so no digest ever covers it)."""
    for back in range(1, MAX_WINDOW_DAYS + 1):
        candidate = day - timedelta(days=back)
        if site.digest.is_working_day(candidate):
            return candidate
    return None


def local_today(site: SiteConfig, now: datetime) -> date:
    return now.astimezone(site.zone).date()


def digest_due(site: SiteConfig, now: datetime) -> date | None:
    """The date whose digest is due at ``now``, or None (not a working day, or too early)."""
    local = now.astimezone(site.zone)
    if not site.digest.is_working_day(local.date()):
        return None
    if (local.hour, local.minute) < site.digest.hour_minute:
        return None
    return local.date()


def digest_recipients(site: SiteConfig) -> list[int]:
    """Supervisors, managers and dispatchers, each once, in the site file's order."""
    return [person.id for person in site.people if set(person.roles) & set(DIGEST_ROLES)]


def day_bounds(site: SiteConfig, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=site.zone)
    return start, start + timedelta(days=1)


class DigestService:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self.site = site
        self.clock = clock

    async def claim(self, session: AsyncSession, day: date) -> bool:
        return await ClockRunRepository(session).claim(DIGEST_JOB, day.isoformat(), self.clock.now())

    async def meetings(self, session: AsyncSession, days: Sequence[date]) -> list[DayMeetings]:
        repo = AftercareRepository(session)
        result: list[DayMeetings] = []
        for day in days:
            start, end = day_bounds(self.site, day)
            rows = await repo.bookings_starting(start, end, DIGEST_STATUSES)
            result.append(
                DayMeetings(
                    day,
                    [
                        MeetingItem(
                            booking_id=row.id,
                            status=row.status,
                            room_id=row.room_id,
                            start=row.start_at,
                            end=row.end_at,
                            department_id=row.department_id,
                            title=row.title,
                            confidential=row.confidential,
                            attendees=row.attendees,
                            reception_level=row.reception_level,
                            services=tuple(row.services or {}),
                        )
                        for row in rows
                    ],
                )
            )
        return result

    async def team_tasks(self, session: AsyncSession, team_id: str, days: Sequence[date]) -> list[DayTasks]:
        repo = AftercareRepository(session)
        result: list[DayTasks] = []
        for day in days:
            start, end = day_bounds(self.site, day)
            result.append(DayTasks(day, task_items(await repo.tasks_between(start, end, team_id))))
        return result


def task_items(rows: Iterable[tuple[Task, Booking]]) -> list[TaskItem]:
    """Tasks as digest lines, in the order given; a meeting's repeating reminders folded into one."""
    items: list[TaskItem] = []
    folded: dict[tuple[int, str], int] = {}
    for task, booking in rows:
        item = TaskItem(
            task_id=task.id,
            booking_id=booking.id,
            template_id=task.template_id,
            team_id=task.team_id,
            kind=task.kind,
            status=task.status,
            room_id=booking.room_id,
            push_at=task.push_at,
            due_at=task.due_at,
            meeting_start=booking.start_at,
            meeting_end=booking.end_at,
        )
        if task.kind == TaskKind.reminder:
            key = (booking.id, task.template_id)
            if key in folded:
                index = folded[key]
                first = items[index]
                items[index] = replace(first, count=first.count + 1, last_at=task.push_at)
                continue
            folded[key] = len(items)
            item = replace(item, last_at=task.push_at)
        items.append(item)
    return items
