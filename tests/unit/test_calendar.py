"""A room's iCalendar feed: which bookings, what each reader may see, valid RFC 5545."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.services.calendar import CalendarEntry, CalendarService, Wording, find_room
from bot.services.clock import ManualClock
from bot.site import SiteConfig, load_site
from storage import migrate
from storage.database import Database, create_engine
from storage.models import Booking

SITE = Path(__file__).resolve().parents[2] / "examples" / "site.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def site() -> SiteConfig:
    return load_site(SITE)


@pytest.fixture
async def db(tmp_path: Path, site: SiteConfig) -> AsyncIterator[Database]:
    database = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cal.db'}"))
    await migrate.upgrade(database.engine)
    rows = [
        ("confirmed", 2, "finance", False, "财务例会"),
        ("pending", 5, "office", False, "Pending review"),
        ("confirmed", 7, "planning", True, "Secret plan"),
        ("cancelled", 3, "finance", False, "Cancelled one"),
        ("finished", -40, "finance", False, "Too long ago"),
        ("finished", -2, "office", False, "Last week"),
    ]
    async with database.transaction() as session:
        for status, days, department, confidential, title in rows:
            start = NOW + timedelta(days=days)
            session.add(
                Booking(
                    status=status,
                    revision=2,
                    department_id=department,
                    requester_id=1001,
                    booked_by_id=1001,
                    room_id="r101",
                    start_at=start,
                    end_at=start + timedelta(hours=2),
                    blocked_until=start + timedelta(hours=3),
                    attendees=12,
                    layout="discussion",
                    reception_level=3,
                    confidential=confidential,
                    title=title,
                    contact_name="x",
                    contact_phone="1",
                    notes="",
                    services={},
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    yield database
    await database.dispose()


def wording() -> Wording:
    def describe(entry: CalendarEntry) -> tuple[str, str]:
        return (entry.title or "Booked"), f"{entry.attendees} people"

    return Wording("Meeting Room 1", "Meeting Room 1, floor 1", describe)


def test_find_room(site: SiteConfig) -> None:
    assert find_room(site, "r101").id == "r101"  # type: ignore[union-attr]
    assert find_room(site, "Meeting  Room 1").id == "r101"  # type: ignore[union-attr]
    assert find_room(site, "一号会议室").id == "r101"  # type: ignore[union-attr]
    assert find_room(site, "HALL 203").id == "r203"  # type: ignore[union-attr]
    assert find_room(site, "nowhere") is None and find_room(site, "") is None


async def _feed(site: SiteConfig, db: Database, viewer: int | None, department: str | None) -> Calendar:
    service = CalendarService(site, ManualClock(NOW))
    room = site.room("r101")
    assert room is not None
    async with db.transaction() as session:
        entries = await service.entries(session, room.id, viewer, department)
    return Calendar.from_ical(service.feed(room, entries, wording()))


async def test_the_feed_for_the_supervisor(site: SiteConfig, db: Database) -> None:
    calendar = await _feed(site, db, 2201, None)
    events = calendar.walk("VEVENT")
    summaries = [str(e["SUMMARY"]) for e in events]
    # a calendar file is forwarded and synced: a confidential meeting is only "Booked" in it
    assert summaries == ["Last week", "财务例会", "Pending review", "Booked"]
    assert str(calendar["X-WR-CALNAME"]) == "Meeting Room 1" and str(calendar["VERSION"]) == "2.0"
    pending = events[2]
    assert str(pending["STATUS"]) == "TENTATIVE" and str(events[1]["STATUS"]) == "CONFIRMED"
    assert str(events[3]["CLASS"]) == "CONFIDENTIAL"
    first = events[1]
    assert first.decoded("DTSTART") == (NOW + timedelta(days=2)).astimezone(UTC)
    assert str(first["UID"]).startswith("booking-") and first.decoded("SEQUENCE") == 2


async def test_what_others_may_see(site: SiteConfig, db: Database) -> None:
    # a requester of finance: its own titles; other units' only as "Booked"; the secret one hidden
    finance = [str(e["SUMMARY"]) for e in (await _feed(site, db, 1001, "finance")).walk("VEVENT")]
    assert finance == ["Booked", "财务例会", "Booked", "Booked"]
    # the planning department sees its own confidential meeting
    planning = [str(e["SUMMARY"]) for e in (await _feed(site, db, 9999, "planning")).walk("VEVENT")]
    assert planning[-1] == "Secret plan"
    # staff of a team see open titles but not a confidential one
    staff = [str(e["SUMMARY"]) for e in (await _feed(site, db, 3002, None)).walk("VEVENT")]
    assert staff == ["Last week", "财务例会", "Pending review", "Booked"]
