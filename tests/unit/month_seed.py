"""A seeded month (December 2026, Asia/Shanghai) whose monthly statements are known: the
expected figures are written here by hand from the seed, never computed by the service.

Rows are written straight into the tables (bookings, consumption records, fee confirmations).
The meetings at the month's edges are placed so that the site's zone, not UTC, decides: a
meeting at 00:30 on 1 December in Shanghai is 16:30 on 30 November in UTC (in the month), one
at 00:30 on 1 January is 16:30 on 31 December in UTC (not in it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.site import SiteConfig
from storage.models import Booking
from storage.models.aftercare import ConsumptionRecord, FeeConfirmation

SHANGHAI = ZoneInfo("Asia/Shanghai")
WANG = 1001  # admin of finance
ALICE = 1002  # admin of office; books for planning (which has no admins) in the seed


def local(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class SeedMeeting:
    key: str
    department: str
    status: str
    start: datetime
    requester: int = WANG
    attendees: int = 10
    title: str = "部门例会"
    confidential: bool = False
    consumables: tuple[tuple[str, int, int], ...] = ()
    """(consumable id, quantity, unit price in cents)"""
    fee: str | None = None
    """The fee confirmation's status, if one was sent."""


MEETINGS = (
    SeedMeeting(
        "F1",
        "finance",
        "finished",
        local(12, 1, 0, 30),  # 30 November 16:30 UTC: December in the site's zone
        attendees=12,
        title="月初碰头会",
        consumables=(("bottled_water", 10, 200), ("tea_leaves", 2, 1500)),
        fee="accepted",
    ),
    SeedMeeting(
        "F2",
        "finance",
        "finished",
        local(12, 15, 14),
        attendees=6,
        title="预算保密会",
        confidential=True,
        consumables=(("paper_cups", 20, 20),),
        fee="disputed",
    ),
    SeedMeeting("F3", "finance", "no_show", local(12, 18, 10), attendees=4, title="没人来的会"),
    SeedMeeting("F4", "finance", "finished", local(12, 28, 16), attendees=3, consumables=(("pens", 3, 200),)),
    # not in December 2026
    SeedMeeting("X1", "finance", "finished", local(11, 30, 23, 30), title="十一月的会"),
    SeedMeeting("X2", "finance", "finished", local(1, 1, 0, 30, year=2027), title="一月的会"),
    SeedMeeting("X3", "finance", "cancelled", local(12, 10, 9), title="取消的会"),
    SeedMeeting("X4", "finance", "pending", local(12, 11, 9), title="待审批的会"),
    SeedMeeting(
        "P1",
        "planning",
        "finished",
        local(12, 9, 9),
        requester=ALICE,
        attendees=30,
        title="规划评审会",
        consumables=(("flowers", 1, 8000),),
        fee="sent",
    ),
)


@dataclass(frozen=True)
class Expected:
    meetings: int
    no_shows: int
    attendees: int
    consumables_cents: int
    fees: dict[str, int]


EXPECTED = {
    # F1 + F2 + F4 held (F3 a no-show); 12 + 6 + 3 attendees;
    # 10 × 2.00 + 2 × 15.00 + 20 × 0.20 + 3 × 2.00 = 20 + 30 + 4 + 6 = 60.00
    "finance": Expected(3, 1, 21, 6000, {"accepted": 1, "disputed": 1, "sent": 0}),
    "planning": Expected(1, 0, 30, 8000, {"accepted": 0, "disputed": 0, "sent": 1}),
}


async def seed(session: AsyncSession, site: SiteConfig) -> dict[str, int]:
    """Write the seed; the database id of each meeting key."""
    ids: dict[str, int] = {}
    created = local(11, 20, 9)
    for spec in MEETINGS:
        room = site.room("r101")
        assert room is not None
        end = spec.start + timedelta(hours=1)
        booking = Booking(
            status=spec.status,
            revision=1,
            department_id=spec.department,
            requester_id=spec.requester,
            booked_by_id=spec.requester,
            room_id=room.id,
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
            services={},
            created_at=created,
            updated_at=created,
        )
        session.add(booking)
        await session.flush()
        ids[spec.key] = booking.id
        items = []
        for consumable_id, quantity, price in spec.consumables:
            session.add(
                ConsumptionRecord(
                    booking_id=booking.id,
                    consumable_id=consumable_id,
                    quantity=quantity,
                    unit_price_cents=price,
                    team_id="service",
                    recorded_by_id=3001,
                    recorded_at=end,
                )
            )
            items.append({"consumable_id": consumable_id, "quantity": quantity, "unit_price_cents": price})
        if spec.fee is not None:
            session.add(
                FeeConfirmation(
                    booking_id=booking.id,
                    status=spec.fee,
                    items=items,
                    total_cents=sum(q * p for _, q, p in spec.consumables),
                    organiser_id=spec.requester,
                    sent_by_id=3001,
                    sent_at=end,
                    decided_at=None if spec.fee == "sent" else end + timedelta(hours=1),
                    dispute_reason="数量不对" if spec.fee == "disputed" else None,
                )
            )
    await session.flush()
    return ids
