"""Booking rules (docs/product.md §2) against a real SQLite database: notice, overlap, buffer, capacity,
times and zones, the concurrent confirm, approval, change and cancel."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.booking import (
    BookingChanges,
    BookingError,
    BookingRequest,
    BookingService,
    earliest_start,
    parse_attendees,
)
from bot.services.clock import ManualClock
from bot.services.types import BookingStatus
from bot.site import SiteConfig
from storage import migrate
from storage.database import Database, create_engine
from tests.support.factories import booking_request
from tests.support.people import APPROVER, DISPATCHER, REQUESTER

SHANGHAI = ZoneInfo("Asia/Shanghai")
OTHER_REQUESTER = 1002  # Alice Chen, office


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in the site's zone."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def request(
    room: str = "r101", start: datetime | None = None, hours: float = 1, **changes: object
) -> BookingRequest:
    start = start or local(1, 11)
    base = booking_request(
        start,
        duration=timedelta(hours=hours),
        room_id=room,
        layout={"r101": "discussion", "r102": "discussion"}.get(room, "theatre"),
        title="Budget review",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def service(site: SiteConfig, clock: ManualClock) -> BookingService:
    return BookingService(site, clock)


async def create(db: Database, service: BookingService, req: BookingRequest):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await service.create(session, req)


async def refused(db: Database, service: BookingService, req: BookingRequest) -> BookingError:
    with pytest.raises(BookingError) as caught:
        await create(db, service, req)
    return caught.value


# ---- minimum notice per class ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("room", "too_soon", "first_allowed", "offered"),
    [
        ("r101", local(1, 9, 59), local(1, 10), local(1, 10, 5)),  # class A: 1 hour
        ("r301", local(1, 12, 59), local(1, 13), local(1, 13, 5)),  # class B: 4 hours
        ("r203", local(2, 8, 59), local(2, 9), local(2, 9, 5)),  # class C: 1 day
    ],
)
async def test_minimum_notice_per_class(
    db: Database,
    service: BookingService,
    room: str,
    too_soon: datetime,
    first_allowed: datetime,
    offered: datetime,
) -> None:
    error = await refused(db, service, request(room, too_soon))
    assert error.code == "too_early"
    # the start offered leaves a minute to choose it, on a five-minute mark (offered_start)
    assert error.params["earliest"] == offered.astimezone(UTC)
    assert error.params["earliest"].astimezone(SHANGHAI) == offered
    outcome = await create(db, service, request(room, first_allowed))
    assert outcome.booking.start == first_allowed


def test_earliest_start_follows_the_site_file(site: SiteConfig, clock: ManualClock) -> None:
    room = site.room("r301")
    assert room is not None
    assert earliest_start(site, room, clock.now()) == local(1, 13, 5)


@pytest.mark.parametrize(
    ("now", "offered"),
    [
        (local(1, 10, 1) + timedelta(seconds=30), local(1, 11, 5)),  # the refusal of the report
        (
            local(
                1,
                10,
                3,
            )
            + timedelta(seconds=59),
            local(1, 11, 5),
        ),  # a minute to spare at least
        (local(1, 10, 4), local(1, 11, 5)),
        (local(1, 10, 4) + timedelta(microseconds=1), local(1, 11, 10)),
        (local(1, 23, 58), local(2, 1, 0)),  # over midnight
    ],
)
async def test_the_offered_earliest_start_is_accepted_when_chosen_a_minute_later(
    db: Database, site: SiteConfig, now: datetime, offered: datetime
) -> None:
    clock = ManualClock(now)
    service = BookingService(site, clock)
    error = await refused(db, service, request("r101", now + timedelta(minutes=30)))
    assert error.code == "too_early"
    shown = error.params["earliest"].astimezone(SHANGHAI)
    assert shown == offered
    # what the person reads is the minute; they pick exactly that, up to a minute later
    chosen = shown.replace(second=0, microsecond=0)
    clock.advance(timedelta(minutes=1))
    outcome = await create(db, service, request("r101", chosen))
    assert outcome.booking.start == chosen


# ---- overlap and turnover buffer -------------------------------------------------------------------
async def test_overlap_in_one_room_is_refused(db: Database, service: BookingService) -> None:
    await create(db, service, request(start=local(2, 10)))
    assert (await refused(db, service, request(start=local(2, 10, 30)))).code == "slot_taken"
    assert (await refused(db, service, request(start=local(2, 9, 30)))).code == "slot_taken"
    # another room at the same time is fine
    await create(db, service, request("r102", start=local(2, 10)))


async def test_buffer_edge_is_allowed_inside_is_refused(db: Database, service: BookingService) -> None:
    await create(db, service, request(start=local(2, 10)))  # 10:00-11:00, room blocked until 11:30
    assert (await refused(db, service, request(start=local(2, 11, 29)))).code == "slot_taken"
    after = await create(db, service, request(start=local(2, 11, 30)))
    assert after.booking.start == local(2, 11, 30)
    # before it: ending 9:30 leaves exactly the buffer before 10:00; 9:31 does not
    assert (await refused(db, service, request(start=local(2, 8, 31)))).code == "slot_taken"
    await create(db, service, request(start=local(2, 8, 30)))


async def test_cancelled_booking_frees_the_slot(db: Database, service: BookingService) -> None:
    first = await create(db, service, request(start=local(2, 10)))
    async with db.transaction() as session:
        await service.cancel(session, first.booking.id, REQUESTER, "finance")
    await create(db, service, request(start=local(2, 10)))


async def test_free_rooms_respect_buffer_and_capacity(db: Database, service: BookingService) -> None:
    await create(db, service, request(start=local(2, 10)))
    async with db.transaction() as session:
        inside = await service.free_rooms(session, local(2, 11, 15), local(2, 12), 10)
        edge = await service.free_rooms(session, local(2, 11, 30), local(2, 12), 10)
        big = await service.free_rooms(session, local(2, 14), local(2, 15), 150)
    assert "r101" not in {offer.room_id for offer in inside}
    assert "r101" in {offer.room_id for offer in edge}
    assert {offer.room_id for offer in big} == {"r301", "r203", "vc1"}
    assert [offer.capacity for offer in big] == sorted(offer.capacity for offer in big)


# ---- capacity, counts, times ----------------------------------------------------------------------------
async def test_capacity(db: Database, service: BookingService) -> None:
    error = await refused(db, service, request(start=local(2, 10), attendees=21))
    assert error.code == "over_capacity"
    assert error.params["capacity"] == 20
    await create(db, service, request(start=local(2, 10), attendees=20))
    assert service.largest_capacity() == 400


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), (" 7 ", 7), ("１２", 12), ("30人", 30), ("10000", 10000)],
)
def test_attendees_parsing(text: str, expected: int) -> None:
    assert parse_attendees(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("0", "attendees_too_few"),
        ("-3", "attendees_not_number"),
        ("abc", "attendees_not_number"),
        ("", "attendees_not_number"),
        ("1.5", "attendees_not_number"),
        ("12 people", "attendees_not_number"),
        ("10001", "attendees_absurd"),
        ("99999999999", "attendees_not_number"),
        ("😀", "attendees_not_number"),
        ("<b>5</b>", "attendees_not_number"),
    ],
)
def test_bad_attendee_counts(text: str, code: str) -> None:
    with pytest.raises(BookingError) as caught:
        parse_attendees(text)
    assert caught.value.code == code


async def test_end_before_start_and_past(db: Database, service: BookingService) -> None:
    assert (await refused(db, service, request(start=local(2, 10), hours=-1))).code == "end_before_start"
    assert (await refused(db, service, request(start=local(2, 10), hours=0))).code == "end_before_start"
    assert (await refused(db, service, request(start=local(1, 8)))).code == "in_past"
    assert (await refused(db, service, request(start=local(2, 6), hours=17))).code == "too_long"
    far = local(1, 10) + timedelta(days=400)
    assert (await refused(db, service, request(start=far))).code == "too_far"


async def test_times_are_stored_in_utc_and_shown_in_the_site_zone(
    db: Database, service: BookingService, site: SiteConfig
) -> None:
    from aiogram.utils.i18n import I18n

    from bot.render.text import Reader
    from bot.telegram.i18n import LOCALES_DIR

    outcome = await create(db, service, request(start=local(3, 14, 30)))
    async with db.transaction() as session:
        view = await service.get(session, outcome.booking.id)
    assert view is not None
    assert view.start == datetime(2026, 12, 3, 6, 30, tzinfo=UTC)
    assert view.start.utcoffset() == timedelta(0)
    reader = Reader(I18n(path=LOCALES_DIR, default_locale="zh"), "en", site)
    assert reader.span(view.start, view.end) == "Thu 3 Dec 2026 14:30–15:30"
    assert Reader(reader.i18n, "zh", site).span(view.start, view.end) == "2026年12月3日（周四） 14:30–15:30"


# ---- the race: two people confirm the same slot at the same moment ----------------------------------------
async def test_concurrent_confirm_books_exactly_once(db: Database, service: BookingService) -> None:
    mine = request(start=local(2, 10))
    theirs = replace(mine, requester_id=OTHER_REQUESTER, booked_by_id=OTHER_REQUESTER, department_id="office")

    async def attempt(req: BookingRequest) -> object:
        try:
            return await create(db, service, req)
        except BookingError as error:
            return error

    results = await asyncio.gather(*(attempt(req) for req in (mine, theirs, mine, theirs)))
    errors = [r for r in results if isinstance(r, BookingError)]
    assert len(errors) == 3
    assert {error.code for error in errors} == {"slot_taken"}
    async with db.transaction() as session:
        assert len(await service.upcoming(session, DISPATCHER, None)) == 1


async def test_concurrent_confirm_of_a_never_booked_room(db: Database, service: BookingService) -> None:
    """The room's lock row does not exist yet: both writers create it without failing."""
    req = request("r102", start=local(2, 15))
    outcomes = await asyncio.gather(
        create(db, service, req), create(db, service, req), return_exceptions=True
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["BookingError", "Outcome"]


# ---- approval (class C) ----------------------------------------------------------------------
async def test_class_c_waits_for_the_approver(db: Database, service: BookingService) -> None:
    outcome = await create(db, service, request("r203", start=local(3, 9), attendees=200))
    assert outcome.booking.status == BookingStatus.pending
    requests = [n for n in outcome.notices if n.kind == "approval_request"]
    assert [n.chat_id for n in requests] == [APPROVER]
    assert requests[0].params == {"booking_id": outcome.booking.id, "revision": 1}


async def test_only_the_approver_decides(db: Database, service: BookingService) -> None:
    booking = (await create(db, service, request("r203", start=local(3, 9)))).booking
    for outsider in (REQUESTER, DISPATCHER, 9999):
        with pytest.raises(BookingError) as caught:
            async with db.transaction() as session:
                await service.decide(session, booking.id, outsider, approve=True)
        assert caught.value.code == "not_allowed"
    async with db.transaction() as session:
        decided = await service.decide(session, booking.id, APPROVER, approve=True, revision=1)
    assert decided.booking.status == BookingStatus.confirmed
    assert [(n.kind, n.chat_id) for n in decided.notices] == [("booking_decided", REQUESTER)]
    with pytest.raises(BookingError) as caught:
        async with db.transaction() as session:
            await service.decide(session, booking.id, APPROVER, approve=False, reason="late")
    assert caught.value.code == "already_decided"
    assert caught.value.params["status"] == "confirmed"


async def test_rejection_keeps_the_reason_and_frees_the_room(db: Database, service: BookingService) -> None:
    booking = (await create(db, service, request("r203", start=local(3, 9)))).booking
    async with db.transaction() as session:
        decided = await service.decide(
            session, booking.id, APPROVER, approve=False, reason="Hall closed for <repairs>", revision=1
        )
    assert decided.booking.status == BookingStatus.rejected
    assert decided.booking.decision_reason == "Hall closed for <repairs>"
    await create(db, service, request("r203", start=local(3, 9)))
    async with db.transaction() as session:
        events = [row["event"] for row in await service.revisions(session, booking.id)]
    assert events == ["created", "rejected"]


async def test_stale_approval_of_a_changed_request(db: Database, service: BookingService) -> None:
    booking = (await create(db, service, request("r203", start=local(3, 9)))).booking
    async with db.transaction() as session:
        changed = await service.change(
            session, booking.id, REQUESTER, "finance", BookingChanges(start=local(3, 10), end=local(3, 11))
        )
    assert changed.booking.status == BookingStatus.pending
    assert [n.params["revision"] for n in changed.notices if n.kind == "approval_request"] == [2]
    with pytest.raises(BookingError) as caught:
        async with db.transaction() as session:
            await service.decide(session, booking.id, APPROVER, approve=True, revision=1)
    assert caught.value.code == "changed_meanwhile"
    async with db.transaction() as session:
        await service.decide(session, booking.id, APPROVER, approve=True, revision=2)


# ---- change and cancel ---------------------------------------------------------------------
async def test_change_is_a_new_revision_keeping_the_old_values(db: Database, service: BookingService) -> None:
    booking = (await create(db, service, request(start=local(2, 10)))).booking
    async with db.transaction() as session:
        changed = await service.change(
            session,
            booking.id,
            REQUESTER,
            "finance",
            BookingChanges(start=local(2, 14), end=local(2, 15), attendees=15, services={"tea": {}}),
        )
    assert changed.booking.revision == 2
    assert changed.booking.start == local(2, 14)
    async with db.transaction() as session:
        revisions = await service.revisions(session, booking.id)
    assert [row["event"] for row in revisions] == ["created", "changed"]
    assert revisions[0]["start"] == local(2, 10).astimezone(UTC).isoformat()
    assert revisions[0]["attendees"] == 10
    assert revisions[1]["attendees"] == 15
    assert revisions[1]["services"] == {"tea": {}}
    # the old slot is free again, the new one is taken
    await create(db, service, request(start=local(2, 10)))
    assert (await refused(db, service, request(start=local(2, 14)))).code == "slot_taken"


async def test_change_follows_the_same_rules(db: Database, service: BookingService) -> None:
    booking = (await create(db, service, request(start=local(2, 10)))).booking
    await create(db, service, request(start=local(2, 14)))

    async def change(changes: BookingChanges) -> str:
        with pytest.raises(BookingError) as caught:
            async with db.transaction() as session:
                await service.change(session, booking.id, REQUESTER, "finance", changes)
        return caught.value.code

    assert await change(BookingChanges(start=local(2, 14, 30), end=local(2, 15))) == "slot_taken"
    assert await change(BookingChanges(start=local(1, 8, 30), end=local(1, 10))) == "in_past"
    assert await change(BookingChanges(start=local(1, 9, 30), end=local(1, 10))) == "too_early"
    assert await change(BookingChanges(attendees=25)) == "over_capacity"
    assert await change(BookingChanges()) == "nothing_changed"
    assert await change(BookingChanges(start=local(2, 9), end=local(2, 8))) == "end_before_start"


async def test_moving_a_pending_booking_to_a_class_a_room_confirms_it(
    db: Database, service: BookingService
) -> None:
    booking = (await create(db, service, request("r203", start=local(3, 9)))).booking
    async with db.transaction() as session:
        moved = await service.change(
            session, booking.id, REQUESTER, "finance", BookingChanges(room_id="r101", layout="discussion")
        )
    assert moved.booking.status == BookingStatus.confirmed


async def test_cancel(db: Database, service: BookingService) -> None:
    booking = (await create(db, service, request(start=local(2, 10)))).booking
    with pytest.raises(BookingError) as caught:
        async with db.transaction() as session:
            await service.cancel(session, booking.id, OTHER_REQUESTER, "office")
    assert caught.value.code == "not_allowed"
    with pytest.raises(BookingError) as caught:
        async with db.transaction() as session:
            await service.cancel(session, booking.id, REQUESTER, "finance", revision=7)
    assert caught.value.code == "changed_meanwhile"
    async with db.transaction() as session:
        cancelled = await service.cancel(session, booking.id, DISPATCHER, None, revision=1)
    assert cancelled.booking.status == BookingStatus.cancelled
    assert [(n.kind, n.chat_id) for n in cancelled.notices] == [("booking_cancelled", REQUESTER)]
    with pytest.raises(BookingError) as caught:
        async with db.transaction() as session:
            await service.cancel(session, booking.id, REQUESTER, "finance")
    assert caught.value.code == "cannot_cancel"
    async with db.transaction() as session:
        events = [row["event"] for row in await service.revisions(session, booking.id)]
    assert events == ["created", "cancelled"]


async def test_department_colleague_may_manage_but_sees_only_own_department(
    db: Database, service: BookingService
) -> None:
    booking = (await create(db, service, request(start=local(2, 10)))).booking
    async with db.transaction() as session:
        assert [b.id for b in await service.upcoming(session, 4242, "finance")] == [booking.id]
        assert await service.upcoming(session, OTHER_REQUESTER, "office") == []
        assert await service.upcoming(session, 4242, None) == []


async def test_bookings_on_behalf_tell_the_requester(db: Database, service: BookingService) -> None:
    outcome = await create(db, service, request(start=local(2, 10), booked_by_id=DISPATCHER))
    assert [(n.kind, n.chat_id) for n in outcome.notices] == [("booked_on_behalf", REQUESTER)]


async def test_markup_and_long_text_are_kept_verbatim_but_bounded(
    db: Database, service: BookingService
) -> None:
    title = "<script>alert(1)</script> & <b>bold</b> 😀"
    booking = (await create(db, service, request(start=local(2, 10), title=title, notes="x" * 5000))).booking
    assert booking.title == title
    assert len(booking.notes) == 1000
    assert (await refused(db, service, request(start=local(2, 14), title=" \x00 "))).code == "title_missing"


# ---- the same race on PostgreSQL (skipped when none answers on 127.0.0.1:5432) ----------------
@pytest.fixture
async def pg_db() -> AsyncIterator[Database]:
    try:
        import asyncpg

        admin = await asyncpg.connect(
            host="127.0.0.1", port=5432, user="postgres", database="postgres", timeout=3
        )
    except Exception as exc:
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({exc})")
    name = f"huiwu_booking_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    database = Database(create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", pool_size=5))
    try:
        await migrate.upgrade(database.engine)
        yield database
    finally:
        await database.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_concurrent_confirm_on_postgres(pg_db: Database, service: BookingService) -> None:
    req = request("r102", start=local(2, 15))  # a room never booked: its lock row is created in the race
    results = await asyncio.gather(*(create(pg_db, service, req) for _ in range(5)), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["BookingError"] * 4 + ["Outcome"]
    assert {r.code for r in results if isinstance(r, BookingError)} == {"slot_taken"}


async def test_concurrent_room_swaps_on_postgres_do_not_deadlock(
    pg_db: Database, service: BookingService
) -> None:
    first = (await create(pg_db, service, request("r101", start=local(2, 10)))).booking
    second = (await create(pg_db, service, request("r102", start=local(2, 14)))).booking

    async def move(booking_id: int, room: str) -> object:
        try:
            async with pg_db.transaction() as session:
                return await service.change(
                    session, booking_id, REQUESTER, "finance", BookingChanges(room_id=room)
                )
        except BookingError as error:
            return error

    results = await asyncio.wait_for(asyncio.gather(move(first.id, "r102"), move(second.id, "r101")), 20)
    assert all(not isinstance(r, Exception) or isinstance(r, BookingError) for r in results)
