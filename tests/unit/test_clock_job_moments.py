"""bot.jobs.next_clock_job_at: when a clock job next has work (the sandbox runs them then)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.jobs import next_clock_job_at
from bot.services.booking import BookingService
from bot.services.clock import ManualClock
from bot.site import SiteConfig
from storage.database import Database
from tests.unit.dispatch_support import request

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 or, for January, 2027, in the site's zone."""
    return datetime(2027 if month == 1 else 2026, month, day, hour, minute, tzinfo=SHANGHAI)


async def moment_after(db: Database, site: SiteConfig, after: datetime) -> datetime | None:
    async with db.transaction() as session:
        return await next_clock_job_at(session, site, after)


async def test_the_digest_at_its_time_on_working_days_only(db: Database, site: SiteConfig) -> None:
    assert await moment_after(db, site, local(12, 1, 9)) == local(12, 1, 17).astimezone(UTC)
    # at 17:00 itself the next one is tomorrow's
    assert await moment_after(db, site, local(12, 1, 17)) == local(12, 2, 17)
    # Friday 17:00 is the digest and the weekly briefing; after it, Monday's digest
    assert await moment_after(db, site, local(12, 4, 16)) == local(12, 4, 17)
    assert await moment_after(db, site, local(12, 4, 17, 1)) == local(12, 7, 17)
    # New Year's Day is a holiday: no digest on Friday 1 January, but December's statements
    # at 09:00 and the weekly briefing
    assert await moment_after(db, site, local(12, 31, 18)) == local(1, 1, 9)
    assert await moment_after(db, site, local(1, 1, 9)) == local(1, 1, 17)
    assert await moment_after(db, site, local(1, 1, 17)) == local(1, 4, 17)


async def test_a_meeting_end_is_when_its_after_care_is_due(
    db: Database, site: SiteConfig, clock: ManualClock
) -> None:
    booking = BookingService(site, clock)
    async with db.transaction() as session:
        await booking.create(session, request(start=local(12, 1, 13), hours=1.5))
    # its check-in prompt and its no-show release come first (docs/product.md §2)
    assert await moment_after(db, site, local(12, 1, 9)) == local(12, 1, 12, 50)
    assert await moment_after(db, site, local(12, 1, 12, 50)) == local(12, 1, 13, 15)
    assert await moment_after(db, site, local(12, 1, 13, 15)) == local(12, 1, 14, 30)
    assert await moment_after(db, site, local(12, 1, 14, 30)) == local(12, 1, 17)
    assert await moment_after(db, site, local(12, 1, 14, 30) - timedelta(seconds=1)) == local(12, 1, 14, 30)


async def test_the_monthly_statements_day_and_time(db: Database, site: SiteConfig) -> None:
    # the example sends last month's statements on the 1st at 09:00 (docs/product.md §5)
    assert await moment_after(db, site, local(12, 1, 8, 59)) == local(12, 1, 9)
    assert await moment_after(db, site, local(12, 31, 17)) == local(1, 1, 9)
    later = site.model_copy(
        update={"statements": site.statements.model_copy(update={"day": 5, "time": "10:30"})}
    )
    assert await moment_after(db, later, local(12, 4, 17, 30)) == local(12, 5, 10, 30)
