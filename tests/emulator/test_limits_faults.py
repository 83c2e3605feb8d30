from __future__ import annotations

import asyncio
import time

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from emulator import EmulatorClient, EmulatorServer

from .conftest import ALICE, BOB, GROUP, close_bot, make_bot

pytestmark = pytest.mark.usefixtures("people")


async def test_per_chat_burst_then_429_while_other_chat_is_fine(bot: Bot, emu: EmulatorClient) -> None:
    for n in range(3):
        await bot.send_message(ALICE, f"message {n}")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(ALICE, "one too many")
    assert info.value.retry_after == 1
    assert "Original description: Too Many Requests: retry after 1" in info.value.message
    await bot.send_message(BOB, "another chat is fine")
    await bot.edit_message_text("edits are not counted", chat_id=ALICE, message_id=1)

    stats = await emu.stats()
    assert stats["messages_sent"] == 4
    assert stats["rate_limited"] == 1
    assert stats["rate_limited_by_scope"] == {"chat": 1}
    assert stats["per_chat"][str(ALICE)] == {"sent": 3, "rate_limited": 1, "edited": 1}
    assert stats["calls"]["sendMessage"] == 5
    assert len(await emu.messages(ALICE)) == 3


async def test_retry_after_then_success(bot: Bot, emu: EmulatorClient) -> None:
    # one message a second: the second send comes well inside it however loaded the machine is
    await emu.set_rate_limits(per_chat_burst=1, per_chat_rate=1.0)
    await bot.send_message(ALICE, "first")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(ALICE, "second")
    await asyncio.sleep(1.05)
    await bot.send_message(ALICE, "second")


async def test_group_limit_per_minute(bot: Bot, emu: EmulatorClient) -> None:
    await emu.set_rate_limits(per_chat_burst=100, per_chat_rate=100.0)
    for n in range(20):
        await bot.send_message(GROUP, f"announcement {n}")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(GROUP, "21st")
    assert 50 <= info.value.retry_after <= 60
    await bot.send_message(ALICE, "private chats are not group-limited")
    assert (await emu.stats())["rate_limited_by_scope"] == {"group": 1}


async def test_group_window_can_be_shortened(bot: Bot, emu: EmulatorClient) -> None:
    # 3 s rather than Telegram's minute, yet long enough that the four sends fall inside it
    # however loaded the machine running the tests is
    await emu.set_rate_limits(per_chat_burst=100, per_chat_rate=100.0, group_limit=3, group_window=3.0)
    for n in range(3):
        await bot.send_message(GROUP, f"m{n}")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(GROUP, "too soon")
    assert 1 <= info.value.retry_after <= 3  # what is left of the shortened window, rounded up
    await asyncio.sleep(info.value.retry_after + 0.05)
    await bot.send_message(GROUP, "window passed")


async def test_global_limit(bot: Bot, emu: EmulatorClient) -> None:
    await emu.set_rate_limits(global_limit=4)
    for chat_id in (ALICE, BOB, ALICE, BOB):
        await bot.send_message(chat_id, "x")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(GROUP, "x")
    assert (await emu.stats())["rate_limited_by_scope"] == {"global": 1}


async def test_limits_can_be_switched_off(emu: EmulatorClient, bot: Bot) -> None:
    await emu.set_config(rate_limits={"enabled": False})
    for n in range(10):
        await bot.send_message(ALICE, f"m{n}")


async def test_limits_off_at_construction() -> None:
    server = EmulatorServer(rate_limits={"enabled": False})
    await server.start()
    bot = make_bot(server)
    try:
        server.state.upsert_user(ALICE, "Alice")
        for n in range(10):
            await bot.send_message(ALICE, f"m{n}")
    finally:
        await close_bot(bot)
        await server.stop()


async def test_fault_retry_after(bot: Bot, emu: EmulatorClient) -> None:
    await emu.fail_with_retry_after(7, method="sendMessage", count=2)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as info:
            await bot.send_message(ALICE, "x")
        assert info.value.retry_after == 7
    await bot.send_message(ALICE, "x")
    assert (await emu.stats())["faults_triggered"] == 2


async def test_fault_for_one_chat_only(bot: Bot, emu: EmulatorClient) -> None:
    await emu.fail_with_server_error(500, chat_id=BOB)
    await bot.send_message(ALICE, "unaffected")
    await bot.send_chat_action(ALICE, "typing")
    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(BOB, "x")
    await bot.send_message(BOB, "fine again")


async def test_fault_502_and_custom_error(bot: Bot, emu: EmulatorClient) -> None:
    await emu.fail_with_server_error(502, method="editMessageText")
    await emu.add_fault("error", method="sendMessage", status=400, description="Bad Request: custom")
    with pytest.raises(TelegramBadRequest, match="Bad Request: custom"):
        await bot.send_message(ALICE, "x")
    sent = await bot.send_message(ALICE, "x")
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.edit_message_text("y", chat_id=ALICE, message_id=sent.message_id)


async def test_fault_hang_times_out(bot: Bot, emu: EmulatorClient) -> None:
    await emu.hang(2.0, method="sendMessage")
    started = time.monotonic()
    with pytest.raises(TelegramNetworkError, match="Request timeout error"):
        await bot.send_message(ALICE, "slow", request_timeout=1)
    assert time.monotonic() - started < 1.8
    assert await emu.messages(ALICE) == []
    await bot.send_message(ALICE, "fast")


async def test_fault_hang_after_delivery(bot: Bot, emu: EmulatorClient) -> None:
    await emu.hang(1.5, method="sendMessage", deliver=True)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(ALICE, "delivered but the reply is lost", request_timeout=1)
    assert [m["text"] for m in await emu.messages(ALICE)] == ["delivered but the reply is lost"]


async def test_fault_disconnect(bot: Bot, emu: EmulatorClient) -> None:
    await emu.add_fault("disconnect", method="sendMessage")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(ALICE, "x")
    await bot.send_message(ALICE, "x")


async def test_outage(bot: Bot, emu: EmulatorClient) -> None:
    await emu.set_outage(True)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.get_me()
    with pytest.raises(TelegramServerError):
        await bot.send_message(ALICE, "x")
    assert (await emu.faults())["outage"] == "Bad Gateway"
    await emu.set_outage(False)
    await bot.send_message(ALICE, "x")


async def test_faults_listing_and_clearing(emu: EmulatorClient) -> None:
    fault = await emu.add_fault("429", method="sendPhoto", retry_after=3)
    assert fault["kind"] == "retry_after" and fault["retry_after"] == 3
    assert len((await emu.faults())["faults"]) == 1
    await emu.clear_faults()
    assert (await emu.faults())["faults"] == []
