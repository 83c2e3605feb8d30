from __future__ import annotations

import asyncio
import time

import pytest
from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from emulator import EmulatorClient, EmulatorError, EmulatorServer

from .conftest import ALICE, BOB, GROUP

pytestmark = pytest.mark.usefixtures("people")


async def test_history_long_poll_wakes_on_bot_message(bot: Bot, emu: EmulatorClient) -> None:
    seq = await emu.current_seq()

    async def send_later() -> None:
        await asyncio.sleep(0.2)
        await bot.send_message(ALICE, "late news")

    task = asyncio.create_task(send_later())
    started = time.monotonic()
    page = await emu.history(ALICE, since=seq, wait=3, sender="bot")
    await task
    assert 0.15 < time.monotonic() - started < 2
    assert [m["text"] for m in page["messages"]] == ["late news"]
    assert page["seq"] >= page["messages"][0]["seq"] > seq

    empty = await emu.history(ALICE, since=page["seq"], wait=0.2)
    assert empty["messages"] == []


async def test_history_contains_both_sides_in_order(bot: Bot, emu: EmulatorClient) -> None:
    await emu.send_message(ALICE, "hi bot")
    await bot.send_message(ALICE, "hi Alice")
    messages = await emu.messages(ALICE)
    assert [(m["sender"], m["text"]) for m in messages] == [("user", "hi bot"), ("bot", "hi Alice")]
    assert [m["message_id"] for m in messages] == [1, 2]
    assert messages[0]["from"]["first_name"] == "Alice"
    last = await emu.last_bot_message(ALICE)
    assert last is not None and last["text"] == "hi Alice"
    assert await emu.last_bot_message(BOB) is None


async def test_wait_for_message_sees_edits(bot: Bot, emu: EmulatorClient) -> None:
    sent = await bot.send_message(ALICE, "Booking: pending")
    seq = await emu.current_seq()

    async def edit_later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(ALICE, "unrelated")
        await asyncio.sleep(0.1)
        await bot.edit_message_text("Booking: confirmed", chat_id=ALICE, message_id=sent.message_id)

    task = asyncio.create_task(edit_later())
    found = await emu.wait_for_message(ALICE, lambda m: "confirmed" in m["text"], since=seq)
    await task
    assert found["message_id"] == sent.message_id and found["edit_count"] == 1

    with pytest.raises(TimeoutError):
        await emu.wait_for_message(ALICE, "never", timeout=0.3)
    with pytest.raises(TimeoutError):
        await emu.wait_for_message(ALICE, "Booking", timeout=0.2, since=seq, include_edits=False)


async def test_press_button_waits_for_the_button(bot: Bot, emu: EmulatorClient) -> None:
    async def offer_later() -> None:
        await asyncio.sleep(0.2)
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Room 101", callback_data="room:101")]]
        )
        await bot.send_message(ALICE, "Choose", reply_markup=markup)

    task = asyncio.create_task(offer_later())
    press = await emu.press_button(ALICE, ALICE, "101", timeout=3)
    await task
    assert press["data"] == "room:101"
    with pytest.raises(TimeoutError):
        await emu.press_button(ALICE, ALICE, "Room 999", timeout=0.3)


async def test_callback_answer_wait(bot: Bot, emu: EmulatorClient) -> None:
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]])
    sent = await bot.send_message(ALICE, "Ready?", reply_markup=markup)
    press = await emu.click_button(ALICE, ALICE, sent.message_id, "go")
    assert (await emu.callback_answer(press["callback_query_id"]))["answered"] is False

    async def answer_later() -> None:
        await asyncio.sleep(0.2)
        await bot.answer_callback_query(press["callback_query_id"], text="Go!")

    task = asyncio.create_task(answer_later())
    answer = await emu.wait_for_callback_answer(press["callback_query_id"], timeout=3)
    await task
    assert answer["text"] == "Go!"


async def test_event_stream(bot: Bot, emu: EmulatorClient) -> None:
    received: list[dict] = []

    async def follow() -> None:
        async for event in emu.events(chat_id=ALICE):
            received.append(event)
            if event["type"] == "delete":
                return

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.1)
    sent = await bot.send_message(ALICE, "one")
    await bot.send_message(BOB, "not for Alice")
    await bot.edit_message_text("two", chat_id=ALICE, message_id=sent.message_id)
    await bot.delete_message(ALICE, sent.message_id)
    await asyncio.wait_for(follower, 3)
    kinds = [e["type"] for e in received if e["type"] in ("message", "edit", "delete")]
    assert kinds == ["message", "edit", "delete"]
    assert all(e["chat_id"] in (ALICE, None) for e in received)
    assert received[-1]["message"]["deleted"] is True


async def test_event_stream_replays_since(bot: Bot, emu: EmulatorClient) -> None:
    seq = await emu.current_seq()
    await bot.send_message(ALICE, "missed while offline")
    stream = emu.events(since=seq)
    event = await asyncio.wait_for(anext(stream), 2)
    await stream.aclose()
    assert event["type"] == "message" and event["message"]["text"] == "missed while offline"


async def test_users_groups_and_reset(emu: EmulatorClient, emulator_server: EmulatorServer) -> None:
    user = await emu.update_user(ALICE, username="alice_li", language_code="zh")
    assert user["username"] == "alice_li" and user["language_code"] == "zh"
    assert {u["id"] for u in await emu.users()} == {ALICE, BOB}
    chat = await emu.get_chat(GROUP)
    assert chat["members"] == {str(ALICE): "creator", str(BOB): "member"}
    assert chat["bot_status"] == "member"
    with pytest.raises(EmulatorError) as info:
        await emu.create_group(42, "positive id")
    assert info.value.status == 400
    with pytest.raises(EmulatorError) as info:
        await emu.send_message(999, "who am I")
    assert info.value.status == 404

    await emu.reset()
    assert await emu.users() == []
    assert emulator_server.state.chats == {}
    assert (await emu.stats())["messages_sent"] == 0


async def test_config_roundtrip(emu: EmulatorClient) -> None:
    config = await emu.set_config(bot_username="other_bot", rate_limits={"group_limit": 5})
    assert config["bot_username"] == "other_bot"
    assert config["rate_limits"]["group_limit"] == 5
    with pytest.raises(EmulatorError, match="unknown setting"):
        await emu.set_config(nonsense=True)


async def test_state_is_usable_in_process(bot: Bot, emulator_server: EmulatorServer) -> None:
    await bot.send_message(ALICE, "hello")
    state = emulator_server.state
    [message] = state.chat_messages(ALICE)
    assert message.text == "hello" and message.from_bot
    assert state.stats.messages_sent == 1
