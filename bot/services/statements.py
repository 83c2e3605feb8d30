"""The monthly statement per department (docs/product.md §5), as plain values.

What a department's statement counts (decided here, documented in docs/product.md §5):

* **Meetings**: its bookings confirmed, in progress or finished whose start falls in the month
  (the 1st 00:00 to the next 1st 00:00 in the site's zone), with attendees.
* **No-shows**: its bookings of the month released because nobody checked in (status
  ``no_show``, bot/services/checkin.py).
* **Consumables**: what its meetings of the month used (会务用品使用登记), at the price of
  the day each was recorded.
* **Fees**: each meeting's fee confirmation (会议费确认单) and its state (sent, accepted,
  disputed); the amount the department is charged is the consumables' amount.

Who gets it (the department's *contacts*): the department's admins from the site file; a
department without admins: the people who booked its meetings of the month (the organisers).
A department with neither meetings nor no-shows that month gets nothing. The supervisors get
the summary of every department that got one.

The run is claimed once per month (``clock_runs``: ``statements`` + ``2026-11``) and each
department's statement is a ``statements`` row (unique per department and month) that keeps
the contact's answer: Accept, or Dispute with a reason that goes to the supervisors.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.booking import MAX_NOTES
from bot.services.clock import Clock
from bot.services.strict import clean_text
from bot.services.types import BookingStatus, Notice
from bot.site import Role, SiteConfig
from storage.models import Statement
from storage.repositories.aftercare import MEETING_STATUSES, ClockRunRepository
from storage.repositories.statements import StatementRepository

STATEMENTS_JOB = "statements"
NO_SHOW = BookingStatus.no_show.value
"""The status of a booking released because nobody checked in (docs/product.md §2)."""
# [0-9], not \d: "٢٠٢٦-١١" is no month (bot/services/strict.py)
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{1,2})$")


class MonthError(ValueError):
    """The text names no month."""


class StatementError(Exception):
    """A rule said no; ``code`` picks the message (bot/render/statements.py)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    @property
    def last(self) -> date:
        return date.fromordinal(self.next().first.toordinal() - 1)

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def bounds(self, site: SiteConfig) -> tuple[datetime, datetime]:
        """The month's first and the next month's first, 00:00 in the site's zone."""
        start = datetime.combine(self.first, time(0), tzinfo=site.zone)
        return start, datetime.combine(self.next().first, time(0), tzinfo=site.zone)


def parse_month(text: str | None, today: date) -> Month:
    """``2026-11``, or nothing (last month)."""
    value = (text or "").strip()
    if not value:
        return Month.of(today).previous()
    match = _MONTH.match(value)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise MonthError(value)
    return Month(int(match.group(1)), int(match.group(2)))


def statement_moment(site: SiteConfig, month: Month) -> datetime:
    """When the statement of ``month`` is sent: the next month's day and time (site zone)."""
    sent_in = month.next()
    return datetime.combine(
        date(sent_in.year, sent_in.month, site.statements.day),
        time(*site.statements.hour_minute),
        tzinfo=site.zone,
    )


def next_statement_moment(site: SiteConfig, after: datetime) -> datetime:
    """The first moment statements are sent strictly after ``after``: this month's day and
    time, or next month's once it has passed (for a clock that jumps, bot/jobs)."""
    last_month = Month.of(after.astimezone(site.zone).date()).previous()
    moment = statement_moment(site, last_month)
    return moment if moment > after else statement_moment(site, last_month.next())


def statements_due(site: SiteConfig, now: datetime) -> Month:
    """The month whose statements are due at ``now``: last month from this month's day and time
    on, before that the month before it.

    The run is claimed once per month, so this only says which month a missed run may still
    be caught up for: a bot that was down on the 1st at 09:00 sends them when it comes back,
    at most once, and never for an older month."""
    local = now.astimezone(site.zone)
    last_month = Month.of(local.date()).previous()
    if local < statement_moment(site, last_month):
        return last_month.previous()
    return last_month


@dataclass(frozen=True)
class StatementMeeting:
    booking_id: int
    start: datetime
    end: datetime
    room_id: str
    title: str
    confidential: bool
    attendees: int
    no_show: bool
    consumables_cents: int
    fee_status: str | None
    """``sent``, ``accepted``, ``disputed``, or None: no fee confirmation was sent."""
    fee_cents: int


@dataclass(frozen=True)
class ConsumableLine:
    consumable_id: str
    quantity: int
    amount_cents: int


@dataclass
class DepartmentStatement:
    department_id: str
    month: Month
    generated_at: datetime
    meetings: list[StatementMeeting] = field(default_factory=list)
    """Every meeting of the month, no-shows included (marked)."""
    consumables: list[ConsumableLine] = field(default_factory=list)
    organisers: list[int] = field(default_factory=list)

    @property
    def held(self) -> list[StatementMeeting]:
        return [m for m in self.meetings if not m.no_show]

    @property
    def no_shows(self) -> int:
        return sum(1 for m in self.meetings if m.no_show)

    @property
    def attendees(self) -> int:
        return sum(m.attendees for m in self.held)

    @property
    def consumables_cents(self) -> int:
        return sum(c.amount_cents for c in self.consumables)

    def fees(self, status: str) -> int:
        """How many of the meetings have a fee confirmation in ``status``."""
        return sum(1 for m in self.meetings if m.fee_status == status)

    @property
    def empty(self) -> bool:
        return not self.meetings


@dataclass(frozen=True)
class StatementView:
    id: int
    department_id: str
    month: Month
    status: str
    recipients: tuple[int, ...]
    sent_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    dispute_reason: str | None


def _view(row: Statement) -> StatementView:
    year, month = row.month.split("-")
    return StatementView(
        row.id,
        row.department_id,
        Month(int(year), int(month)),
        row.status,
        tuple(int(person) for person in row.recipients),
        row.sent_at,
        row.decided_by_id,
        row.decided_at,
        row.dispute_reason,
    )


class StatementService:
    def __init__(self, site: SiteConfig, clock: Clock) -> None:
        self.site = site
        self.clock = clock

    def supervisors(self) -> list[int]:
        return self.site.people_with(Role.supervisor)

    async def claimed(self, session: AsyncSession, month: Month) -> bool:
        """Whether the month's run was already claimed (a read: no write lock needed)."""
        return await ClockRunRepository(session).exists(STATEMENTS_JOB, month.label)

    async def department(
        self, session: AsyncSession, department_id: str, month: Month
    ) -> DepartmentStatement:
        """The figures of one department's statement for ``month``."""
        return (await self._statements(session, month, department_id)).get(
            department_id, DepartmentStatement(department_id, month, self.clock.now())
        )

    async def summary(self, session: AsyncSession, month: Month) -> list[DepartmentStatement]:
        """Every department with meetings or no-shows in ``month``, in the site file's order."""
        found = await self._statements(session, month, None)
        order = [d.id for d in self.site.departments]
        return [found[d] for d in order + sorted(set(found) - set(order)) if d in found]

    async def _statements(
        self, session: AsyncSession, month: Month, department_id: str | None
    ) -> dict[str, DepartmentStatement]:
        now = self.clock.now()
        start, end = month.bounds(self.site)
        repo = StatementRepository(session)
        bookings = await repo.bookings_starting(start, end, (*MEETING_STATUSES, NO_SHOW), department_id)
        ids = [b.id for b in bookings]
        used: dict[int, int] = defaultdict(int)
        quantities: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        amounts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        department_of = {b.id: b.department_id for b in bookings}
        for record in await repo.records_of(ids):
            amount = record.quantity * record.unit_price_cents
            used[record.booking_id] += amount
            department = department_of[record.booking_id]
            quantities[department][record.consumable_id] += record.quantity
            amounts[department][record.consumable_id] += amount
        fees = {fee.booking_id: fee for fee in await repo.fees_of(ids)}
        result: dict[str, DepartmentStatement] = {}
        for booking in bookings:
            statement = result.setdefault(
                booking.department_id, DepartmentStatement(booking.department_id, month, now)
            )
            fee = fees.get(booking.id)
            statement.meetings.append(
                StatementMeeting(
                    booking.id,
                    booking.start_at,
                    booking.end_at,
                    booking.room_id,
                    booking.title,
                    booking.confidential,
                    booking.attendees,
                    booking.status == NO_SHOW,
                    used.get(booking.id, 0),
                    fee.status if fee is not None else None,
                    fee.total_cents if fee is not None else 0,
                )
            )
            if booking.requester_id not in statement.organisers:
                statement.organisers.append(booking.requester_id)
        known = [c.id for c in self.site.consumables]
        for department, statement in result.items():
            per_item = quantities.get(department, {})
            for consumable_id in known + sorted(set(per_item) - set(known)):
                if consumable_id in per_item:
                    statement.consumables.append(
                        ConsumableLine(
                            consumable_id, per_item[consumable_id], amounts[department][consumable_id]
                        )
                    )
        return result

    def contacts(self, statement: DepartmentStatement) -> list[int]:
        """The department's admins; without any, the people who booked its meetings that month."""
        department = self.site.department(statement.department_id)
        if department is not None and department.admins:
            return list(department.admins)
        return list(statement.organisers)

    async def queue(self, session: AsyncSession, month: Month) -> tuple[int, list[Notice]]:
        """Claim ``month`` and make each department's statement and the supervisors' summary:
        the departments sent to, and the notices to deliver in the same transaction. A month
        already claimed (another instance, before a restart) gives nothing."""
        now = self.clock.now()
        if not await ClockRunRepository(session).claim(STATEMENTS_JOB, month.label, now):
            return 0, []
        repo = StatementRepository(session)
        notices: list[Notice] = []
        sent = 0
        for statement in await self.summary(session, month):
            people = self.contacts(statement)
            if not people:
                continue
            row = await repo.add(
                Statement(
                    department_id=statement.department_id,
                    month=month.label,
                    status="sent",
                    recipients=people,
                    sent_at=now,
                )
            )
            sent += 1
            for person in people:
                key = f"statement:{row.id}:{person}"
                notices.append(Notice("statement", person, {"statement_id": row.id}, dedupe_key=key))
                notices.append(
                    Notice(
                        "statement_workbook", person, {"statement_id": row.id}, dedupe_key=f"{key}:workbook"
                    )
                )
        if sent:
            notices += [
                Notice(
                    "statements_summary",
                    supervisor,
                    {"month": month.label},
                    dedupe_key=f"statements:{month.label}:{supervisor}",
                )
                for supervisor in self.supervisors()
            ]
        return sent, notices

    async def statement(self, session: AsyncSession, statement_id: int) -> StatementView | None:
        row = await StatementRepository(session).get(statement_id)
        return _view(row) if row is not None else None

    async def of_month(self, session: AsyncSession, month: Month) -> list[StatementView]:
        return [_view(row) for row in await StatementRepository(session).of_month(month.label)]

    async def check_decision(self, session: AsyncSession, statement_id: int, user_id: int) -> StatementView:
        """The statement ``user_id`` may still accept or dispute; StatementError if not."""
        statement = await self.statement(session, statement_id)
        if statement is None:
            raise StatementError("not_found")
        if user_id not in statement.recipients:
            raise StatementError("not_yours")
        if statement.status != "sent":
            raise StatementError("decided")
        return statement

    async def decide(
        self, session: AsyncSession, statement_id: int, user_id: int, accept: bool, reason: str | None = None
    ) -> tuple[StatementView, list[Notice]]:
        """Accept, or dispute with a reason (which goes to the supervisors)."""
        await self.check_decision(session, statement_id, user_id)
        cleaned = clean_text(reason or "", MAX_NOTES, multiline=True)
        if not accept and not cleaned:
            raise StatementError("no_reason")
        status = "accepted" if accept else "disputed"
        repo = StatementRepository(session)
        if not await repo.decide(
            statement_id, status, user_id, None if accept else cleaned, self.clock.now()
        ):
            raise StatementError("decided")
        row = await repo.get(statement_id, fresh=True)
        assert row is not None
        statement = _view(row)
        notices = []
        if not accept:
            notices = [
                Notice(
                    "statement_disputed",
                    supervisor,
                    {"statement_id": statement_id},
                    dedupe_key=f"statement-dispute:{statement_id}:{supervisor}",
                )
                for supervisor in self.supervisors()
            ]
        return statement, notices
