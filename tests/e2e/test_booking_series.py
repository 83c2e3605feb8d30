"""/my on a recurring series (docs/product.md §2): each meeting shows 🔁 and its place, and its
Cancel asks which meetings; "this and following" cancels the later meetings not yet started,
in English and in Chinese, with the clock moved past the first meeting."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select

from bot.services.recurrence import Frequency, RecurrenceRule
from bot.services.series import SeriesOutcome, SeriesService
from storage.models import Booking
from tests.support.factories import booking_request
from tests.support.harness import Harness
from tests.support.people import ALICE, APPROVER, DISPATCHER, WANG

WEEKLY_4 = RecurrenceRule(Frequency.WEEKLY, count=4)


def series_service(h: Harness) -> SeriesService:
    return h.app.dispatcher.workflow_data["series_service"]


async def weekly_series(
    h: Harness, requester: int, department: str, title: str, skip: set[int] | None = None, **changes: Any
) -> SeriesOutcome:
    """Four weekly meetings from tomorrow at 10:00, made through the service as the dialog
    does (what it tells whom is delivered); ``skip``: the meetings left out."""
    start = h.at(1, 10)
    request = booking_request(
        start,
        requester_id=requester,
        department_id=department,
        attendees=8,
        reception_level=4,
        title=title,
        contact_name="Someone",
        contact_phone="010-1234 5678",
    )
    async with h.app.db.transaction() as session:
        made = await series_service(h).create(session, replace(request, **changes), WEEKLY_4, skip=skip)
        await h.app.dispatcher.workflow_data["delivery"].deliver(session, made.notices)
    return made


async def statuses(h: Harness, series_id: int) -> list[str]:
    async with h.app.db.transaction() as session:
        rows = await session.scalars(
            select(Booking).where(Booking.series_id == series_id).order_by(Booking.series_index)
        )
        return [row.status for row in rows]


async def test_cancel_this_and_following_in_english(harness: Harness) -> None:
    h = harness
    made = await weekly_series(h, ALICE, "office", "Weekly sync")
    await h.advance(days=2)  # the first meeting is over
    listing = await h.ask(ALICE, "/my", "Your upcoming bookings")
    assert "🔁 2/4" in listing["text"] and "🔁 4/4" in listing["text"]
    second = made.bookings[1]
    detail = await h.click(ALICE, f"#{second.id}", f"Booking #{second.id}")
    assert "Meeting 2 of 4 of a recurring series" in detail["text"]
    ask = await h.click(ALICE, "Cancel booking", "Cancel which meetings?")
    assert "Weekly sync" in ask["text"]
    done = await h.click(ALICE, "This and the following meetings", "Cancelled, 3 meeting(s)")
    assert all(f"#{view.id}" in done["text"] for view in made.bookings[1:])
    first, *rest = await statuses(h, made.series_id)
    assert first == "finished" and rest == ["cancelled"] * 3  # the meeting held is kept


async def test_cancel_this_and_following_in_chinese(harness: Harness) -> None:
    h = harness
    made = await weekly_series(h, WANG, "finance", "周例会")
    await h.advance(days=2)
    listing = await h.ask(WANG, "/my", "近期")
    assert "🔁 3/4" in listing["text"]
    third = made.bookings[2]
    detail = await h.click(WANG, f"#{third.id}", f"#{third.id}")
    assert "第 3 场（共 4 场）" in detail["text"]
    await h.click(WANG, "取消预订", "取消哪些会议")
    done = await h.click(WANG, "本场及之后的会议", "已取消该系列的 2 场会议")
    assert f"#{third.id}" in done["text"] and f"#{made.bookings[3].id}" in done["text"]
    assert await statuses(h, made.series_id) == ["finished", "confirmed", "cancelled", "cancelled"]


async def test_a_forged_series_press_is_refused(harness: Harness) -> None:
    h = harness
    made = await weekly_series(h, ALICE, "office", "Weekly sync")
    listing = await h.ask(WANG, "/my", "近期没有预订")
    first = made.bookings[0]
    await h.emu.click_button(WANG, WANG, listing["message_id"], f"sr:{first.id}:c:a:1", forge=True)
    await h.settle()
    assert await statuses(h, made.series_id) == ["confirmed"] * 4


async def test_the_approver_is_asked_once_with_the_dates_and_approves_the_series(harness: Harness) -> None:
    h = harness
    since = await h.emu.current_seq()
    made = await weekly_series(
        h, WANG, "finance", "年度工作会", room_id="r203", layout="theatre", start=h.at(2, 14), end=h.at(2, 16)
    )
    await h.settle()
    ask = await h.emu.wait_for_message(APPROVER, "全部 4 场会议", since=since, timeout=10)
    assert ask["text"].count("• ") == 4
    await h.click(APPROVER, "批准", "批准")
    await h.settle()
    assert await statuses(h, made.series_id) == ["confirmed"] * 4
    asks = [text for text in await h.texts(APPROVER) if "年度工作会" in text]
    assert len(asks) == 1  # one message for the series (edited once decided)


async def test_change_this_and_following_through_the_dialog(harness: Harness) -> None:
    h = harness
    made = await weekly_series(h, ALICE, "office", "Weekly sync")
    second = made.bookings[1]
    await h.ask(ALICE, "/my", "Your upcoming bookings")
    await h.click(ALICE, f"#{second.id}", f"Booking #{second.id}")
    await h.click(ALICE, "Change", "Change which meetings?")
    await h.click(ALICE, "This and the following meetings", "What would you like to change?")
    await h.click(ALICE, "Time", "Which day")
    await h.ask(ALICE, h.at(8, 0).date().isoformat(), "when does the meeting start")
    await h.ask(ALICE, "15:00", "When does it end")
    await h.ask(ALICE, "16:30", "Your changes")
    done = await h.click(ALICE, "Save the changes", "Changed, 3 meeting(s)")
    assert all(f"#{view.id}" in done["text"] for view in made.bookings[1:])
    async with h.app.db.transaction() as session:
        rows = await session.scalars(
            select(Booking).where(Booking.series_id == made.series_id).order_by(Booking.series_index)
        )
        times = [
            (row.start_at.astimezone(h.site.zone).hour, row.start_at.astimezone(h.site.zone).minute)
            for row in rows
        ]
    assert times == [(10, 0), (15, 0), (15, 0), (15, 0)]


async def test_approvals_lists_a_series_once_with_its_extent(harness: Harness) -> None:
    h = harness
    made = await weekly_series(
        h, WANG, "finance", "年度工作会", room_id="r203", layout="theatre", start=h.at(2, 14), end=h.at(2, 16)
    )
    await h.settle()
    listing = await h.ask(APPROVER, "/approvals", "待审批")
    assert f"#{made.bookings[0].id}" in listing["text"]
    assert not any(f"#{view.id}" in listing["text"] for view in made.bookings[1:])  # listed once
    assert "🔁 共4次，每周四，截至2026-12-24" in listing["text"]
    await h.ask(APPROVER, "/language en", "Language set to English.")
    listing = await h.ask(APPROVER, "/approvals", "Waiting for approval")
    assert "🔁 4 meetings, every Thursday until 2026-12-24" in listing["text"]


async def _series_on_behalf(h: Harness, requester: int, department: str, title: str) -> SeriesOutcome:
    """Four weekly meetings from tomorrow at 10:00 booked by the dispatcher for ``requester``,
    the second one skipped."""
    made = await weekly_series(h, requester, department, title, skip={1}, booked_by_id=DISPATCHER)
    await h.settle()
    return made


async def test_a_series_booked_on_your_behalf_says_it_is_a_series_in_english(harness: Harness) -> None:
    h = harness
    since = await h.emu.current_seq()
    made = await _series_on_behalf(h, ALICE, "office", "Weekly sync")
    told = await h.emu.wait_for_message(ALICE, "booked a recurring series for you", since=since, timeout=10)
    first, last = made.bookings[0].id, made.bookings[-1].id
    assert f"(bookings #{first}–#{last})" in told["text"]
    assert "🔁 3 meetings, every Wednesday until 2026-12-23" in told["text"]
    assert "Skipped (1): Wed 9 Dec" in told["text"]
    assert "Weekly sync" in told["text"]
    notices = [text for text in await h.texts(ALICE) if "booked" in text and "for you" in text]
    assert len(notices) == 1  # one notice for the series, not one per meeting


async def test_a_series_booked_on_your_behalf_says_it_is_a_series_in_chinese(harness: Harness) -> None:
    h = harness
    since = await h.emu.current_seq()
    await _series_on_behalf(h, WANG, "finance", "周例会")
    told = await h.emu.wait_for_message(WANG, "为您预订了系列会议", since=since, timeout=10)
    assert "🔁 共3次，每周三，截至2026-12-23" in told["text"]
    assert "已跳过（1次）：12月9日 周三" in told["text"]
