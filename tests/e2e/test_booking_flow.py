"""Booking through the emulator: the wizard end to end."""

from __future__ import annotations

from tests.e2e.conftest import Harness

ALICE = 1002  # office, English
WANG = 1001  # finance, Chinese


async def test_full_class_a_booking_in_english(harness: Harness) -> None:
    h = harness
    await h.ask(ALICE, "/book", "Which day")
    await h.click(ALICE, "03", "when does the meeting start")
    await h.click(ALICE, "10:00", "When does it end")
    await h.click(ALICE, "12:00", "How many people")
    await h.ask(ALICE, "12", "Rooms free")
    await h.click(ALICE, "Meeting Room 1", "How should")
    await h.click(ALICE, "Discussion", "Reception level")
    await h.click(ALICE, "3", "Which services")
    await h.click(ALICE, "Banner", "Which services")
    await h.click(ALICE, "Tea service", "Which services")
    await h.click(ALICE, "Done", "Banner text")
    await h.ask(ALICE, "Annual <b>review</b> 2026", "Refill every")
    await h.click(ALICE, "Use 30", "title of the meeting")
    await h.ask(ALICE, "Budget <script>x</script>", "contact person")
    await h.click(ALICE, "Alice Chen", "phone number")
    await h.ask(ALICE, "010-6512 3456", "confidential")
    await h.click(ALICE, "No", "notes")
    summary = await h.click(ALICE, "No notes", "check your booking")
    print(summary["text"])
    done = await h.click(ALICE, "Confirm", "Booked")
    print(done["text"])
    print(await h.texts(ALICE))
