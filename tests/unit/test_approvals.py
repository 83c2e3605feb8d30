"""Approvals that chase (docs/product.md §2): working-hours arithmetic, the timers in the
database, claims taken exactly once, withdraw, the start that ends a request, and the races."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.services.approval_chase import ApprovalChaser
from bot.services.approvals import (
    ASKED,
    ESCALATED,
    REMINDED,
    escalation_recipients,
    first_approvers,
    may_decide,
    working_time_after,
)
from bot.services.booking import BookingError, BookingRequest, BookingService
from bot.services.clock import ManualClock
from bot.services.types import BookingStatus, Outcome
from bot.site import SiteConfig, parse_site
from storage.database import Database
from storage.models import Booking, BookingRevision
from tests.support.factories import booking_request
from tests.support.people import APPROVER, MANAGER, REQUESTER, SUPERVISOR

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in the site's zone: the 4th is a Friday, the 7th a Monday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def with_approvals(site: SiteConfig, **approvals: Any) -> SiteConfig:
    data = site.model_dump(by_alias=True, exclude_unset=True, mode="json")
    data["approvals"] = {**data.get("approvals", {}), **approvals}
    return parse_site(data)


def with_holidays(site: SiteConfig, *days: date) -> SiteConfig:
    return site.model_copy(update={"digest": replace_digest(site, days)})


def replace_digest(site: SiteConfig, days: tuple[date, ...]) -> Any:
    return site.digest.model_copy(update={"holidays": days})


# ---- working hours --------------------------------------------------------------------------
def test_friday_afternoon_plus_two_working_hours_is_monday_morning(site: SiteConfig) -> None:
    assert working_time_after(site, local(4, 16, 30), timedelta(hours=2)) == local(7, 10, 30)


def test_a_holiday_is_skipped(site: SiteConfig) -> None:
    holiday = with_holidays(site, date(2026, 12, 7))
    assert working_time_after(holiday, local(4, 16, 30), timedelta(hours=2)) == local(8, 10, 30)


def test_outside_office_hours_counts_from_the_next_opening(site: SiteConfig) -> None:
    assert working_time_after(site, local(1, 20, 0), timedelta(hours=2)) == local(2, 11, 0)
    assert working_time_after(site, local(2, 7, 15), timedelta(hours=2)) == local(2, 11, 0)
    # Saturday counts from Monday's opening
    assert working_time_after(site, local(5, 10, 0), timedelta(hours=2)) == local(7, 11, 0)


def test_within_office_hours_and_up_to_the_close(site: SiteConfig) -> None:
    assert working_time_after(site, local(1, 10, 0), timedelta(hours=2)) == local(1, 12, 0)
    assert working_time_after(site, local(1, 15, 0), timedelta(hours=2)) == local(1, 17, 0)
    assert working_time_after(site, local(1, 15, 0), timedelta(hours=10)) == local(2, 17, 0)


def test_office_hours_are_a_site_setting(site: SiteConfig) -> None:
    late = with_approvals(site, office_hours="13:00-24:00")
    assert working_time_after(late, local(1, 23, 0), timedelta(hours=2)) == local(2, 14, 0)


def test_the_result_is_utc(site: SiteConfig) -> None:
    moment = working_time_after(site, local(4, 16, 30), timedelta(hours=2))
    assert moment.tzinfo is UTC


# ---- who is asked ---------------------------------------------------------------------------
def test_escalation_goes_to_the_manager_by_default(site: SiteConfig) -> None:
    assert first_approvers(site) == [APPROVER]
    assert escalation_recipients(site) == [MANAGER]
    assert may_decide(site, APPROVER) and may_decide(site, MANAGER)
    assert not may_decide(site, SUPERVISOR) and not may_decide(site, REQUESTER)


def test_second_approvers_are_asked_only_when_escalated(site: SiteConfig) -> None:
    data = site.model_dump(by_alias=True, exclude_unset=True, mode="json")
    data["people"].append({"id": 2102, "name": "第二审批人", "roles": ["approver"]})
    data["approvals"] = {"escalate_to": [2102]}
    second = parse_site(data)
    assert first_approvers(second) == [APPROVER]
    assert escalation_recipients(second) == [2102]
    assert may_decide(second, 2102) and not may_decide(second, MANAGER)


# ---- the timers, end to end in the service ----------------------------------------------------
def hall_request(start: datetime, **changes: Any) -> BookingRequest:
    base = booking_request(
        start,
        duration=timedelta(hours=2),
        room_id="r203",
        attendees=100,
        layout="theatre",
        title="年度工作会",
    )
    return replace(base, **changes)


@pytest.fixture
def service(site: SiteConfig, clock: ManualClock) -> BookingService:
    return BookingService(site, clock)


async def create(db: Database, service: BookingService, request: BookingRequest) -> Outcome:
    async with db.transaction() as session:
        return await service.create(session, request)


async def chase(db: Database, site: SiteConfig, service: BookingService) -> list[tuple[str, int]]:
    async with db.transaction() as session:
        result, _ = await ApprovalChaser(site, service).run(session)
    return [(notice.kind, notice.chat_id) for notice in result.notices]


async def row(db: Database, booking_id: int) -> Booking:
    async with db.transaction() as session:
        booking = await session.get(Booking, booking_id)
        assert booking is not None
        return booking


async def test_a_request_is_reminded_then_escalated_then_ends_at_its_start(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    clock.set(local(4, 16, 30))  # Friday afternoon
    booking = (await create(db, service, hall_request(local(9, 14)))).booking
    stored = await row(db, booking.id)
    assert stored.approval_since == local(4, 16, 30)
    assert stored.approval_next_at == local(7, 10, 30)  # Monday, after two working hours
    assert stored.approval_stage == ASKED

    clock.set(local(7, 10, 29))
    assert await chase(db, site, service) == []
    clock.set(local(7, 10, 30))
    assert await chase(db, site, service) == [("approval_reminder", APPROVER)]
    assert await chase(db, site, service) == []  # claimed once: a second run finds nothing
    stored = await row(db, booking.id)
    assert (stored.approval_stage, stored.approval_stage_at) == (REMINDED, local(7, 10, 30))
    assert stored.approval_next_at == local(7, 12, 30)

    clock.set(local(7, 12, 30))
    assert await chase(db, site, service) == [("approval_escalated", MANAGER)]
    assert await chase(db, site, service) == []
    stored = await row(db, booking.id)
    assert stored.approval_stage == ESCALATED and stored.approval_next_at == local(9, 14)

    clock.set(local(9, 14))
    notices = await chase(db, site, service)
    assert notices == [("booking_decided", REQUESTER)]
    stored = await row(db, booking.id)
    assert stored.status == BookingStatus.rejected and stored.approval_next_at is None
    assert await chase(db, site, service) == []


async def test_a_request_due_after_its_start_ends_at_its_start(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    clock.set(local(4, 16, 30))
    booking = (await create(db, service, hall_request(local(5, 18)))).booking  # Saturday evening
    stored = await row(db, booking.id)
    assert stored.approval_next_at == local(5, 18)  # the start comes before Monday's reminder
    clock.set(local(5, 18))
    assert await chase(db, site, service) == [("booking_decided", REQUESTER)]
    assert (await row(db, booking.id)).status == BookingStatus.rejected


async def test_two_instances_claiming_at_once_remind_once(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    clock.set(local(1, 9, 0))
    booking = (await create(db, service, hall_request(local(8, 10)))).booking
    clock.set(local(1, 11, 0))
    first, second = await asyncio.gather(chase(db, site, service), chase(db, site, service))
    assert sorted(first + second) == [("approval_reminder", APPROVER)]
    assert (await row(db, booking.id)).approval_stage == REMINDED


async def test_a_decision_stops_the_chase(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    clock.set(local(1, 9, 0))
    booking = (await create(db, service, hall_request(local(8, 10)))).booking
    async with db.transaction() as session:
        await service.decide(session, booking.id, MANAGER, approve=True, revision=booking.revision)
    assert (await row(db, booking.id)).approval_next_at is None
    clock.set(local(8, 10))
    assert await chase(db, site, service) == []
    assert (await row(db, booking.id)).status == BookingStatus.confirmed


async def test_a_change_of_the_request_starts_the_wait_again(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    from bot.services.booking import BookingChanges

    clock.set(local(1, 9, 0))
    booking = (await create(db, service, hall_request(local(8, 10)))).booking
    clock.set(local(1, 11, 0))
    assert await chase(db, site, service) == [("approval_reminder", APPROVER)]
    clock.set(local(1, 11, 30))
    async with db.transaction() as session:
        await service.change(
            session, booking.id, REQUESTER, "finance", BookingChanges(start=local(8, 14), end=local(8, 16))
        )
    stored = await row(db, booking.id)
    assert (stored.approval_stage, stored.approval_since) == (ASKED, local(1, 11, 30))
    assert stored.approval_next_at == local(1, 13, 30)


# ---- withdraw ---------------------------------------------------------------------------------
async def test_withdraw_ends_a_new_request_and_a_press_after_it_changes_nothing(
    db: Database, clock: ManualClock, service: BookingService
) -> None:
    clock.set(local(1, 9, 0))
    booking = (await create(db, service, hall_request(local(8, 10)))).booking
    async with db.transaction() as session:
        outcome = await service.withdraw(session, booking.id, REQUESTER, "finance", booking.revision)
    assert outcome.booking.status == BookingStatus.cancelled
    with pytest.raises(BookingError) as caught:
        async with db.transaction() as session:
            await service.decide(session, booking.id, APPROVER, approve=True, revision=booking.revision)
    assert caught.value.code == "withdrawn"
    assert (await row(db, booking.id)).status == BookingStatus.cancelled


async def test_only_who_may_manage_the_booking_withdraws_it(
    db: Database, clock: ManualClock, service: BookingService
) -> None:
    clock.set(local(1, 9, 0))
    booking = (await create(db, service, hall_request(local(8, 10)))).booking
    with pytest.raises(BookingError) as caught:
        async with db.transaction() as session:
            await service.withdraw(session, booking.id, 1002, "office", booking.revision)
    assert caught.value.code == "not_allowed"
    assert (await row(db, booking.id)).status == BookingStatus.pending


async def test_approve_and_withdraw_at_once_have_exactly_one_outcome(
    db: Database, clock: ManualClock, service: BookingService
) -> None:
    clock.set(local(1, 9, 0))
    for attempt in range(4):
        start = local(8, 8 + 3 * attempt)
        booking = (await create(db, service, hall_request(start))).booking

        async def approve(booking_id: int = booking.id, revision: int = booking.revision) -> str:
            try:
                async with db.transaction() as session:
                    await service.decide(session, booking_id, APPROVER, approve=True, revision=revision)
            except BookingError as error:
                return error.code
            return "approved"

        async def withdraw(booking_id: int = booking.id, revision: int = booking.revision) -> str:
            try:
                async with db.transaction() as session:
                    await service.withdraw(session, booking_id, REQUESTER, "finance", revision)
            except BookingError as error:
                return error.code
            return "withdrew"

        results = (
            await asyncio.gather(approve(), withdraw())
            if attempt % 2
            else await asyncio.gather(withdraw(), approve())
        )
        outcomes = sorted(results)
        # the loser changes nothing and says why: decided already, or withdrawn already
        assert outcomes in (["already_decided", "approved"], ["withdrawn", "withdrew"]), outcomes
        final = await row(db, booking.id)
        expected = BookingStatus.confirmed if "approved" in outcomes else BookingStatus.cancelled
        assert final.status == expected
        async with db.read() as session:
            events = (
                await session.scalars(
                    select(BookingRevision.event).where(BookingRevision.booking_id == booking.id)
                )
            ).all()
        assert len([event for event in events if event in ("approved", "withdrawn")]) == 1


async def test_the_next_approval_timer_is_a_clock_job_moment(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    from bot.jobs import next_clock_job_at

    clock.set(local(1, 9, 0))
    await create(db, service, hall_request(local(8, 10)))
    async with db.transaction() as session:
        assert await next_clock_job_at(session, site, local(1, 9, 0)) == local(1, 11, 0)


# ---- the site file ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("approvals", "problem"),
    [
        ({"office_hours": "17:00-09:00"}, "approvals.office_hours: the office must close after it opens"),
        ({"office_hours": "9-5"}, 'approvals.office_hours: must be two times of day written "HH:MM-HH:MM"'),
        ({"remind_after_hours": 0}, "approvals.remind_after_hours: must be > 0"),
        ({"escalate_to": "approver"}, 'approvals.escalate_to: must be "supervisor", "manager" or a list'),
        ({"escalate_to": "boss"}, 'approvals.escalate_to: must be "supervisor", "manager" or a list'),
        ({"escalate_to": []}, "approvals.escalate_to: must name at least one second approver"),
        ({"escalate_to": [2201]}, "approvals.escalate_to[0]: 2201 is not a person with the role 'approver'"),
        ({"escalate_to": [2101]}, "approvals.escalate_to: every approver is a second approver"),
    ],
)
def test_bad_approval_settings_are_reported_clearly(
    site: SiteConfig, approvals: dict[str, Any], problem: str
) -> None:
    from bot.site import SiteConfigError

    with pytest.raises(SiteConfigError) as caught:
        with_approvals(site, **approvals)
    assert any(line.startswith(problem) for line in caught.value.problems), caught.value.problems


def test_a_named_role_nobody_has_is_a_problem(site: SiteConfig) -> None:
    from bot.site import SiteConfigError

    data = site.model_dump(by_alias=True, exclude_unset=True, mode="json")
    for person in data["people"]:
        person["roles"] = [role for role in person.get("roles", []) if role != "supervisor"]
    data["escalation"] = {"chain": [{"role": "manager", "wait_minutes": 10}]}
    data["approvals"] = {"escalate_to": "supervisor"}
    with pytest.raises(SiteConfigError) as caught:
        parse_site(data)
    assert any("approvals.escalate_to: nobody has the role 'supervisor'" in p for p in caught.value.problems)
