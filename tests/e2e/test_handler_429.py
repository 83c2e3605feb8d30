"""A 429 answering a handler's own reply: the reply waits and goes out (it has no outbox row to
be rescheduled, and a person who booked must see "Booked")."""

from __future__ import annotations

from tests.e2e.booking_steps import english_to_summary
from tests.e2e.invite_steps import issue_invite
from tests.support.harness import Harness
from tests.support.people import ALICE, STRANGER


async def test_a_welcome_answered_429_is_sent_again(harness: Harness) -> None:
    await harness.emu.create_user(STRANGER, "新同事", language_code="zh-hans")
    code = await issue_invite(harness, "finance")
    await harness.emu.fail_with_retry_after(1, method="sendMessage", chat_id=STRANGER, count=2)
    reply = await harness.ask(STRANGER, f"/start {code}", lambda m: bool(m["text"]))
    assert "/book" in reply["text"]


async def test_booked_is_shown_even_when_telegram_first_says_wait(harness: Harness) -> None:
    await english_to_summary(harness, ALICE)
    await harness.emu.fail_with_retry_after(1, chat_id=ALICE, count=2)  # whatever the window does
    booked = await harness.click(ALICE, "Confirm", "Booked")
    assert "Booked!" in booked["text"]
