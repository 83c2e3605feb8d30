"""/my: details, cancel with confirmation, change as a new revision."""

from __future__ import annotations

from sqlalchemy import select

from bot.services.types import BookingStatus
from storage.models import Booking, BookingRevision
from tests.e2e.booking_steps import answer_of, book_directly, press_exact, service
from tests.support.harness import Harness
from tests.support.people import ALICE, DISPATCHER, WANG


async def test_cancel_with_confirmation(harness: Harness) -> None:
    h = harness
    booking = await book_directly(h, start=h.at(2, 10), title="Team <sync>")
    listing = await h.ask(ALICE, "/my", "Your upcoming bookings")
    assert f"#{booking.id}" in listing["text"] and "Team <sync>" in listing["text"]
    await h.click(ALICE, f"#{booking.id}", "Booking #1")
    ask = await h.click(ALICE, "Cancel booking", "Cancel this booking?")
    assert "Team <sync>" in ask["text"]
    back = await h.click(ALICE, "No, keep it", "Booking #1")
    assert "Cancel this booking?" not in back["text"]
    await h.click(ALICE, "Cancel booking", "Cancel this booking?")
    done = await h.click(ALICE, "Yes, cancel it", "is cancelled")
    assert "Booking #1 is cancelled" in done["text"]
    async with h.app.db.transaction() as session:
        cancelled = await session.get(Booking, booking.id)
        assert cancelled is not None and cancelled.status == BookingStatus.cancelled
    empty = await h.ask(ALICE, "/my", "no upcoming bookings")
    assert "/book" in empty["text"]


async def test_someone_else_cannot_cancel(harness: Harness) -> None:
    h = harness
    booking = await book_directly(h, start=h.at(2, 10))
    listing = await h.ask(WANG, "/my", "近期没有预订")  # another department sees nothing
    forged = await h.emu.click_button(WANG, WANG, listing["message_id"], f"bk:{booking.id}:y:1", forge=True)
    assert "无权" in (await answer_of(h, forged))["text"]
    async with h.app.db.transaction() as session:
        kept = await session.get(Booking, booking.id)
        assert kept is not None and kept.status == BookingStatus.confirmed


async def test_dispatcher_cancels_and_the_requester_is_told(harness: Harness) -> None:
    h = harness
    booking = await book_directly(h, start=h.at(2, 10), title="Office meeting")
    await h.ask(DISPATCHER, "/my", "近期预订")
    await h.click(DISPATCHER, f"#{booking.id}", "预订 #1")
    await h.click(DISPATCHER, "取消预订", "确定取消")
    since = await h.emu.current_seq()
    await h.click(DISPATCHER, "确定取消", "已取消")
    await h.settle()
    told = await h.emu.wait_for_message(ALICE, "was cancelled by 刘洋", since=since, timeout=10)
    assert "Office meeting" in told["text"]


async def test_change_time_is_a_new_revision(harness: Harness) -> None:
    h = harness
    booking = await book_directly(h, start=h.at(2, 10), hours=2)
    await h.ask(ALICE, "/my", "Your upcoming bookings")
    await h.click(ALICE, f"#{booking.id}", "Booking #1")
    menu = await h.click(ALICE, "Change", "What would you like to change?")
    assert "Save the changes" not in str(menu.get("reply_markup"))
    await h.click(ALICE, "Time", "Which day")
    await h.ask(ALICE, "2026-12-04", "when does the meeting start")
    await h.ask(ALICE, "14:00", "When does it end")
    changed = await h.ask(ALICE, "15:30", "Your changes")
    assert "Time: Thu 3 Dec 2026 10:00–12:00 → Fri 4 Dec 2026 14:00–15:30" in changed["text"]
    await h.click(ALICE, "Attendees", "How many people")
    changed = await h.ask(ALICE, "18", "Your changes")
    assert "Attendees: 10 → 18" in changed["text"]
    done = await h.click(ALICE, "Save the changes", "is changed")
    assert "Fri 4 Dec 2026 14:00–15:30" in done["text"]
    async with h.app.db.transaction() as session:
        stored = await session.get(Booking, booking.id)
        revisions = (
            await session.scalars(select(BookingRevision).where(BookingRevision.booking_id == booking.id))
        ).all()
    assert stored is not None and stored.revision == 2 and stored.attendees == 18
    assert [r.event for r in revisions] == ["created", "changed"]
    assert revisions[0].snapshot["start"] == "2026-12-03T02:00:00+00:00"
    assert revisions[0].snapshot["attendees"] == 10


async def test_change_to_a_taken_room_or_too_many_people(harness: Harness) -> None:
    h = harness
    booking = await book_directly(h, start=h.at(2, 10), hours=2)
    await book_directly(h, room="r102", start=h.at(2, 10), hours=2, requester=WANG, department="finance")
    await h.ask(ALICE, "/my", "Your upcoming bookings")
    await h.click(ALICE, f"#{booking.id}", "Booking #1")
    await h.click(ALICE, "Change", "What would you like to change?")
    rooms = await h.click(ALICE, "Room", "Rooms free")
    assert not any(
        "Reception Room" in b["text"] for row in rooms["reply_markup"]["inline_keyboard"] for b in row
    )
    await h.click(ALICE, "Back", "What would you like to change?")
    await h.click(ALICE, "Attendees", "How many people")
    too_many = await h.ask(ALICE, "25", "holds at most 20 people")
    assert "Rooms free" in too_many["text"]  # a bigger room is offered instead
    await h.click(ALICE, "Room 301", "How should")
    changed = await press_exact(h, ALICE, "Classroom", "Your changes")
    assert "Room: Meeting Room 1 → Room 301 (classroom)" in changed["text"]
    done = await h.click(ALICE, "Save the changes", "is changed")
    assert "Room 301" in done["text"]
    async with h.app.db.transaction() as session:
        view = await service(h).get(session, booking.id)
    assert view is not None and (view.room_id, view.attendees, view.layout) == ("r301", 25, "classroom")


async def test_change_services_and_layout(harness: Harness) -> None:
    h = harness
    booking = await book_directly(h, start=h.at(2, 10), hours=2)
    await h.ask(ALICE, "/my", "Your upcoming bookings")
    await h.click(ALICE, f"#{booking.id}", "Booking #1")
    await h.click(ALICE, "Change", "What would you like to change?")
    await h.click(ALICE, "Layout", "How should")
    changed = await h.click(ALICE, "U-shape", "Your changes")
    assert "Layout: Discussion → U-shape" in changed["text"]
    await h.click(ALICE, "Services", "Which services")
    await h.click(ALICE, "Microphones", "Which services")
    await h.click(ALICE, "Done", "Number of microphones")
    await h.ask(ALICE, "100", "from 1 to 60")  # out of the site's range: asked again
    changed = await h.ask(ALICE, "6", "Your changes")
    assert "Services: none → Microphones" in changed["text"]
    await h.click(ALICE, "Save the changes", "is changed")
    async with h.app.db.transaction() as session:
        view = await service(h).get(session, booking.id)
    assert view is not None
    assert (view.layout, view.services, view.revision) == ("u_shape", {"microphones": {"count": 6}}, 2)
    # the services screen starts from what the booking has
    await h.ask(ALICE, "/my", "Your upcoming bookings")
    await h.click(ALICE, f"#{booking.id}", "Booking #1")
    await h.click(ALICE, "Change", "What would you like to change?")
    services = await h.click(ALICE, "Services", "Which services")
    buttons = [b["text"] for row in services["reply_markup"]["inline_keyboard"] for b in row]
    ticked = [label for label in buttons if "✅" in label]
    assert ticked == ["✅ Microphones"]
    await h.click(ALICE, "Done", "Number of microphones")
    await h.click(ALICE, "Keep", "What would you like to change?")
    nothing = await h.click(ALICE, "Cancel", "abandoned")
    assert "stays as it was" in nothing["text"]
