"""Registration and language through the emulator."""

from __future__ import annotations

from tests.e2e.conftest import Harness

STRANGER = 9001


async def test_unknown_user_is_told_how_to_join(harness: Harness) -> None:
    await harness.emu.create_user(STRANGER, "Stranger", language_code="en")
    reply = await harness.ask(STRANGER, "/start", "invite")
    assert "invite link" in reply["text"]


async def test_invite_link_joins_the_department(harness: Harness) -> None:
    await harness.emu.create_user(STRANGER, "新同事", language_code="zh-hans")
    reply = await harness.ask(STRANGER, "/start join-finance", lambda m: bool(m["text"]))
    assert "/book" in reply["text"]
    again = await harness.ask(STRANGER, "/start", lambda m: bool(m["text"]))
    assert "/my" in again["text"]


async def test_unknown_invite_code_says_so(harness: Harness) -> None:
    await harness.emu.create_user(STRANGER, "Stranger", language_code="en")
    reply = await harness.ask(STRANGER, "/start no-such-code", "not known")
    assert "invite" in reply["text"]
