"""Stopping waits for the updates being handled (bot/telegram/middlewares.py InFlightUpdates)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram.types import TelegramObject

from bot.telegram.middlewares import InFlightUpdates


async def test_drained_waits_for_the_handlers_in_flight_and_no_longer() -> None:
    tracker = InFlightUpdates()
    assert await tracker.drained(timeout=0.01)  # nothing in flight
    release = asyncio.Event()
    finished: list[str] = []

    async def handler(event: TelegramObject, data: dict[str, Any]) -> str:
        await release.wait()
        finished.append("handled")
        return "handled"

    running = asyncio.create_task(tracker(handler, TelegramObject(), {}))
    await asyncio.sleep(0)
    assert tracker.count == 1
    assert not await tracker.drained(timeout=0.05)  # bounded: gives up while it still runs
    waiting = asyncio.create_task(tracker.drained(timeout=5))
    await asyncio.sleep(0)
    release.set()
    assert await waiting and finished == ["handled"] and await running == "handled"
    assert tracker.count == 0


async def test_a_handler_that_fails_is_not_counted_forever() -> None:
    tracker = InFlightUpdates()

    async def failing(event: TelegramObject, data: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await tracker(failing, TelegramObject(), {})
    assert tracker.count == 0 and await tracker.drained(timeout=0.01)
