"""Bad input never crashes and never corrupts a booking: a clear message, and the person goes on."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Booking
from tests.e2e.booking_steps import english_to_summary, press_exact
from tests.support.harness import Harness
from tests.support.people import ALICE, STRANGER


async def test_wrong_input_at_each_kind_of_step(harness: Harness) -> None:
    h = harness
    await h.ask(ALICE, "/book", "Which day")
    assert "does not exist" in (await h.ask(ALICE, "2027-02-30", "does not exist"))["text"]
    assert "Which day" in (await h.ask(ALICE, "2026-11-30", "in the past"))["text"]
    await h.ask(ALICE, "next tuesday", "Please choose a day on the calendar")
    await h.ask(ALICE, "2026-12-03", "when does the meeting start")
    await h.ask(ALICE, "25:99", "Please type a time such as 9:00")
    await h.ask(ALICE, "<b>nine</b>", "Please type a time such as 9:00")
    await h.ask(ALICE, "10:00", "When does it end")
    refused = await h.ask(ALICE, "9:00", "must be after the start time")
    assert "When does it end" in refused["text"]
    await h.ask(ALICE, "12:00", "How many people")
    for count, message in [
        ("0", "at least 1"),
        ("-5", "whole number"),
        ("twelve", "whole number"),
        ("100000", "More than 10000"),
        ("99999999999", "whole number"),
        ("500", "the largest holds 400 people"),
        ("😀", "whole number"),
    ]:
        reply = await h.ask(ALICE, count, message)
        assert "How many people" in reply["text"]
    await h.ask(ALICE, "12", "Rooms free")
    # free text where a button is expected
    await h.ask(ALICE, "Meeting Room 1 please", "Please use the buttons")
    await h.click(ALICE, "Meeting Room 1", "How should")
    await h.click(ALICE, "Discussion", "Reception level")
    await press_exact(h, ALICE, "3", "Which services")
    await h.click(ALICE, "Done", "title of the meeting")
    too_long = await h.ask(ALICE, "x" * 4096, "too long")  # the longest message Telegram lets one send
    assert "4096 characters" in too_long["text"] and "200" in too_long["text"]
    await h.ask(ALICE, "/foo", "does not work inside the booking")
    await h.ask(ALICE, "<b>Board</b> & <script>alert(1)</script> 🎉", "contact person")
    await h.ask(ALICE, "Alice", "phone number")
    await h.ask(ALICE, "call me maybe", "phone number in digits")
    await h.ask(ALICE, "+86 138 0000 0000", "confidential")
    await press_exact(h, ALICE, "No", "notes")
    summary = await h.ask(ALICE, "Bring <i>cake</i> & tea", "check your booking")
    assert "<b>Board</b> & <script>alert(1)</script> 🎉" in summary["text"]
    assert "Bring <i>cake</i> & tea" in summary["text"]
    done = await h.click(ALICE, "Confirm", "Booked")
    assert "<script>alert(1)</script>" in done["text"]


async def test_non_text_messages_in_the_dialog(harness: Harness) -> None:
    h = harness
    await h.ask(ALICE, "/book", "Which day")
    since = await h.emu.current_seq()
    await h.emu.send_message(ALICE, photo=b"\x89PNG\r\n\x1a\n" + b"0" * 64, caption="a photo")
    reply = await h.emu.wait_for_message(ALICE, "Please type some text", since=since, timeout=10)
    assert "Which day" in reply["text"]


async def test_stale_buttons_of_an_old_dialog(harness: Harness) -> None:
    h = harness
    old = await h.ask(ALICE, "/book", "Which day")
    old_data = old["reply_markup"]["inline_keyboard"][3][3]["callback_data"]  # a day of the old calendar
    await h.ask(ALICE, "/cancel", "Cancelled")
    press = await h.emu.click_button(ALICE, ALICE, old["message_id"], old_data, forge=True)
    answer = await h.emu.wait_for_callback_answer(press["callback_query_id"], timeout=10)
    assert answer["text"] == "This button is no longer valid."
    # a new dialog works, and the old one's button still does nothing
    await h.ask(ALICE, "/book", "Which day")
    press = await h.emu.click_button(ALICE, ALICE, old["message_id"], old_data, forge=True)
    answer = await h.emu.wait_for_callback_answer(press["callback_query_id"], timeout=10)
    assert answer["text"] == "This button is no longer valid."
    await h.ask(ALICE, "2026-12-03", "when does the meeting start")


async def test_stale_confirm_after_cancel_books_nothing(harness: Harness) -> None:
    h = harness
    summary = await english_to_summary(h, ALICE)
    confirm = next(
        b["callback_data"]
        for row in summary["reply_markup"]["inline_keyboard"]
        for b in row
        if "Confirm" in b["text"]
    )
    await h.ask(ALICE, "/cancel", "Cancelled")
    press = await h.emu.click_button(ALICE, ALICE, summary["message_id"], confirm, forge=True)
    answer = await h.emu.wait_for_callback_answer(press["callback_query_id"], timeout=10)
    assert answer["text"] == "This button is no longer valid."
    async with h.app.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 0


async def test_forged_and_unknown_buttons(harness: Harness) -> None:
    h = harness
    message = await h.ask(ALICE, "/help", "What I can do")
    for data in ("bk:abc:v", "apv:1:1:a", "nonsense", "bk:999:v"):
        press = await h.emu.click_button(ALICE, ALICE, message["message_id"], data, forge=True)
        answer = await h.emu.wait_for_callback_answer(press["callback_query_id"], timeout=10)
        assert answer["text"], data


async def test_free_text_and_unknown_commands_outside_a_dialog(harness: Harness) -> None:
    h = harness
    await h.ask(ALICE, "hello there", "did not understand")
    await h.ask(ALICE, "/frobnicate", "don't know that command")
    await h.ask(ALICE, "/cancel", "nothing to cancel")


async def test_unregistered_people_only_get_the_way_to_join(harness: Harness) -> None:
    h = harness
    await h.emu.create_user(STRANGER, "Stranger", language_code="en")
    for text in ("/book", "/my", "/help", "hello"):
        await h.ask(STRANGER, text, "invite link")
    await h.ask(STRANGER, "/language", "Choose your language")
    await h.click(STRANGER, "中文", "语言已切换为中文")
    await h.ask(STRANGER, "/book", "邀请链接")
