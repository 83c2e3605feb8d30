"""Check-in and no-show release (docs/product.md §2): the deadline per class, the off switches,
who may check in, the prompt and the release claimed exactly once, and a check-in racing the
release."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.services.booking import BookingRequest, BookingService
from bot.services.checkin import CheckInService, next_checkin_moment, release_deadline
from bot.services.clock import ManualClock
from bot.services.door_display import DoorDisplayService
from bot.services.types import BookingStatus
from bot.site import SiteConfig, parse_site
from storage.database import Database
from storage.models import Booking
from tests.support.factories import booking_request
from tests.support.people import ALICE, AV_MEMBER, DISPATCHER, REQUESTER

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def with_checkin(site: SiteConfig, **checkin: Any) -> SiteConfig:
    data = site.model_dump(by_alias=True, exclude_unset=True, mode="json")
    data["checkin"] = {**data.get("checkin", {}), **checkin}
    return parse_site(data)


# ---- the deadline ---------------------------------------------------------------------------
def test_the_deadline_is_the_start_plus_the_class_release_time(site: SiteConfig) -> None:
    start, end = local(2, 10), local(2, 12)
    assert release_deadline(site, "r101", start, end, False) == local(2, 10, 15)
    per_class = with_checkin(site, release_after_minutes={"C": 30, "B": 20})
    assert release_deadline(per_class, "r203", start, end, False) == local(2, 10, 30)
    assert release_deadline(per_class, "r301", start, end, False) == local(2, 10, 20)
    assert release_deadline(per_class, "r101", start, end, False) == local(2, 10, 15)


def test_the_off_switches(site: SiteConfig) -> None:
    start, end = local(2, 10), local(2, 12)
    assert release_deadline(with_checkin(site, enabled=False), "r101", start, end, False) is None
    assert release_deadline(with_checkin(site, off_rooms=["r101"]), "r101", start, end, False) is None
    assert release_deadline(with_checkin(site, off_rooms=["r101"]), "r102", start, end, False) is not None
    assert release_deadline(with_checkin(site, off_classes=["A"]), "r102", start, end, False) is None
    keep_secret = with_checkin(site, release_confidential=False)
    assert release_deadline(keep_secret, "r101", start, end, True) is None
    assert release_deadline(keep_secret, "r101", start, end, False) is not None
    assert release_deadline(site, "r101", start, end, True) is not None
    # a meeting over before its release time is never released
    assert release_deadline(site, "r101", start, local(2, 10, 15), False) is None


def test_unknown_classes_and_rooms_are_problems(site: SiteConfig) -> None:
    from bot.site import SiteConfigError

    with pytest.raises(SiteConfigError) as raised:
        with_checkin(site, off_rooms=["nowhere"], off_classes=["Z"], release_after_minutes={"Q": 10})
    text = str(raised.value)
    assert "checkin.off_rooms[0]" in text and "checkin.off_classes[0]" in text
    assert "checkin.release_after_minutes.Q" in text


# ---- in the database ------------------------------------------------------------------------
@pytest.fixture
def service(site: SiteConfig, clock: ManualClock) -> BookingService:
    return BookingService(site, clock)


def meeting(start: datetime, **changes: Any) -> BookingRequest:
    base = booking_request(start, duration=timedelta(hours=2), title="周例会")
    return replace(base, **changes)


async def create(db: Database, service: BookingService, request: BookingRequest) -> int:
    async with db.transaction() as session:
        return (await service.create(session, request)).booking.id


async def run(db: Database, checkin: CheckInService) -> tuple[int, int, list[tuple[str, int]]]:
    async with db.transaction() as session:
        result, _ = await checkin.run(session)
    return result.prompted, result.released, [(n.kind, n.chat_id) for n in result.notices]


async def row(db: Database, booking_id: int) -> Booking:
    async with db.transaction() as session:
        booking = await session.get(Booking, booking_id)
        assert booking is not None
        return booking


async def test_prompt_then_release_each_exactly_once(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    checkin = CheckInService(site, service)
    number = await create(db, service, meeting(local(1, 11)))
    async with db.read() as session:
        assert await next_checkin_moment(session, site, clock.now()) == local(1, 10, 50)
    clock.set(local(1, 10, 49))
    assert await run(db, checkin) == (0, 0, [])
    clock.set(local(1, 10, 50))
    prompted, released, notices = await run(db, checkin)
    assert (prompted, released) == (1, 0)
    assert ("checkin_prompt", REQUESTER) in notices
    assert (await run(db, checkin))[:2] == (0, 0)  # claimed: a second run sends nothing
    async with db.read() as session:
        assert await next_checkin_moment(session, site, clock.now()) == local(1, 11, 15)

    clock.set(local(1, 11, 14))
    assert (await run(db, checkin))[:2] == (0, 0)
    clock.set(local(1, 11, 15))
    prompted, released, notices = await run(db, checkin)
    assert (prompted, released) == (0, 1)
    assert ("booking_no_show", REQUESTER) in notices
    stored = await row(db, number)
    assert stored.status == BookingStatus.no_show and stored.checkin_state == "released"
    assert (await run(db, checkin))[:2] == (0, 0)
    # the room is free again: the same slot can be booked
    clock.set(local(1, 11, 16))
    again = await create(db, service, meeting(local(1, 12, 30), end=local(1, 13)))
    assert (await row(db, again)).status == BookingStatus.confirmed


async def test_two_runs_at_once_prompt_and_release_once(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    checkin = CheckInService(site, service)
    await create(db, service, meeting(local(1, 11)))
    clock.set(local(1, 10, 55))
    results = await asyncio.gather(run(db, checkin), run(db, checkin))
    assert sum(prompted for prompted, _, _ in results) == 1
    clock.set(local(1, 11, 20))
    results = await asyncio.gather(run(db, checkin), run(db, checkin))
    assert sum(released for _, released, _ in results) == 1


async def test_who_may_check_in_and_when(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    checkin = CheckInService(site, service)
    number = await create(db, service, meeting(local(1, 11)))

    async def press(user: int, department: str | None, late: bool = False) -> str:
        async with db.transaction() as session:
            return (await checkin.check_in(session, number, user, department, late)).code

    assert await press(REQUESTER, "finance") == "too_early"
    clock.set(local(1, 10, 51))
    assert await press(ALICE, "office") == "not_allowed"
    assert await press(AV_MEMBER, None) == "not_allowed"
    assert (await row(db, number)).checkin_state == ""
    assert await press(REQUESTER, "finance", late=True) == "late"
    assert await press(DISPATCHER, None) == "checked_in"
    assert await press(REQUESTER, "finance") == "already_checked_in"
    clock.set(local(1, 11, 30))
    assert (await run(db, checkin))[:2] == (0, 0)  # checked in: kept
    assert (await row(db, number)).status != BookingStatus.no_show


async def test_running_late_keeps_the_booking(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    checkin = CheckInService(site, service)
    number = await create(db, service, meeting(local(1, 11)))
    clock.set(local(1, 11, 5))
    async with db.transaction() as session:
        assert (await checkin.check_in(session, number, REQUESTER, "finance", late=True)).code == "late"
    clock.set(local(1, 11, 30))
    assert (await run(db, checkin))[:2] == (0, 0)
    assert (await row(db, number)).checkin_state == "late"


async def test_a_check_in_at_the_release_instant_has_exactly_one_outcome(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    checkin = CheckInService(site, service)
    numbers = [await create(db, service, meeting(local(1, 11), room_id=room)) for room in ("r101", "r102")]
    clock.set(local(1, 11, 15))

    async def press(number: int) -> str:
        async with db.transaction() as session:
            return (await checkin.check_in(session, number, REQUESTER, "finance")).code

    answers = await asyncio.gather(run(db, checkin), press(numbers[0]), press(numbers[1]))
    _prompted, released, _ = answers[0]
    codes = answers[1:]
    for number, code in zip(numbers, codes, strict=True):
        stored = await row(db, number)
        if code == "checked_in":
            assert stored.status != BookingStatus.no_show and stored.checkin_state == "checked_in"
        else:
            assert code == "released" and stored.status == BookingStatus.no_show
    assert released == sum(1 for code in codes if code == "released")


async def test_two_check_ins_at_once_record_one(
    db: Database, site: SiteConfig, clock: ManualClock, service: BookingService
) -> None:
    checkin = CheckInService(site, service)
    number = await create(db, service, meeting(local(1, 11)))
    clock.set(local(1, 10, 58))

    async def press(user: int, department: str | None) -> str:
        async with db.transaction() as session:
            return (await checkin.check_in(session, number, user, department)).code

    codes = await asyncio.gather(press(REQUESTER, "finance"), press(DISPATCHER, None))
    assert sorted(codes) == ["already_checked_in", "checked_in"]


async def test_off_rooms_are_neither_prompted_nor_released(
    db: Database, site: SiteConfig, clock: ManualClock
) -> None:
    off = with_checkin(site, off_rooms=["r101"])
    service = BookingService(off, clock)
    number = await create(db, service, meeting(local(1, 11)))
    checkin = CheckInService(off, service)
    for moment in (local(1, 10, 50), local(1, 11, 30)):
        clock.set(moment)
        assert (await run(db, checkin))[:2] == (0, 0)
    assert (await row(db, number)).status != BookingStatus.no_show


async def test_the_door_display_opens_check_in_when_the_prompts_go_out(
    db: Database, site: SiteConfig, clock: ManualClock
) -> None:
    site = with_checkin(site, prompt_minutes=20)
    service = BookingService(site, clock)
    number = await create(db, service, meeting(local(1, 11)))
    door = DoorDisplayService(site, clock)
    room = site.room("r101")
    assert room is not None

    async def checks_in_to() -> int | None:
        async with db.read() as session:
            meeting_on = (await door.state(session, room)).checkin
        return meeting_on.booking_id if meeting_on is not None else None

    clock.set(local(1, 10, 39))
    assert await checks_in_to() is None  # the QR code still books the room
    clock.set(local(1, 10, 40))
    assert await checks_in_to() == number
