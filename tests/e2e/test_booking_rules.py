"""Booking rules through the bot: minimum notice, overlap and buffer, the simultaneous confirm."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from sqlalchemy import func, select

from storage.models import Booking
from tests.e2e.booking_steps import book_directly, english_to_summary, press_exact
from tests.support.harness import Harness
from tests.support.people import ALICE, WANG


def labels(message: dict) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


async def test_too_early_is_refused_with_the_earliest_start(harness: Harness) -> None:
    h = harness  # now: Tue 1 Dec 2026 09:00 in Shanghai
    await h.ask(ALICE, "/book", "Which day")
    start = await press_exact(h, ALICE, "[ 01 ]", "when does the meeting start")
    assert "09:00" not in labels(start)  # times already past today are not offered
    refused = await h.click(ALICE, "09:30", "too soon")
    assert "class A rooms must be booked 1 hour ahead" in refused["text"]
    # the first five-minute mark a minute past the notice, said as today's time
    assert "The earliest possible start is 10:05." in refused["text"]
    assert "when does the meeting start" in refused["text"]  # the same step, for a retry
    await h.ask(ALICE, "10:00", "When does it end")
    await h.ask(ALICE, "11:00", "How many people")
    rooms = await h.ask(ALICE, "10", "Rooms free")
    text = rooms["text"]
    assert "Class B rooms need 4 hours notice: the earliest start for them is 13:05." in text
    assert "Class C rooms need 1 day notice: the earliest start for them is tomorrow 09:05." in text
    assert [label.split(" · ")[1] for label in labels(rooms) if " · " in label] == ["class A", "class A"]


async def test_too_early_in_chinese(harness: Harness) -> None:
    h = harness
    await h.ask(WANG, "/book", "哪一天")
    await h.ask(WANG, "今天", "几点开始")
    refused = await h.ask(WANG, "9:45", "时间太近")
    assert "最早可于10:05开始" in refused["text"]


async def test_the_earliest_start_offered_is_accepted_when_chosen(harness: Harness) -> None:
    h = harness
    # mid-minute, as in real life: an offer cut to the minute ("10:01") would be refused
    h.clock.set(h.at(0, 9, 1) + timedelta(seconds=30))
    await h.ask(WANG, "/book", "哪一天")
    await h.ask(WANG, "今天", "几点开始")
    refused = await h.ask(WANG, "9:45", "时间太近")
    offered = re.search(r"最早可于(\d\d:\d\d)开始", refused["text"])
    assert offered is not None, refused["text"]
    assert offered.group(1) == "10:05"
    h.clock.advance(timedelta(seconds=50))  # reading it and typing it takes a while
    await h.ask(WANG, offered.group(1), "几点结束")


async def test_overlap_and_buffer(harness: Harness) -> None:
    h = harness
    await book_directly(h, start=h.at(2, 10), hours=2)  # Meeting Room 1, Thu 10:00-12:00
    await h.ask(ALICE, "/book", "Which day")
    await h.ask(ALICE, "2026-12-03", "when does the meeting start")
    await h.ask(ALICE, "11:00", "When does it end")
    await h.ask(ALICE, "13:00", "How many people")
    overlapping = await h.ask(ALICE, "10", "Rooms free")
    assert not any("Meeting Room 1" in label for label in labels(overlapping))
    await h.click(ALICE, "Back", "How many people")
    await h.click(ALICE, "Back", "When does it end")
    await h.click(ALICE, "Back", "when does the meeting start")
    await h.ask(ALICE, "12:15", "When does it end")  # inside the 30-minute turnover buffer
    await h.ask(ALICE, "13:00", "How many people")
    in_buffer = await h.ask(ALICE, "10", "Rooms free")
    assert not any("Meeting Room 1" in label for label in labels(in_buffer))
    await h.click(ALICE, "Back", "How many people")
    await h.click(ALICE, "Back", "When does it end")
    await h.click(ALICE, "Back", "when does the meeting start")
    await h.ask(ALICE, "12:30", "When does it end")  # exactly at the buffer's edge
    await h.ask(ALICE, "13:30", "How many people")
    at_edge = await h.ask(ALICE, "10", "Rooms free")
    assert any("Meeting Room 1" in label for label in labels(at_edge))


async def test_slot_taken_while_in_the_dialog_offers_the_free_rooms(harness: Harness) -> None:
    h = harness
    await english_to_summary(h, ALICE)
    await book_directly(h, start=h.at(2, 11), hours=1, requester=1001, department="finance")
    refused = await h.click(ALICE, "Confirm", "just booked")
    assert "Rooms free on Thu 3 Dec 2026 10:00–12:00" in refused["text"]
    offered = labels(refused)
    assert not any("Meeting Room 1" in label for label in offered)
    assert any("Reception Room" in label for label in offered)
    # its layout fits the draft's: straight back to the summary
    summary = await h.click(ALICE, "Reception Room", "check your booking")
    assert "Reception Room" in summary["text"]
    done = await h.click(ALICE, "Confirm", "Booked")
    assert "Reception Room" in done["text"]


async def test_simultaneous_confirm_gives_exactly_one_booking(harness: Harness) -> None:
    h = harness
    await english_to_summary(h, ALICE)
    await h.ask(WANG, "/language en", "Language set to English")
    await english_to_summary(h, WANG, title="Finance meeting")
    since = await h.emu.current_seq()
    await asyncio.gather(h.press(ALICE, "Confirm"), h.press(WANG, "Confirm"))

    def outcome(message: dict) -> bool:
        return "Booked" in message["text"] or "just booked" in message["text"]

    outcomes = await asyncio.gather(
        h.emu.wait_for_message(ALICE, outcome, since=since, timeout=10),
        h.emu.wait_for_message(WANG, outcome, since=since, timeout=10),
    )
    texts = [message["text"] for message in outcomes]
    assert sum("Booked!" in text for text in texts) == 1
    assert sum("someone else has just booked" in text for text in texts) == 1
    loser = outcomes[0] if "just booked" in texts[0] else outcomes[1]
    assert any("Reception Room" in label for label in labels(loser))
    async with h.app.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 1
