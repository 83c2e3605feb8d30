"""Recurring bookings (bot/services/series.py, docs/product.md §2): the preview with its
conflicts and broken rules, booking with skips and other rooms, one approval for a series,
cancelling and changing one / following / all, and the bounds. On SQLite and PostgreSQL
(HUIWU_TEST_DATABASE=postgres)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from bot.services.approval_chase import ApprovalChaser, waiting_page
from bot.services.booking import BookingChanges, BookingError, BookingRequest, BookingService
from bot.services.clock import ManualClock
from bot.services.digest import DigestService, covered_days, local_today
from bot.services.recurrence import Frequency, RecurrenceError, RecurrenceRule
from bot.services.reports import IsoWeek, ReportService
from bot.services.series import OccurrenceOutcome, SeriesOutcome, SeriesScope, SeriesService
from bot.services.statements import Month, StatementService
from bot.services.types import BookingStatus
from bot.site import SiteConfig, SiteConfigError, parse_site
from storage.database import Database
from storage.models import Booking
from tests.support.factories import booking_request
from tests.support.people import APPROVER, REQUESTER

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKLY_3 = RecurrenceRule(Frequency.WEEKLY, count=3)


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """2026-12-01 (the clock's start, 09:00) is a Tuesday; 2026-12-07 a Monday."""
    year = 2026 if month == 12 else 2027
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def request(start: datetime, **changes: Any) -> BookingRequest:
    base = booking_request(start, reception_level=4, title="周例会")
    return replace(base, **changes)


def hall(start: datetime) -> BookingRequest:
    return request(start, room_id="r203", attendees=100, layout="theatre", reception_level=3)


@pytest.fixture
def booking(site: SiteConfig, clock: ManualClock) -> BookingService:
    return BookingService(site, clock)


@pytest.fixture
def series(site: SiteConfig, clock: ManualClock, booking: BookingService) -> SeriesService:
    return SeriesService(site, clock, booking)


async def make(
    db: Database, series: SeriesService, first: BookingRequest, rule: RecurrenceRule = WEEKLY_3, **kw: Any
) -> SeriesOutcome:
    async with db.transaction() as session:
        return await series.create(session, first, rule, **kw)


async def rows(db: Database, series_id: int) -> list[Booking]:
    async with db.transaction() as session:
        found = await session.scalars(
            select(Booking).where(Booking.series_id == series_id).order_by(Booking.series_index)
        )
        return list(found)


# ---- preview ---------------------------------------------------------------------------------
async def test_the_preview_names_a_taken_meeting_and_one_that_breaks_a_rule(
    db: Database, booking: BookingService, series: SeriesService
) -> None:
    async with db.transaction() as session:
        await booking.create(session, request(local(12, 15, 9, 30)))  # the third week is taken
    # the first meeting is within the hour of notice class A needs (the clock says 09:00)
    async with db.transaction() as session:
        plans = await series.preview(session, request(local(12, 1, 9, 30)), WEEKLY_3)
    assert [(plan.index, plan.start, plan.problem) for plan in plans] == [
        (0, local(12, 1, 9, 30), "too_early"),
        (1, local(12, 8, 9, 30), None),
        (2, local(12, 15, 9, 30), "slot_taken"),
    ]
    async with db.transaction() as session:
        free = await series.free_rooms_for(session, request(local(12, 1, 9, 30)), plans[2])
    assert "r101" not in free and free[0] == "r102"


async def test_the_preview_of_a_year_of_mondays_reads_the_room_once(
    db: Database, booking: BookingService, series: SeriesService
) -> None:
    """The confirmation draws the preview each time it is shown: its statements must not grow
    with the number of meetings (a query per meeting would be 52 here)."""
    async with db.transaction() as session:
        await booking.create(session, request(local(12, 21, 9, 30)))  # the third Monday is taken
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.transaction() as session:
            plans = await series.preview(
                session, request(local(12, 7, 9, 30)), RecurrenceRule(Frequency.WEEKLY, count=52)
            )
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert len(plans) == 52
    assert [plan.index for plan in plans if plan.problem] == [2]
    assert plans[2].problem == "slot_taken"
    selects = [text for text in statements if text.lstrip().upper().startswith(("SELECT", "WITH", "("))]
    assert 1 <= len(selects) <= 3, statements


async def test_a_series_of_ten_thousand_and_an_end_before_the_start_are_refused(
    db: Database, series: SeriesService
) -> None:
    async with db.transaction() as session:
        with pytest.raises(RecurrenceError) as caught:
            await series.preview(
                session, request(local(12, 7, 10)), RecurrenceRule(Frequency.WEEKLY, count=10_000)
            )
        assert caught.value.code == "series_too_long"
        assert caught.value.params == {"days": 366, "occurrences": 260}
        with pytest.raises(RecurrenceError) as caught:
            rule = RecurrenceRule(Frequency.WEEKLY, until=date(2026, 12, 1))
            await series.create(session, request(local(12, 7, 10)), rule)
        assert caught.value.code == "series_end_before_start"


async def test_the_bounds_are_a_site_setting(db: Database, site: SiteConfig, clock: ManualClock) -> None:
    small = site.model_copy(update={"series": site.series.model_copy(update={"max_occurrences": 4})})
    service = SeriesService(small, clock, BookingService(small, clock))
    async with db.transaction() as session:
        with pytest.raises(RecurrenceError) as caught:
            await service.preview(
                session, request(local(12, 7, 10)), RecurrenceRule(Frequency.WEEKLY, count=5)
            )
    assert caught.value.params["occurrences"] == 4


# ---- booking -------------------------------------------------------------------------------
async def test_skipped_meetings_are_not_booked_and_another_room_is_used_where_asked(
    db: Database, series: SeriesService
) -> None:
    rule = RecurrenceRule(Frequency.WEEKLY, count=4)
    outcome = await make(db, series, request(local(12, 7, 10)), rule, skip={1}, rooms={2: "r102"})
    assert [view.series_index for view in outcome.bookings] == [0, 2, 3]
    assert [view.room_id for view in outcome.bookings] == ["r101", "r102", "r101"]
    assert outcome.skipped == [1]
    stored = await rows(db, outcome.series_id)
    assert [(row.series_index, row.status) for row in stored] == [
        (0, "confirmed"),
        (2, "confirmed"),
        (3, "confirmed"),
    ]


async def test_a_meeting_taken_meanwhile_is_skipped_and_the_rest_booked(
    db: Database, booking: BookingService, series: SeriesService
) -> None:
    async with db.transaction() as session:
        await booking.create(session, request(local(12, 14, 10, 30)))
    outcome = await make(db, series, request(local(12, 7, 10)))
    assert outcome.skipped == [1]
    assert [view.start for view in outcome.bookings] == [local(12, 7, 10), local(12, 21, 10)]


async def test_nothing_bookable_is_a_clear_error_and_writes_nothing(
    db: Database, series: SeriesService
) -> None:
    with pytest.raises(BookingError) as caught:
        await make(db, series, request(local(12, 7, 10)), skip={0, 1, 2})
    assert caught.value.code == "series_nothing_booked"


# ---- approval once -----------------------------------------------------------------------------
async def test_a_class_c_series_is_asked_once_and_approved_at_once(
    db: Database, booking: BookingService, series: SeriesService
) -> None:
    outcome = await make(db, series, hall(local(12, 7, 14)))
    assert [view.status for view in outcome.bookings] == [BookingStatus.pending] * 3
    asks = [notice for notice in outcome.notices if notice.kind == "approval_request"]
    assert [(notice.chat_id, notice.params["booking_id"]) for notice in asks] == [
        (APPROVER, outcome.bookings[0].id)
    ]
    async with db.transaction() as session:
        dates = await series.request_dates(session, outcome.bookings[0].id)
    assert [view.start for view in dates] == [local(12, 7, 14), local(12, 14, 14), local(12, 21, 14)]
    async with db.transaction() as session:
        decided = await booking.decide(session, outcome.bookings[0].id, APPROVER, approve=True)
    told = [notice for notice in decided.notices if notice.kind == "booking_decided"]
    assert len(told) == 1 and told[0].params["series"] == 3
    assert [row.status for row in await rows(db, outcome.series_id)] == ["confirmed"] * 3


async def test_rejecting_any_meeting_of_the_request_rejects_the_series(
    db: Database, booking: BookingService, series: SeriesService
) -> None:
    outcome = await make(db, series, hall(local(12, 7, 14)))
    async with db.transaction() as session:
        await booking.decide(session, outcome.bookings[2].id, APPROVER, approve=False, reason="年底装修")
    assert [row.status for row in await rows(db, outcome.series_id)] == ["rejected"] * 3


async def test_only_the_first_waiting_meeting_is_chased_and_the_next_carries_on_after_it(
    db: Database, site: SiteConfig, clock: ManualClock, booking: BookingService, series: SeriesService
) -> None:
    outcome = await make(db, series, hall(local(12, 7, 14)))
    clock.set(local(12, 7, 14))  # the first meeting's start came undecided
    async with db.transaction() as session:
        result, _ = await ApprovalChaser(site, booking).run(session)
    kinds = sorted((notice.kind, notice.params.get("booking_id")) for notice in result.notices)
    first, second = outcome.bookings[0].id, outcome.bookings[1].id
    assert ("approval_request", second) in kinds  # the next one is asked, once
    assert not any(kind == "approval_reminder" for kind, _ in kinds)
    assert [row.status for row in await rows(db, outcome.series_id)] == ["rejected", "pending", "pending"]
    async with db.transaction() as session:
        await booking.decide(session, second, APPROVER, approve=True)
    assert [row.status for row in await rows(db, outcome.series_id)] == ["rejected", "confirmed", "confirmed"]
    assert first != second


# ---- cancel and change ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scope", "left"),
    [
        (SeriesScope.one, ["confirmed", "cancelled", "confirmed", "confirmed"]),
        (SeriesScope.following, ["confirmed", "cancelled", "cancelled", "cancelled"]),
        (SeriesScope.all, ["cancelled", "cancelled", "cancelled", "cancelled"]),
    ],
)
async def test_cancel_one_following_or_all(
    db: Database, series: SeriesService, scope: SeriesScope, left: list[str]
) -> None:
    outcome = await make(db, series, request(local(12, 7, 10)), RecurrenceRule(Frequency.WEEKLY, count=4))
    async with db.transaction() as session:
        await series.cancel(session, outcome.bookings[1].id, REQUESTER, scope)
    assert [row.status for row in await rows(db, outcome.series_id)] == left


async def test_all_cancels_only_the_meetings_not_yet_started(
    db: Database, clock: ManualClock, series: SeriesService
) -> None:
    outcome = await make(db, series, request(local(12, 7, 10)))
    clock.set(local(12, 8, 9))
    async with db.transaction() as session:
        await series.cancel(session, outcome.bookings[2].id, REQUESTER, SeriesScope.all)
    assert [row.status for row in await rows(db, outcome.series_id)] == [
        "confirmed",
        "cancelled",
        "cancelled",
    ]


async def test_someone_else_may_not_cancel_the_series(db: Database, series: SeriesService) -> None:
    outcome = await make(db, series, request(local(12, 7, 10)))
    async with db.transaction() as session:
        with pytest.raises(BookingError) as caught:
            await series.cancel(session, outcome.bookings[0].id, 999_999, SeriesScope.all)
    assert caught.value.code == "not_allowed"


async def test_change_following_moves_each_meeting_and_reports_the_one_it_cannot(
    db: Database, booking: BookingService, series: SeriesService
) -> None:
    outcome = await make(db, series, request(local(12, 7, 10)), RecurrenceRule(Frequency.WEEKLY, count=4))
    async with db.transaction() as session:
        await booking.create(session, request(local(12, 28, 11, 30)))  # the last week's 11:00 is taken
    second = outcome.bookings[1]
    changes = BookingChanges(start=local(12, 14, 11), end=local(12, 14, 12, 30))
    async with db.transaction() as session:
        results = await series.change(session, second.id, REQUESTER, changes, SeriesScope.following)
    problems = [r.problem if isinstance(r, OccurrenceOutcome) else None for r in results]
    assert problems == [None, None, "slot_taken"]
    stored = await rows(db, outcome.series_id)
    assert [(row.start_at, row.end_at) for row in stored] == [
        (local(12, 7, 10), local(12, 7, 11)),
        (local(12, 14, 11), local(12, 14, 12, 30)),
        (local(12, 21, 11), local(12, 21, 12, 30)),
        (local(12, 28, 10), local(12, 28, 11)),  # left as it was
    ]


# ---- the reports count meetings ------------------------------------------------------------------
async def test_a_series_of_n_is_n_meetings_in_the_weekly_report(
    db: Database, site: SiteConfig, clock: ManualClock, series: SeriesService
) -> None:
    outcome = await make(db, series, request(local(12, 7, 10)), RecurrenceRule(Frequency.WORKDAYS, count=5))
    assert len(outcome.bookings) == 5
    async with db.transaction() as session:
        figures = await ReportService(site, clock).week(session, IsoWeek.of(date(2026, 12, 7)))
    assert sorted(meeting.booking_id for meeting in figures.meetings) == sorted(
        v.id for v in outcome.bookings
    )


async def test_the_digest_lists_tomorrows_meeting_of_a_series(
    db: Database, site: SiteConfig, clock: ManualClock, series: SeriesService
) -> None:
    outcome = await make(db, series, request(local(12, 2, 10)))  # Wednesdays 2, 9 and 16 December
    clock.set(local(12, 8, 17))  # Tuesday evening: the digest covers Wednesday 9 December
    digest = DigestService(site, clock)
    days = covered_days(site, local_today(site, clock.now()))
    assert days == [date(2026, 12, 9)]
    async with db.transaction() as session:
        (day,) = await digest.meetings(session, days)
    assert [item.booking_id for item in day.meetings] == [outcome.bookings[1].id]
    assert day.meetings[0].start == local(12, 9, 10)


async def test_the_monthly_statement_counts_each_meeting_of_a_series(
    db: Database, site: SiteConfig, clock: ManualClock, series: SeriesService
) -> None:
    # five Mondays: four in December, the fifth on 4 January
    outcome = await make(db, series, request(local(12, 7, 10)), RecurrenceRule(Frequency.WEEKLY, count=5))
    async with db.transaction() as session:
        for row in await session.scalars(select(Booking).where(Booking.series_id == outcome.series_id)):
            row.status = BookingStatus.finished  # held, as the clock jobs would leave them
    statements = StatementService(site, clock)
    async with db.transaction() as session:
        december = await statements.department(session, "finance", Month(2026, 12))
        january = await statements.department(session, "finance", Month(2027, 1))
    assert [meeting.booking_id for meeting in december.meetings] == [view.id for view in outcome.bookings[:4]]
    assert len(december.held) == 4 and december.attendees == 40
    assert [meeting.booking_id for meeting in january.meetings] == [outcome.bookings[4].id]


async def test_cancelling_the_meeting_that_carries_the_request_asks_again_for_the_rest(
    db: Database, series: SeriesService
) -> None:
    outcome = await make(db, series, hall(local(12, 7, 14)))
    async with db.transaction() as session:
        [cancelled] = await series.cancel(session, outcome.bookings[0].id, REQUESTER, SeriesScope.one)
    asks = [(n.kind, n.params["booking_id"]) for n in cancelled.notices if n.kind == "approval_request"]
    assert asks == [("approval_request", outcome.bookings[1].id)]
    stored = await rows(db, outcome.series_id)
    assert [row.status for row in stored] == ["cancelled", "pending", "pending"]
    assert stored[1].approval_since is not None and stored[2].approval_since is None


async def test_the_approvals_list_shows_a_series_once(db: Database, series: SeriesService) -> None:
    outcome = await make(db, series, hall(local(12, 7, 14)))
    async with db.transaction() as session:
        page, total, _ = await waiting_page(session, 0, 10)
    assert total == 1 and [view.id for view, _ in page] == [outcome.bookings[0].id]


def test_the_series_bounds_of_the_site_file_are_checked(site: SiteConfig) -> None:
    data = site.model_dump(by_alias=True, exclude_unset=True, mode="json")
    assert parse_site({**data, "series": {"horizon_days": 200}}).series.horizon_days == 200
    for wrong in ({"max_occurrences": 0}, {"horizon_days": 5000}, {"every": 3}):
        with pytest.raises(SiteConfigError):
            parse_site({**data, "series": wrong})
