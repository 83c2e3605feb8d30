"""A seeded ISO week (2026-W49: Monday 30 November – Sunday 6 December, Asia/Shanghai) whose
weekly-briefing figures are known: the expected numbers are computed here from the seed data
by the test's own arithmetic, never by the report service.

Rows are written straight into the tables (bookings, tasks, task events, feedback,
consumption records), so the figures do not depend on the planner's templates.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.site import SiteConfig
from storage.models import Booking, Task, TaskEvent
from storage.models.aftercare import ConsumptionRecord, Feedback

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = "2026-W49"
REPORT_AT = datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI)  # Friday 17:00: the briefing's time


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of December 2026 (day 0 = Monday 30 November) in Shanghai."""
    return datetime(2026, 11, 30, hour, minute, tzinfo=SHANGHAI) + timedelta(days=day)


@dataclass(frozen=True)
class SeedBooking:
    key: str
    status: str
    room: str
    room_class: str
    start: datetime
    minutes: int
    attendees: int
    department: str
    services: tuple[str, ...]
    title: str = "周例会"
    confidential: bool = False
    in_week: bool = True


@dataclass(frozen=True)
class SeedTask:
    key: str
    booking: str
    team: str
    due: datetime
    pushed: datetime | None
    confirmed: datetime | None = None
    on_behalf: bool = False
    status: str = "done"
    needs_confirmation: bool = True
    kind: str = "task"
    escalated_to: tuple[str, ...] = ()
    problem: str | None = None
    counted: bool = True
    """False for the tasks the briefing must leave out (cancelled, not yet due, other weeks)."""


@dataclass(frozen=True)
class SeedFeedback:
    booking: str
    score: int
    comment: str | None = None


@dataclass(frozen=True)
class SeedConsumption:
    booking: str
    consumable: str
    quantity: int
    price_cents: int


BOOKINGS = (
    SeedBooking("B1", "finished", "r101", "A", at(0, 9), 120, 10, "finance", ("tea", "water")),
    SeedBooking(
        "B2", "finished", "r301", "B", at(1, 14), 120, 100, "office", ("projector", "microphones", "tea")
    ),
    SeedBooking(
        "B3",
        "finished",
        "r203",
        "C",
        at(2, 9),
        180,
        300,
        "planning",
        ("banner", "tea", "flowers"),
        title="保密会议",
        confidential=True,
    ),
    SeedBooking("B4", "finished", "r101", "A", at(3, 10), 60, 8, "finance", ("water",)),
    SeedBooking("B5", "cancelled", "r102", "A", at(3, 14), 60, 20, "office", ("tea",), in_week=False),
    SeedBooking("B6", "pending", "vc1", "C", at(4, 9), 60, 50, "office", (), in_week=False),
    SeedBooking("B7", "confirmed", "r101", "A", at(7, 9), 60, 5, "finance", ("tea",), in_week=False),
    SeedBooking("B8", "finished", "r101", "A", at(-1, 23), 30, 7, "finance", ("tea",), in_week=False),
)

TASKS = (
    # the service team: two on time, one confirmed late, one never confirmed and escalated to the manager
    SeedTask("T1", "B1", "service", at(0, 8, 30), at(0, 8), at(0, 8, 20)),
    SeedTask("T2", "B1", "service", at(0, 10), at(0, 9, 50), at(0, 10, 10)),
    SeedTask("T3", "B2", "service", at(1, 13, 30), at(1, 13), at(1, 13, 10)),
    SeedTask(
        "T4",
        "B3",
        "service",
        at(2, 8, 30),
        at(2, 8),
        None,
        status="open",
        escalated_to=("supervisor", "manager"),
    ),
    # AV: confirmed on its behalf after an escalation, one on time, one with a problem
    SeedTask(
        "T5",
        "B2",
        "av",
        at(1, 13, 30),
        at(1, 13),
        at(1, 13, 40),
        on_behalf=True,
        escalated_to=("supervisor",),
    ),
    SeedTask("T6", "B3", "av", at(2, 8), at(2, 7), at(2, 7, 30)),
    SeedTask(
        "T7", "B4", "av", at(3, 9, 30), at(3, 9), None, status="problem", problem="话筒坏了 <b>紧急</b>"
    ),
    # security: on time
    SeedTask("T8", "B4", "security", at(3, 9, 45), at(3, 9), at(3, 9, 40)),
    # left out: cancelled, a reminder, not due yet at the report's time, the week before
    SeedTask("T9", "B4", "cleaning", at(3, 12), None, status="cancelled", counted=False),
    SeedTask(
        "T10",
        "B2",
        "service",
        at(1, 14, 30),
        at(1, 14, 30),
        None,
        status="sent",
        needs_confirmation=False,
        kind="reminder",
        counted=False,
    ),
    SeedTask("T11", "B7", "service", at(5, 10), None, status="planned", counted=False),
    SeedTask("T12", "B8", "service", at(-1, 22, 30), at(-1, 22), at(-1, 22, 50), counted=False),
)

FEEDBACK = (
    SeedFeedback("B1", 5),
    SeedFeedback("B2", 2, "茶水不及时"),
    SeedFeedback("B3", 4),
    SeedFeedback("B7", 1, "not this week"),
)

CONSUMPTION = (
    SeedConsumption("B1", "bottled_water", 10, 200),
    SeedConsumption("B2", "tea_leaves", 2, 1500),
    SeedConsumption("B8", "flowers", 1, 8000),  # the week before
)


@dataclass
class Expected:
    meetings: int = 0
    attendees: int = 0
    by_room: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_class: dict[str, tuple[int, int]] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)
    teams: dict[str, tuple[int, int, int, float | None]] = field(default_factory=dict)
    """team: (tasks, on time, late, median minutes to confirm)."""
    late: set[str] = field(default_factory=set)
    escalations: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    scores: list[int] = field(default_factory=list)
    consumables_cents: int = 0

    @property
    def average(self) -> float:
        return sum(self.scores) / len(self.scores)


def expected() -> Expected:
    """The briefing's figures for the seed, by plain arithmetic on the seed data."""
    result = Expected()
    week = {b.key: b for b in BOOKINGS if b.in_week}
    result.meetings = len(week)
    result.attendees = sum(b.attendees for b in week.values())
    rooms: dict[str, list[int]] = defaultdict(list)
    classes: dict[str, list[int]] = defaultdict(list)
    for booking in week.values():
        rooms[booking.room].append(booking.attendees)
        classes[booking.room_class].append(booking.attendees)
    result.by_room = {room: (len(a), sum(a)) for room, a in rooms.items()}
    result.by_class = {key: (len(a), sum(a)) for key, a in classes.items()}
    result.services = dict(Counter(s for b in week.values() for s in b.services))
    outcomes: dict[str, list[bool]] = defaultdict(list)
    waits: dict[str, list[float]] = defaultdict(list)
    for task in TASKS:
        if not task.counted:
            continue
        on_time = task.confirmed is not None and task.confirmed <= task.due and not task.on_behalf
        outcomes[task.team].append(on_time)
        if task.confirmed is not None and task.pushed is not None:
            waits[task.team].append((task.confirmed - task.pushed).total_seconds() / 60)
        if not on_time:
            result.late.add(task.key)
        if task.escalated_to:
            result.escalations[task.key] = task.escalated_to[-1]
        if task.problem:
            result.problems[task.key] = task.problem
    for team, results in outcomes.items():
        median = statistics.median(waits[team]) if waits[team] else None
        result.teams[team] = (len(results), sum(results), len(results) - sum(results), median)
    result.scores = [f.score for f in FEEDBACK if week.get(f.booking)]
    result.consumables_cents = sum(c.quantity * c.price_cents for c in CONSUMPTION if week.get(c.booking))
    return result


async def seed(session: AsyncSession, site: SiteConfig, requester: int = 1001) -> dict[str, int]:
    """Write the seed; the database id of each booking and task key."""
    ids: dict[str, int] = {}
    created = at(-7, 9)
    for spec in BOOKINGS:
        room = site.room(spec.room)
        assert room is not None and room.room_class == spec.room_class
        end = spec.start + timedelta(minutes=spec.minutes)
        booking = Booking(
            status=spec.status,
            revision=1,
            department_id=spec.department,
            requester_id=requester,
            booked_by_id=requester,
            room_id=spec.room,
            start_at=spec.start,
            end_at=end,
            blocked_until=end + timedelta(minutes=30),
            attendees=spec.attendees,
            layout=room.layouts[0],
            reception_level=3,
            confidential=spec.confidential,
            title=spec.title,
            contact_name="联系人",
            contact_phone="13800000000",
            notes="",
            services={s: {} for s in spec.services},
            created_at=created,
            updated_at=created,
        )
        session.add(booking)
        await session.flush()
        ids[spec.key] = booking.id
    for number, task_spec in enumerate(TASKS):
        task = Task(
            booking_id=ids[task_spec.booking],
            template_id=f"seed_{task_spec.key.lower()}",
            team_id=task_spec.team,
            occurrence=number,
            kind=task_spec.kind,
            needs_confirmation=task_spec.needs_confirmation,
            leader_only=False,
            push_at=task_spec.pushed or task_spec.due - timedelta(minutes=30),
            planned_due_at=task_spec.due,
            due_at=task_spec.due,
            expires_at=None,
            status=task_spec.status,
            stage=len(task_spec.escalated_to) + (1 if task_spec.escalated_to else 0),
            steps=0,
            next_at=None,
            late=False,
            pushed_at=task_spec.pushed,
            confirmed_by_id=3001
            if task_spec.confirmed and not task_spec.on_behalf
            else (2201 if task_spec.confirmed else None),
            confirmed_at=task_spec.confirmed,
            on_behalf=task_spec.on_behalf,
            problem_reason=task_spec.problem,
            problem_by_id=3102 if task_spec.problem else None,
            updated_at=created,
        )
        session.add(task)
        await session.flush()
        ids[task_spec.key] = task.id
        for step, role in enumerate(task_spec.escalated_to, start=2):
            detail: dict[str, Any] = {"role": role, "stage": step}
            session.add(
                TaskEvent(task_id=task.id, kind="escalated", actor_id=None, at=task_spec.due, detail=detail)
            )
        if task_spec.problem:
            session.add(
                TaskEvent(
                    task_id=task.id,
                    kind="problem",
                    actor_id=3102,
                    at=task_spec.due,
                    detail={"reason": task_spec.problem},
                )
            )
    for feedback_spec in FEEDBACK:
        booking_id = ids[feedback_spec.booking]
        start = next(b.start for b in BOOKINGS if b.key == feedback_spec.booking)
        session.add(
            Feedback(
                booking_id=booking_id,
                organiser_id=requester,
                asked_at=start,
                score=feedback_spec.score,
                rated_at=start + timedelta(hours=3),
                comment=feedback_spec.comment,
                commented_at=start + timedelta(hours=3) if feedback_spec.comment else None,
            )
        )
    for consumption_spec in CONSUMPTION:
        start = next(b.start for b in BOOKINGS if b.key == consumption_spec.booking)
        session.add(
            ConsumptionRecord(
                booking_id=ids[consumption_spec.booking],
                consumable_id=consumption_spec.consumable,
                quantity=consumption_spec.quantity,
                unit_price_cents=consumption_spec.price_cents,
                team_id="service",
                recorded_by_id=3001,
                recorded_at=start + timedelta(hours=3),
            )
        )
    await session.flush()
    return ids
