"""A recurring series in the sandbox over its HTTP API (docs/sandbox.md, "A day in the
sandbox"): a persona types one sentence, the wizard asks what it did not say, Confirm books
the three meetings, and /my lists them as a series.

The sandbox starts on Tuesday 1 December 2026 at 09:00 (Asia/Shanghai)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot.sandbox.runtime import Sandbox
from storage.models import Booking
from tests.sandbox.conftest import Client
from tests.sandbox.test_sandbox_day import ok

ALICE = 1002  # Alice Chen, of the office; reads English


async def latest(client: Client, mark: str, *, after: int = 0) -> dict[str, Any]:
    """The newest of the bot's messages to Alice (sent or edited) that contains ``mark``,
    newer than message ``after`` or edited since."""
    for _ in range(150):
        history = await ok(await client.get(f"/api/chats/{ALICE}/messages", params={"user_id": ALICE}))
        found = [
            m
            for m in history["messages"]
            if m["sender"] == "bot" and mark in (m.get("text") or "") and m["message_id"] >= after
        ]
        if found:
            return found[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {mark!r} in Alice's chat")


async def say(client: Client, text: str) -> None:
    await ok(await client.post(f"/api/chats/{ALICE}/messages", json={"user_id": ALICE, "text": text}))


async def press(client: Client, message: dict[str, Any], label: str) -> None:
    """The button whose text is ``label`` (or, failing that, contains it)."""
    buttons = message["buttons"]
    button = next((b for b in buttons if b["text"] == label), None) or next(
        (b for b in buttons if label in b["text"]), None
    )
    assert button is not None, [b["text"] for b in buttons]
    await ok(
        await client.post(
            f"/api/chats/{ALICE}/press",
            json={"user_id": ALICE, "message_id": message["message_id"], "data": button["callback_data"]},
        )
    )


async def test_a_weekly_series_typed_in_one_sentence_is_booked_and_listed(
    unthrottled: tuple[Sandbox, Client],
) -> None:
    sandbox, client = unthrottled
    await say(client, "every Monday 9-10 in room 101 for 12, 3 times")
    await latest(client, "Repeats: every Monday, 3 times")  # what was read, before the questions
    layout = await latest(client, "How should")
    await press(client, layout, "Discussion")
    level = await latest(client, "Reception level")
    await press(client, level, "3")
    await latest(client, "title of the meeting")
    await say(client, "Weekly sync")
    await latest(client, "phone number")
    await say(client, "010-6512 3456")
    summary = await latest(client, "check your booking")
    assert "every Monday 09:00–10:00, 3 meetings until 2026-12-21" in summary["text"]
    await press(client, summary, "Confirm")
    done = await latest(client, "Booked 3 meetings of the series")
    assert "Skipped" not in done["text"]

    await say(client, "/my")
    listing = await latest(client, "Your upcoming bookings", after=done["message_id"])
    assert sandbox.app is not None
    async with sandbox.app.db.transaction() as session:
        rows = list(await session.scalars(select(Booking).where(Booking.series_id.is_not(None))))
    assert len(rows) == 3
    for row in rows:
        assert f"#{row.id}" in listing["text"]
    assert all(f"🔁 {n}/3" in listing["text"] for n in (1, 2, 3))
