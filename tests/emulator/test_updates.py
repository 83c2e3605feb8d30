from __future__ import annotations

import asyncio
import time

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from emulator import EmulatorClient, EmulatorError, EmulatorServer

from .conftest import ALICE, BOB, BOT_ID, GROUP, close_bot, make_bot

pytestmark = pytest.mark.usefixtures("people")


def one_button(text: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)]])


async def test_injected_message_arrives_with_command_entity(bot: Bot, emu: EmulatorClient) -> None:
    injected = await emu.send_message(ALICE, "/start payload-42")
    assert injected["delivered"] is True
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [injected["update_id"]]
    message = updates[0].message
    assert message is not None
    assert message.message_id == injected["message_id"]
    assert message.text == "/start payload-42"
    assert message.from_user is not None and message.from_user.username == "alice"
    assert message.from_user.language_code == "en"
    assert message.chat.id == ALICE and message.chat.type == "private"
    assert message.entities is not None
    assert message.entities[0].model_dump(exclude_none=True) == {
        "type": "bot_command",
        "offset": 0,
        "length": 6,
    }

    await emu.send_message(ALICE, "/book@huiwu_bot room 5")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert len(updates) == 1
    entity = updates[0].message.entities[0]  # type: ignore[union-attr,index]
    assert (entity.type, entity.length) == ("bot_command", len("/book@huiwu_bot"))
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == []


async def test_markup_typed_by_a_user_is_no_command(bot: Bot, emu: EmulatorClient) -> None:
    # a closing tag's "/b" is not a command: Telegram marks one only at the start of a word
    await emu.send_message(ALICE, "请把 <b>季度预算</b> 加粗 /help")
    (update,) = await bot.get_updates()
    message = update.message
    assert message is not None and message.entities is not None
    commands = [e.extract_from(message.text or "") for e in message.entities if e.type == "bot_command"]
    assert commands == ["/help"]


async def test_updates_stay_until_confirmed(bot: Bot, emu: EmulatorClient) -> None:
    for text in ("one", "two", "three"):
        await emu.send_message(ALICE, text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["one", "two"]  # type: ignore[union-attr]
    again = await bot.get_updates()
    assert [u.message.text for u in again] == ["one", "two", "three"]  # type: ignore[union-attr]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["three"]  # type: ignore[union-attr]
    assert len(await emu.pending_updates()) == 1


async def test_long_poll_wakes_up_on_injection(bot: Bot, emu: EmulatorClient) -> None:
    async def inject_later() -> None:
        await asyncio.sleep(0.2)
        await emu.send_message(BOB, "hello")

    started = time.monotonic()
    task = asyncio.create_task(inject_later())
    updates = await bot.get_updates(timeout=5)
    elapsed = time.monotonic() - started
    await task
    assert len(updates) == 1
    assert 0.15 < elapsed < 2.0


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9


async def test_concurrent_get_updates_conflict(bot: Bot, emulator_server: EmulatorServer) -> None:
    other = make_bot(emulator_server)
    try:
        poll = asyncio.create_task(bot.get_updates(timeout=3))
        await asyncio.sleep(0.2)
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
            await other.get_updates(timeout=1)
        poll.cancel()
        with pytest.raises(asyncio.CancelledError):
            await poll
        await asyncio.sleep(0.1)
        assert await other.get_updates() == []
    finally:
        await close_bot(other)


async def test_button_press_by_message_and_data(bot: Bot, emu: EmulatorClient) -> None:
    sent = await bot.send_message(ALICE, "Confirm?", reply_markup=one_button("Yes", "confirm:7"))
    press = await emu.click_button(ALICE, ALICE, sent.message_id, "confirm:7")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None
    assert updates[-1].update_id == press["update_id"]
    assert query.id == press["callback_query_id"]
    assert query.data == "confirm:7"
    assert query.from_user.id == ALICE
    assert query.chat_instance
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id
    assert query.message.from_user is not None and query.message.from_user.id == BOT_ID

    with pytest.raises(EmulatorError) as info:
        await emu.click_button(ALICE, ALICE, sent.message_id, "confirm:8")
    assert info.value.status == 400
    forged = await emu.click_button(ALICE, ALICE, sent.message_id, "admin:delete_all", forge=True)
    assert forged["data"] == "admin:delete_all"


async def test_press_by_text_picks_the_newest_message(bot: Bot, emu: EmulatorClient) -> None:
    await bot.send_message(ALICE, "old", reply_markup=one_button("✅ Book room", "book:1"))
    newer = await bot.send_message(ALICE, "new", reply_markup=one_button("✅ Book room", "book:2"))
    press = await emu.click_button_by_text(ALICE, ALICE, "Book")
    assert press["message_id"] == newer.message_id
    assert press["data"] == "book:2"
    with pytest.raises(EmulatorError) as info:
        await emu.click_button_by_text(ALICE, ALICE, "Nope")
    assert info.value.status == 404


async def test_reply_keyboard_button_is_sent_as_text(bot: Bot, emu: EmulatorClient) -> None:
    from aiogram.types import KeyboardButton, ReplyKeyboardMarkup

    markup = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="📅 My bookings")]])
    await bot.send_message(ALICE, "Menu", reply_markup=markup)
    press = await emu.press_button(ALICE, ALICE, "bookings")
    assert press["kind"] == "reply_keyboard"
    updates = await bot.get_updates()
    assert updates[-1].message is not None and updates[-1].message.text == "📅 My bookings"


async def test_privacy_mode_in_groups(bot: Bot, emu: EmulatorClient) -> None:
    plain = await emu.send_message(ALICE, "just chatting", chat_id=GROUP)
    command = await emu.send_message(ALICE, "/book", chat_id=GROUP)
    other_bot = await emu.send_message(ALICE, "/book@other_bot", chat_id=GROUP)
    mention = await emu.send_message(BOB, "hey @huiwu_bot, rooms?", chat_id=GROUP)
    sent = await bot.send_message(GROUP, "Which room?")
    reply = await emu.send_message(BOB, "Room 5", chat_id=GROUP, reply_to_message_id=sent.message_id)
    assert [m["delivered"] for m in (plain, command, other_bot, mention, reply)] == [
        False, True, False, True, True,
    ]  # fmt: skip
    updates = await bot.get_updates()
    texts = [u.message.text for u in updates]  # type: ignore[union-attr]
    assert texts == ["/book", "hey @huiwu_bot, rooms?", "Room 5"]
    replied = updates[-1].message.reply_to_message  # type: ignore[union-attr]
    assert replied is not None and replied.text == "Which room?"
    history = await emu.messages(GROUP)
    assert len(history) == 6

    await emu.add_bot_to_group(GROUP, admin=True)
    assert (await emu.send_message(ALICE, "admins see all", chat_id=GROUP))["delivered"] is True
    assert (await emu.get_chat(GROUP))["bot_reads_all"] is True


async def test_privacy_mode_off_applies_once_the_bot_is_added_again(bot: Bot, emu: EmulatorClient) -> None:
    """As in Telegram: /setprivacy → Disable changes getMe at once, but a group the bot is
    already in keeps the privacy it joined with until the bot is removed and added again."""
    await emu.set_config(privacy_mode=False)
    assert (await bot.get_me()).can_read_all_group_messages is True
    still_hidden = await emu.send_message(ALICE, "before re-adding", chat_id=GROUP)
    assert still_hidden["delivered"] is False and still_hidden["update_id"] is None
    assert (await emu.get_chat(GROUP))["bot_reads_all"] is False

    await emu.remove_bot_from_group(GROUP, kicked=False)
    await emu.add_bot_to_group(GROUP)
    assert (await emu.get_chat(GROUP))["bot_reads_all"] is True
    plain = await emu.send_message(BOB, "after re-adding", chat_id=GROUP)
    assert plain["delivered"] is True
    # a group the bot joins now sees everything from the start
    await emu.create_group(-5002, "New team", [ALICE])
    assert (await emu.send_message(ALICE, "hello all", chat_id=-5002))["delivered"] is True
    updates = await bot.get_updates()
    texts = [u.message.text for u in updates if u.message is not None]
    assert texts == ["after re-adding", "hello all"]

    # turned back on: the groups keep what they joined with; a demoted admin keeps it too
    await emu.set_config(privacy_mode=True)
    assert (await bot.get_me()).can_read_all_group_messages is False
    assert (await emu.send_message(ALICE, "still seen", chat_id=GROUP))["delivered"] is True
    await emu.remove_bot_from_group(GROUP)
    await emu.add_bot_to_group(GROUP, admin=True)
    await emu.add_bot_to_group(GROUP)  # demoted to a plain member: privacy on, as it joined
    assert (await emu.send_message(ALICE, "hidden again", chat_id=GROUP))["delivered"] is False


async def test_group_membership_rules(emu: EmulatorClient) -> None:
    await emu.create_user(3003, "Carol")
    with pytest.raises(EmulatorError, match="not a member"):
        await emu.send_message(3003, "hi", chat_id=GROUP)
    await emu.add_member(GROUP, 3003)
    await emu.send_message(3003, "hi", chat_id=GROUP)


async def test_bot_membership_changes_send_my_chat_member(bot: Bot, emu: EmulatorClient) -> None:
    await emu.remove_bot_from_group(GROUP)
    await emu.block_bot(BOB)
    updates = await bot.get_updates()
    changes = [u.my_chat_member for u in updates if u.my_chat_member]
    assert [(c.chat.id, c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        (GROUP, "member", "kicked"),
        (BOB, "member", "kicked"),
    ]
    assert (await emu.send_message(ALICE, "/book", chat_id=GROUP))["delivered"] is False


async def test_allowed_updates_filter(bot: Bot, emu: EmulatorClient) -> None:
    sent = await bot.send_message(ALICE, "x", reply_markup=one_button("A", "a"))
    await emu.send_message(ALICE, "text")
    await emu.click_button(ALICE, ALICE, sent.message_id, "a")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in updates] == [True]


async def test_user_edits_their_message(bot: Bot, emu: EmulatorClient) -> None:
    sent = await emu.send_message(ALICE, "room 4")
    await emu.edit_user_message(ALICE, sent["message_id"], "room 5")
    updates = await bot.get_updates()
    assert updates[-1].edited_message is not None
    assert updates[-1].edited_message.text == "room 5"


async def test_dispatcher_polling_round_trip(emulator_server: EmulatorServer, emu: EmulatorClient) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(
            f"Welcome, <b>{message.from_user.first_name}</b>! payload={command.args}",  # type: ignore[union-attr]
            reply_markup=one_button("Book a room", "book"),
        )

    @dp.message(Command("help"))
    async def help_(message: Message) -> None:
        await message.reply("Help text")

    @dp.callback_query(F.data == "book")
    async def book(query: CallbackQuery) -> None:
        await query.answer("Booking…")
        await query.message.edit_text("Pick a room")  # type: ignore[union-attr]

    bot = make_bot(emulator_server)
    polling = asyncio.create_task(
        dp.start_polling(bot, polling_timeout=1, handle_signals=False, close_bot_session=False)
    )
    try:
        await emu.send_message(ALICE, "/start from-link")
        welcome = await emu.wait_for_message(ALICE, "Welcome", timeout=3)
        assert welcome["html"] == "Welcome, <b>Alice</b>! payload=from-link"

        press = await emu.press_button(ALICE, ALICE, "Book a room", timeout=3)
        answer = await emu.wait_for_callback_answer(press["callback_query_id"], timeout=3)
        assert answer["text"] == "Booking…"
        edited = await emu.wait_for_message(ALICE, "Pick a room", timeout=3, since=welcome["seq"])
        assert edited["message_id"] == welcome["message_id"]
        assert edited["edit_count"] == 1

        await emu.send_message(BOB, "/help")
        reply = await emu.wait_for_message(BOB, "Help text", timeout=3)
        assert reply["reply_to_message_id"] is not None
    finally:
        await dp.stop_polling()
        await polling
        await close_bot(bot)
    assert emulator_server.state.active_poll is None or emulator_server.state.active_poll.gone


async def test_updates_made_before_the_bot_connected_name_the_real_bot() -> None:
    fresh = EmulatorServer()
    await fresh.start()
    bot = make_bot(fresh)
    try:
        fresh.state.upsert_user(ALICE, "Alice")
        fresh.state.set_blocked(ALICE)
        [update] = await bot.get_updates()
        assert update.my_chat_member is not None
        assert update.my_chat_member.new_chat_member.user.id == BOT_ID
        assert update.my_chat_member.new_chat_member.status == "kicked"
    finally:
        await close_bot(bot)
        await fresh.stop()


async def test_callback_queries_expire_with_the_configured_timeout() -> None:
    class Clock:
        now = 100.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    server = EmulatorServer(clock=clock, callback_answer_timeout=15.0)
    await server.start()
    other = make_bot(server)
    try:
        server.state.upsert_user(ALICE, "Alice")
        sent = await other.send_message(ALICE, "Pick", reply_markup=one_button("A", "a"))
        press = server.state.press_button(ALICE, ALICE, sent.message_id, "a")
        clock.now += 16
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await other.answer_callback_query(press.id)
    finally:
        await close_bot(other)
        await server.stop()


async def test_negative_offset_keeps_the_newest(bot: Bot, emu: EmulatorClient) -> None:
    for text in ("a", "b", "c"):
        await emu.send_message(ALICE, text)
    updates = await bot.get_updates(offset=-1)
    assert [u.message.text for u in updates] == ["c"]  # type: ignore[union-attr]
    assert len(await emu.pending_updates()) == 1
