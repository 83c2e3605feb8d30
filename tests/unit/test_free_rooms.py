"""The bounded overlap queries (free-room search and the per-room check) against a real database.

Bookings are read from ``start - span_bound`` on by their start times, and longer ones through
the span index. These tests put rows in directly — as bookings made before a rule or a buffer
changed would be — and check that none is missed: very long ones, ones a microsecond either side
of the bound, blocks touching the window's edges, the buffer stored with the booking, and that
inactive bookings are ignored. A random mix is checked against a plain reading of the rule, and
the statements that run are checked to read indexes, not the table.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, text

from bot.services.booking import MAX_DURATION, BookingError, BookingRequest, BookingService
from bot.services.clock import ManualClock
from bot.services.types import BookingStatus
from bot.site import RoomClass, SiteConfig
from storage.database import Database
from storage.models import Booking
from storage.repositories.bookings import BookingRepository
from tests.databases import USE_POSTGRES
from tests.support.factories import booking_request

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOMS = ("r101", "r102", "r301", "r203", "vc1")
INACTIVE = (BookingStatus.cancelled, BookingStatus.rejected, BookingStatus.finished)
US = timedelta(microseconds=1)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in the site's zone."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def service(site: SiteConfig, clock: ManualClock) -> BookingService:
    return BookingService(site, clock)


def with_buffers(site: SiteConfig, minutes: dict[str, float]) -> SiteConfig:
    """The site with other buffers per room class (the example gives every class 30 min)."""
    classes = {
        name: RoomClass(
            min_notice_minutes=room_class.min_notice_minutes,
            buffer_minutes=minutes[name],
            needs_approval=room_class.needs_approval,
        )
        for name, room_class in site.room_classes.items()
    }
    return site.model_copy(update={"room_classes": classes})


def buffer_of(site: SiteConfig, room_id: str) -> timedelta:
    room = site.room(room_id)
    assert room is not None
    return site.room_class_of(room).buffer


async def add(
    db: Database,
    room: str,
    start: datetime,
    blocked_until: datetime,
    status: BookingStatus = BookingStatus.confirmed,
) -> int:
    """A booking row as it is stored, whatever rules made it (the end is irrelevant here)."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    async with db.transaction() as session:
        booking = Booking(
            status=status.value,
            revision=1,
            department_id="finance",
            requester_id=1001,
            booked_by_id=1001,
            room_id=room,
            start_at=start,
            end_at=min(blocked_until, start + timedelta(hours=1)),
            blocked_until=blocked_until,
            attendees=1,
            layout="discussion",
            reception_level=3,
            confidential=False,
            title="Seeded",
            contact_name="x",
            contact_phone="1",
            notes="",
            services={},
            created_at=now,
            updated_at=now,
        )
        session.add(booking)
        await session.flush()
        return booking.id


async def free(
    db: Database, service: BookingService, start: datetime, end: datetime, exclude: int | None = None
) -> set[str]:
    async with db.transaction() as session:
        offers = await service.free_rooms(session, start, end, 1, exclude_booking_id=exclude)
    return {offer.room_id for offer in offers}


async def conflicting(
    db: Database, service: BookingService, room: str, start: datetime, blocked_until: datetime
) -> set[int]:
    async with db.transaction() as session:
        found = await BookingRepository(session).conflicts(
            room, start, blocked_until, span_bound=service.span_bound()
        )
    return {booking.id for booking in found}


def request(room: str, start: datetime, hours: float = 1) -> BookingRequest:
    return booking_request(
        start,
        duration=timedelta(hours=hours),
        room_id=room,
        attendees=5,
        layout="discussion" if room in ("r101", "r102") else "theatre",
        title="Budget review",
    )


def test_the_bound_is_the_longest_booking_plus_the_longest_buffer(
    site: SiteConfig, service: BookingService
) -> None:
    longest_buffer = max(room_class.buffer for room_class in site.room_classes.values())
    assert service.span_bound() == MAX_DURATION + longest_buffer


# ---- long bookings ------------------------------------------------------------------------------
async def test_a_booking_of_several_days_is_never_missed(db: Database, service: BookingService) -> None:
    long = await add(db, "r101", local(1, 8), local(6, 8))  # five days, far beyond the bound
    ended = await add(db, "r102", local(1, 8), local(3, 8))  # two days, over before the window

    window = (local(4, 9), local(4, 10))
    assert "r101" not in await free(db, service, *window)
    assert "r102" in await free(db, service, *window)
    assert await conflicting(db, service, "r101", *window) == {long}
    assert await conflicting(db, service, "r102", *window) == set()
    # it ends exactly where the window starts: free; a microsecond later: taken
    assert "r101" in await free(db, service, local(6, 8), local(6, 9))
    assert "r101" not in await free(db, service, local(6, 8) - US, local(6, 9))
    assert await conflicting(db, service, "r101", local(6, 8) - US, local(6, 9)) == {long}
    assert await conflicting(db, service, "r102", local(3, 8) - US, local(3, 9)) == {ended}


async def test_bookings_a_microsecond_either_side_of_the_bound(db: Database, service: BookingService) -> None:
    """Right where the two reads meet: started at or before ``start - bound``, or just after."""
    start, end = local(10, 12), local(10, 13)
    bound = service.span_bound()
    lower = start - bound
    a = await add(db, "r101", lower - US, start + US)  # span bound + 2 µs: read by its span
    b = await add(db, "r102", lower, start + US)  # starts on the lower bound: read by its span
    c = await add(db, "r301", lower + US, start + US)  # span exactly the bound: read by its start
    d = await add(db, "r203", lower - US, start)  # longer than the bound but ends at the start
    e = await add(db, "vc1", lower + 2 * US, start + 2 * US)  # the bound; starts after lower

    assert await free(db, service, start, end) == {"r203"}
    assert await conflicting(db, service, "r101", start, end) == {a}
    assert await conflicting(db, service, "r102", start, end) == {b}
    assert await conflicting(db, service, "r301", start, end) == {c}
    assert await conflicting(db, service, "r203", start, end) == set()
    assert await conflicting(db, service, "vc1", start, end) == {e}
    # a microsecond earlier the window meets the one that ends at its start
    assert "r203" not in await free(db, service, start - US, end)
    assert await conflicting(db, service, "r203", start - US, end) == {d}


async def test_a_long_booking_refuses_a_new_booking_in_its_room(
    db: Database, service: BookingService
) -> None:
    await add(db, "r101", local(2, 8), local(9, 8))  # a week, made before the 16 h rule
    with pytest.raises(BookingError) as caught:
        async with db.transaction() as session:
            await service.create(session, request("r101", local(5, 14)))
    assert caught.value.code == "slot_taken"
    async with db.transaction() as session:  # another room is free
        await service.create(session, request("r102", local(5, 14)))


# ---- edges and buffers --------------------------------------------------------------------------
async def test_edges_of_the_window_and_the_buffer(
    db: Database, service: BookingService, site: SiteConfig
) -> None:
    buffer = buffer_of(site, "r101")
    assert buffer == timedelta(minutes=30)
    booking = await add(db, "r101", local(2, 10), local(2, 11) + buffer)  # 10:00-11:00, until 11:30

    assert "r101" not in await free(db, service, local(2, 11, 15), local(2, 12))
    assert "r101" not in await free(db, service, local(2, 11, 29), local(2, 12))
    assert "r101" in await free(db, service, local(2, 11, 30), local(2, 12))  # touches the end
    # before it: a new booking needs its own buffer before 10:00
    assert "r101" in await free(db, service, local(2, 8, 30), local(2, 9, 30))
    assert "r101" not in await free(db, service, local(2, 8, 31), local(2, 9, 31))
    # the window holds it entirely
    assert "r101" not in await free(db, service, local(2, 8), local(2, 20))
    # the booking being changed does not stand in its own way
    assert "r101" in await free(db, service, local(2, 10), local(2, 11), exclude=booking)
    # the per-room check gets the new booking's block (end + buffer)
    assert await conflicting(db, service, "r101", local(2, 9), local(2, 10)) == set()
    assert await conflicting(db, service, "r101", local(2, 9), local(2, 10) + US) == {booking}
    assert await conflicting(db, service, "r101", local(2, 11, 30), local(2, 12)) == set()


async def test_the_buffer_stored_with_the_booking_counts_not_todays(
    db: Database, service: BookingService
) -> None:
    # made when the room had a three-hour buffer: blocked until 14:00, 16 h + 3 h in all
    await add(db, "r101", local(3, 19) - timedelta(days=1), local(3, 14))
    assert "r101" not in await free(db, service, local(3, 13, 30), local(3, 14, 30))
    assert "r101" in await free(db, service, local(3, 14), local(3, 15))


async def test_each_room_is_checked_with_its_own_buffer(
    db: Database, site: SiteConfig, clock: ManualClock
) -> None:
    site = with_buffers(site, {"A": 0, "B": 45, "C": 120})
    service = BookingService(site, clock)
    start, end = local(2, 8), local(2, 10)
    for room in ROOMS:  # every room's next booking starts 40 minutes after the window's end
        await add(db, room, end + timedelta(minutes=40), end + timedelta(hours=2))
    # A (r101, r102): needs no gap; B (r301): 45 min; C (r203, vc1): 2 h
    assert await free(db, service, start, end) == {"r101", "r102"}
    assert await free(db, service, start, end - timedelta(minutes=5)) == {"r101", "r102", "r301"}
    assert await free(db, service, start, end - timedelta(minutes=80)) == set(ROOMS)
    assert await free(db, service, start, end - timedelta(minutes=80) + US) == {"r101", "r102", "r301"}


# ---- inactive bookings --------------------------------------------------------------------------
@pytest.mark.parametrize("status", INACTIVE)
async def test_inactive_bookings_are_ignored(
    db: Database, service: BookingService, status: BookingStatus
) -> None:
    await add(db, "r101", local(2, 10), local(2, 11, 30), status)  # an ordinary one
    await add(db, "r102", local(1, 8), local(6, 8), status)  # a very long one
    active = await add(db, "r301", local(2, 10), local(2, 11, 30), BookingStatus.in_progress)
    pending = await add(db, "r203", local(1, 8), local(6, 8), BookingStatus.pending)

    rooms = await free(db, service, local(2, 10), local(2, 11))
    assert {"r101", "r102"} <= rooms
    assert not {"r301", "r203"} & rooms
    assert await conflicting(db, service, "r101", local(2, 10), local(2, 11)) == set()
    assert await conflicting(db, service, "r102", local(2, 10), local(2, 11)) == set()
    assert await conflicting(db, service, "r301", local(2, 10), local(2, 11)) == {active}
    assert await conflicting(db, service, "r203", local(2, 10), local(2, 11)) == {pending}


# ---- a random mix against the rule read plainly -------------------------------------------------
@pytest.mark.parametrize("buffers", [None, {"A": 0, "B": 45, "C": 120}])
async def test_a_random_mix_agrees_with_the_rule(
    db: Database, site: SiteConfig, clock: ManualClock, buffers: dict[str, float] | None
) -> None:
    if buffers is not None:
        site = with_buffers(site, buffers)
    service = BookingService(site, clock)
    rng = random.Random(20261201)
    first = local(1, 0).astimezone(UTC)
    rows: list[tuple[int, str, datetime, datetime, BookingStatus]] = []
    for room in ROOMS:
        at = first
        for _ in range(25):
            # active blocks of one room never overlap (the lock, and PostgreSQL's constraint)
            at += timedelta(minutes=rng.randrange(0, 600))
            length = rng.choice(
                [
                    timedelta(minutes=rng.randrange(1, 180)),  # ordinary
                    timedelta(minutes=rng.randrange(600, 1200)),  # around the bound (16 h 30)
                    timedelta(hours=rng.randrange(20, 120)),  # far beyond it
                ]
            )
            status = rng.choice([BookingStatus.confirmed, BookingStatus.pending, BookingStatus.in_progress])
            rows.append((await add(db, room, at, at + length, status), room, at, at + length, status))
            at += length
            if rng.random() < 0.4:  # an inactive one anywhere, overlapping or not
                start = first + timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
                until = start + timedelta(minutes=rng.randrange(1, 60 * 24 * 4))
                status = rng.choice(INACTIVE)
                rows.append((await add(db, room, start, until, status), room, start, until, status))
    last = max(until for _, _, _, until, _ in rows)

    for _ in range(60):
        start = first + timedelta(minutes=rng.randrange(0, int((last - first).total_seconds() // 60)))
        end = start + timedelta(minutes=rng.randrange(15, 16 * 60))
        exclude = rng.choice(rows)[0] if rng.random() < 0.2 else None
        expected_free = {
            room
            for room in ROOMS
            if not any(
                other_room == room
                and status not in INACTIVE
                and booking_id != exclude
                and other_start < end + buffer_of(site, room)
                and other_until > start
                for booking_id, other_room, other_start, other_until, status in rows
            )
        }
        assert await free(db, service, start, end, exclude) == expected_free, (start, end)
        room = rng.choice(ROOMS)
        expected = {
            booking_id
            for booking_id, other_room, other_start, other_until, status in rows
            if other_room == room and status not in INACTIVE and other_start < end and other_until > start
        }
        assert await conflicting(db, service, room, start, end) == expected, (room, start, end)


# ---- the statements read indexes ----------------------------------------------------------------
@contextmanager
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "FROM bookings" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def plan(db: Database, statement: str, parameters: Any) -> str:
    async with db.engine.connect() as connection:
        if USE_POSTGRES:
            # the tables here are tiny: forbid the table scan to see whether an index can serve
            await connection.execute(text("SET LOCAL enable_seqscan = off"))
            rows = await connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        else:
            rows = await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(str(row[-1]) for row in rows)


async def test_the_search_and_the_check_read_indexes_only(db: Database, service: BookingService) -> None:
    await add(db, "r101", local(2, 10), local(2, 11, 30))
    await add(db, "r102", local(1, 8), local(6, 8))
    with statements(db) as seen:
        await free(db, service, local(2, 10), local(2, 11))
        await conflicting(db, service, "r101", local(2, 10), local(2, 11))
    assert len(seen) == 2
    search, check = [await plan(db, statement, parameters) for statement, parameters in seen]
    for found in (search, check):
        if USE_POSTGRES:
            assert "Seq Scan" not in found, found
        else:  # SQLite says SCAN for a read of the whole table, SEARCH for an index range
            assert "SCAN bookings" not in found, found
        assert "ix_bookings_span" in found, found
    if not USE_POSTGRES:  # PostgreSQL picks by its statistics, which a few rows do not make
        assert "ix_bookings_status_start" in search, search
        assert "ix_bookings_room_time" in check, check
