from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)

from emulator import EmulatorClient, EmulatorServer

from .conftest import ALICE, BOB, BOT_ID, GROUP, close_bot, make_bot

pytestmark = pytest.mark.usefixtures("people")


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row] for row in rows
        ]
    )


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == BOT_ID
    assert me.is_bot
    assert me.username == "huiwu_bot"
    assert me.first_name == "Huiwu"
    assert me.can_read_all_group_messages is False


async def test_privacy_mode_off_shows_in_get_me(bot: Bot, emu: EmulatorClient) -> None:
    await emu.set_config(privacy_mode=False)
    assert (await bot.get_me()).can_read_all_group_messages is True


async def test_send_edit_delete(bot: Bot, emu: EmulatorClient) -> None:
    sent = await bot.send_message(ALICE, "<b>Room</b> booked", reply_markup=keyboard([("OK", "ok")]))
    assert sent.text == "Room booked"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sent.chat.id == ALICE and sent.chat.type == "private" and sent.chat.first_name == "Alice"
    assert sent.from_user is not None and sent.from_user.id == BOT_ID

    edited = await bot.edit_message_text("<i>Room</i> cancelled", chat_id=ALICE, message_id=sent.message_id)
    assert not isinstance(edited, bool)
    assert edited.text == "Room cancelled" and edited.edit_date is not None
    assert edited.reply_markup is None

    marked = await bot.edit_message_reply_markup(
        chat_id=ALICE, message_id=sent.message_id, reply_markup=keyboard([("Undo", "undo")])
    )
    assert not isinstance(marked, bool) and marked.reply_markup is not None

    history = await emu.messages(ALICE)
    assert len(history) == 1
    record = history[0]
    assert record["text"] == "Room cancelled"
    assert record["html"] == "<i>Room</i> cancelled"
    assert record["edit_count"] == 2
    assert record["buttons"][0]["callback_data"] == "undo"

    assert await bot.delete_message(ALICE, sent.message_id)
    assert await emu.messages(ALICE) == []
    deleted = (await emu.history(ALICE))["messages"][0]
    assert deleted["deleted"] is True
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("again", chat_id=ALICE, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("line<br>break", 'can\'t parse entities: Unsupported start tag "br" at byte offset 4'),
        ("<b>bold", "can't parse entities: Can't find end tag corresponding to start tag \"b\""),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("1 < 2", 'can\'t parse entities: Unsupported start tag "" at byte offset 2'),
        ("Q&A", 'can\'t parse entities: Character "&" must be escaped'),
        ("   ", "message text is empty"),
        ("<b></b>", "message text is empty"),
        ("x" * 4097, "message is too long"),
    ],
)
async def test_text_validation(bot: Bot, text: str, error: str) -> None:
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_message(ALICE, text)
    assert error in info.value.message
    assert info.value.message.startswith("Bad Request: ")


async def test_max_length_counts_text_after_parsing(bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "<b>" + "x" * 4096 + "</b>")
    assert sent.text is not None and len(sent.text) == 4096


async def test_plain_text_without_parse_mode(bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "a < b & c", parse_mode=None)
    assert sent.text == "a < b & c"


async def test_explicit_entities(bot: Bot) -> None:
    from aiogram.types import MessageEntity

    sent = await bot.send_message(
        ALICE, "hello", parse_mode=None, entities=[MessageEntity(type="bold", offset=0, length=5)]
    )
    assert sent.entities is not None
    assert [e.model_dump(exclude_none=True) for e in sent.entities] == [
        {"type": "bold", "offset": 0, "length": 5}
    ]


async def test_callback_data_limits(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "pick", reply_markup=keyboard([("A", "x" * 65)]))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "pick", reply_markup=keyboard([("A", "会" * 22)]))
    await bot.send_message(ALICE, "pick", reply_markup=keyboard([("A", "x" * 64)]))


async def test_button_text_and_type(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_TEXT_INVALID"):
        await bot.send_message(ALICE, "pick", reply_markup=keyboard([("", "a")]))
    bare = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="no action")]])
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(ALICE, "pick", reply_markup=bare)


async def test_not_modified(bot: Bot) -> None:
    markup = keyboard([("A", "a")])
    sent = await bot.send_message(ALICE, "<b>Same</b>", reply_markup=markup)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.edit_message_text(
            "<b>Same</b>", chat_id=ALICE, message_id=sent.message_id, reply_markup=markup
        )
    assert info.value.message == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=ALICE, message_id=sent.message_id, reply_markup=markup)
    await bot.edit_message_text("<i>Same</i>", chat_id=ALICE, message_id=sent.message_id, reply_markup=markup)


async def test_chat_errors(bot: Bot, emu: EmulatorClient) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(424242, "hi")
    await emu.block_bot(BOB)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(BOB, "hi")
    await emu.remove_bot_from_group(GROUP)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was kicked from the group chat"):
        await bot.send_message(GROUP, "hi")
    await emu.create_group(-1001234567890, "Super", [ALICE], chat_type="supergroup")
    await emu.remove_bot_from_group(-1001234567890, kicked=False)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot is not a member of the supergroup chat"):
        await bot.send_message(-1001234567890, "hi")


async def test_user_can_only_be_messaged_after_start_when_required(bot: Bot, emu: EmulatorClient) -> None:
    await emu.set_config(require_start=True)
    await emu.create_user(77, "Newcomer")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(77, "hi")
    await emu.send_message(77, "/start")
    await bot.send_message(77, "hi")


async def test_answer_callback_query_rules(bot: Bot, emu: EmulatorClient) -> None:
    sent = await bot.send_message(ALICE, "pick", reply_markup=keyboard([("A", "a")]))
    press = await emu.click_button(ALICE, ALICE, sent.message_id, "a")
    query_id = press["callback_query_id"]
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    assert await bot.answer_callback_query(query_id, text="Saved", show_alert=True)
    answer = await emu.callback_answer(query_id)
    assert answer["answered"] and answer["text"] == "Saved" and answer["show_alert"] is True
    message = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    with pytest.raises(TelegramBadRequest) as info:
        await bot.answer_callback_query(query_id)
    assert info.value.message == message
    with pytest.raises(TelegramBadRequest) as info:
        await bot.answer_callback_query("12345")
    assert info.value.message == message


async def test_unknown_method_and_token(emulator_server: EmulatorServer) -> None:
    async with aiohttp.ClientSession() as http:
        url = emulator_server.api_url("123:abc", "sendTelepathy")
        async with http.post(url, data={"chat_id": "1"}) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with http.get(emulator_server.api_url("123:abc", "getme")) as response:
            body = await response.json()
            assert body["ok"] is True and body["result"]["id"] == 123
        async with http.post(
            emulator_server.api_url("123:abc", "sendMessage"), json={"chat_id": 1, "text": ""}
        ) as response:
            assert response.status == 400


async def test_configured_token_is_enforced() -> None:
    server = EmulatorServer(token="111:right")
    await server.start()
    bot = make_bot(server, "111:wrong")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await bot.get_me()
    finally:
        await close_bot(bot)
        await server.stop()


async def test_reply_to_message(bot: Bot, emu: EmulatorClient) -> None:
    question = await emu.send_message(ALICE, "When is the meeting?")
    answer = await bot.send_message(
        ALICE, "At 10:00", reply_parameters=ReplyParameters(message_id=question["message_id"])
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "When is the meeting?"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(ALICE, "x", reply_parameters=ReplyParameters(message_id=999))
    lenient = await bot.send_message(
        ALICE, "x", reply_parameters=ReplyParameters(message_id=999, allow_sending_without_reply=True)
    )
    assert lenient.reply_to_message is None


async def test_chat_info_and_members(bot: Bot, emu: EmulatorClient) -> None:
    chat = await bot.get_chat(GROUP)
    assert chat.title == "Conference team" and chat.type == "group"
    private = await bot.get_chat(ALICE)
    assert private.first_name == "Alice" and private.username == "alice"

    me = await bot.get_chat_member(GROUP, BOT_ID)
    assert me.status == "member"
    owner = await bot.get_chat_member(GROUP, ALICE)
    assert owner.status == "creator"
    assert (await bot.get_chat_member(GROUP, BOB)).status == "member"
    admins = await bot.get_chat_administrators(GROUP)
    assert [a.user.id for a in admins] == [ALICE]

    await emu.add_bot_to_group(GROUP, admin=True)
    me = await bot.get_chat_member(GROUP, BOT_ID)
    assert me.status == "administrator"
    assert BOT_ID in [a.user.id for a in await bot.get_chat_administrators(GROUP)]
    assert await bot.get_chat_member_count(GROUP) == 3

    assert await bot.leave_chat(GROUP)
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the group chat"):
        await bot.send_message(GROUP, "hello?")


async def test_chat_action(bot: Bot, emu: EmulatorClient) -> None:
    assert await bot.send_chat_action(ALICE, "typing")
    assert (await emu.get_chat(ALICE))["last_action"] == "typing"
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(ALICE, "dancing")


async def test_commands_per_scope_and_language(bot: Bot, emu: EmulatorClient) -> None:
    english = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="book", description="Book a room"),
    ]
    chinese = [BotCommand(command="start", description="开始")]
    assert await bot.set_my_commands(english)
    assert await bot.set_my_commands(chinese, language_code="zh")
    assert await bot.set_my_commands(english[:1], scope=BotCommandScopeAllGroupChats())
    assert await bot.set_my_commands(chinese, scope=BotCommandScopeChat(chat_id=ALICE), language_code="zh")

    def pairs(commands: list[BotCommand]) -> list[tuple[str, str]]:
        return [(c.command, c.description) for c in commands]

    assert pairs(await bot.get_my_commands()) == pairs(english)
    assert pairs(await bot.get_my_commands(language_code="zh")) == pairs(chinese)
    assert await bot.get_my_commands(language_code="de") == []
    scoped = await bot.get_my_commands(scope=BotCommandScopeAllGroupChats())
    assert pairs(scoped) == pairs(english[:1])

    stored = await emu.commands()
    keys = {(c["scope"]["type"], c["scope"].get("chat_id"), c["language_code"]) for c in stored}
    assert keys == {
        ("default", None, ""),
        ("default", None, "zh"),
        ("all_group_chats", None, ""),
        ("chat", ALICE, "zh"),
    }
    assert await bot.delete_my_commands(language_code="zh")
    assert await bot.get_my_commands(language_code="zh") == []

    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_webhook_is_recorded(bot: Bot, emu: EmulatorClient) -> None:
    assert await bot.set_webhook("https://example.com/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.com/hook"
    assert (await emu.webhook())["secret_token"] == "s3cret"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://example.com/hook")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == []
