"""Runs aiogram's models through what the bot does with them, and prints the results as JSON.

    python -m tests.unit.telegram_models_probe lazy    # `import bot` first: models deferred
    python -m tests.unit.telegram_models_probe eager   # `import aiogram` first: built at import

tests/unit/test_lazy_models.py runs it both ways, each in a fresh interpreter (whether the
models are deferred is decided once, when aiogram is imported), and compares the outputs:
which models were built at import, updates and payloads validated (and refused), Bot API
calls as the HTTP session encodes them, answers decoded, and every model's JSON schema.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import warnings
from typing import Any

MODE = sys.argv[1] if len(sys.argv) > 1 else "lazy"
if MODE == "lazy":
    import bot  # installs the deferral, as every entry point does
elif MODE == "eager":
    import aiogram  # noqa: F401  (first: nothing can defer its models any more)

    import bot  # noqa: F401  (must then leave aiogram as it is)
else:
    raise SystemExit(f"unknown mode {MODE!r}")

from aiogram import Bot, methods, types  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.enums import ParseMode  # noqa: E402
from aiogram.exceptions import TelegramAPIError  # noqa: E402
from aiogram.methods import TelegramMethod  # noqa: E402
from aiogram.types import (  # noqa: E402
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from pydantic import BaseModel, ValidationError  # noqa: E402
from pydantic.json_schema import PydanticJsonSchemaWarning  # noqa: E402

from bot.telegram import lazy_models  # noqa: E402

USER = {"id": 1001, "is_bot": False, "first_name": "王", "last_name": "小明", "language_code": "zh-hans"}
ADMIN = {"id": 1002, "is_bot": False, "first_name": "Ann", "username": "ann"}
BOT_USER = {"id": 42, "is_bot": True, "first_name": "Huiwu", "username": "huiwu_bot"}
PRIVATE = {"id": 1001, "type": "private", "first_name": "王"}
GROUP = {"id": -100500, "type": "supergroup", "title": "AV 组"}
KEYBOARD = {
    "inline_keyboard": [
        [{"text": "✅ 完成", "callback_data": "t:17:d"}, {"text": "Help", "url": "https://example.org/h"}]
    ]
}
CARD = {
    "message_id": 77,
    "date": 1795000000,
    "chat": GROUP,
    "from": BOT_USER,
    "text": "<b>AV</b> test · Room 1",
    "entities": [{"type": "bold", "offset": 0, "length": 2}],
    "reply_markup": KEYBOARD,
}

UPDATES: dict[str, Any] = {
    "command": {
        "update_id": 1,
        "message": {
            "message_id": 10,
            "date": 1795000000,
            "chat": PRIVATE,
            "from": USER,
            "text": "/start inv-abc",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    },
    "typed request": {
        "update_id": 2,
        "message": {
            "message_id": 11,
            "date": 1795000001,
            "chat": PRIVATE,
            "from": USER,
            "text": "订一号会议室 明天下午2点到4点 12人",
            "reply_to_message": {**CARD, "chat": PRIVATE, "message_id": 9},
            "link_preview_options": {"is_disabled": True},
        },
    },
    "button": {
        "update_id": 3,
        "callback_query": {
            "id": "cb-1",
            "from": ADMIN,
            "chat_instance": "-77",
            "data": "t:17:d",
            "message": CARD,
        },
    },
    "button on an old message": {
        "update_id": 4,
        "callback_query": {
            "id": "cb-2",
            "from": ADMIN,
            "chat_instance": "-77",
            "data": "t:17:d",
            "message": {"message_id": 5, "date": 0, "chat": GROUP},
        },
    },
    "photo with caption": {
        "update_id": 5,
        "message": {
            "message_id": 12,
            "date": 1795000002,
            "chat": GROUP,
            "from": ADMIN,
            "photo": [
                {"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 60},
                {"file_id": "p2", "file_unique_id": "u2", "width": 900, "height": 600, "file_size": 81234},
            ],
            "caption": "after the meeting",
            "message_thread_id": 3,
            "is_topic_message": True,
        },
    },
    "document, contact, location, forward": {
        "update_id": 6,
        "message": {
            "message_id": 13,
            "date": 1795000003,
            "chat": PRIVATE,
            "from": USER,
            "document": {"file_id": "d1", "file_unique_id": "du1", "file_name": "a.xlsx"},
            "forward_origin": {"type": "user", "date": 1794000000, "sender_user": ADMIN},
            "contact": {"phone_number": "+86 10 1234", "first_name": "Li"},
            "location": {"latitude": 39.9, "longitude": 116.4},
        },
    },
    "bot added to a group": {
        "update_id": 7,
        "my_chat_member": {
            "chat": GROUP,
            "from": ADMIN,
            "date": 1795000004,
            "old_chat_member": {"status": "left", "user": BOT_USER},
            "new_chat_member": {"status": "member", "user": BOT_USER},
        },
    },
    "members joined": {
        "update_id": 8,
        "message": {
            "message_id": 14,
            "date": 1795000005,
            "chat": GROUP,
            "from": ADMIN,
            "new_chat_members": [USER, BOT_USER],
        },
    },
    "edited message": {
        "update_id": 9,
        "edited_message": {
            "message_id": 11,
            "date": 1795000001,
            "edit_date": 1795000009,
            "chat": PRIVATE,
            "from": USER,
            "text": "edited",
        },
    },
    "a field this aiogram does not know": {
        "update_id": 10,
        "message": {
            "message_id": 15,
            "date": 1795000006,
            "chat": PRIVATE,
            "from": USER,
            "text": "hi",
            "some_future_field": {"nested": [1, 2]},
        },
    },
    "an update kind this aiogram does not know": {"update_id": 11, "future_kind": {"x": 1}},
    "no update_id": {"message": {"message_id": 1, "date": 0, "chat": PRIVATE}},
    "a date that is not a date": {
        "update_id": 12,
        "message": {"message_id": 1, "date": "yesterday", "chat": PRIVATE},
    },
    "a chat without an id": {"update_id": 13, "message": {"message_id": 1, "date": 0, "chat": {"type": "x"}}},
    "a button without its presser": {
        "update_id": 14,
        "callback_query": {"id": "cb-3", "chat_instance": "1", "data": "x"},
    },
    "an unknown member status": {
        "update_id": 15,
        "chat_member": {
            "chat": GROUP,
            "from": ADMIN,
            "date": 1,
            "old_chat_member": {"status": "left", "user": USER},
            "new_chat_member": {"status": "emperor", "user": USER},
        },
    },
}


def outcome(validate: Any) -> Any:
    try:
        value = validate()
    except ValidationError as error:
        return {"refused": [[e["type"], list(e["loc"]), e["msg"]] for e in error.errors()]}
    if isinstance(value, BaseModel):
        return {
            "class": type(value).__name__,
            "python": repr(value.model_dump()),
            "json": value.model_dump_json(fallback=repr),
            "json, set fields only": value.model_dump_json(exclude_unset=True, fallback=repr),
        }
    return {"value": repr(value)}


def encoded(bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
    """The method as AiohttpSession.build_form_data puts it on the wire (attachment names,
    random in aiogram, numbered in order)."""
    files: dict[str, Any] = {}
    fields = {}
    for key, value in method.model_dump(warnings=False).items():
        prepared = bot.session.prepare_value(value, bot=bot, files=files)
        if prepared:
            fields[key] = prepared
    names = {key: f"file{number}" for number, key in enumerate(files)}
    for key, value in fields.items():
        for random_name, name in names.items():
            value = value.replace(f"attach://{random_name}", f"attach://{name}")
        fields[key] = value
    return {
        "api": method.__api_method__,
        "fields": fields,
        "files": {names[key]: [type(file).__name__, file.filename] for key, file in files.items()},
    }


def calls(bot: Bot) -> dict[str, Any]:
    update = Update.model_validate(UPDATES["button"], context={"bot": bot})
    assert update.callback_query is not None
    message = Message.model_validate(UPDATES["typed request"]["message"], context={"bot": bot})
    built: dict[str, Any] = {
        "send a card": lambda: methods.SendMessage(
            chat_id=-100500,
            text="<b>AV</b> · Room 1",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="✅", callback_data="t:17:d")]]
            ),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        "send with keyboard as dicts": lambda: methods.SendMessage(
            chat_id="@team",
            text="x",
            reply_markup=KEYBOARD,  # type: ignore[arg-type]
            message_thread_id=3,
        ),
        "reply with force reply": lambda: methods.SendMessage(
            chat_id=1001,
            text="Why?",
            reply_markup=ForceReply(input_field_placeholder="reason"),
            reply_parameters=ReplyParameters(message_id=11, allow_sending_without_reply=True),
        ),
        "edit a card": lambda: methods.EditMessageText(
            chat_id=-100500, message_id=77, text="done", reply_markup=InlineKeyboardMarkup(inline_keyboard=[])
        ),
        "edit the buttons": lambda: methods.EditMessageReplyMarkup(chat_id=-100500, message_id=77),
        "answer a button": lambda: methods.AnswerCallbackQuery(
            callback_query_id="cb-1", text="Recorded", show_alert=False
        ),
        "message.answer": lambda: message.answer("收到", reply_markup=ForceReply()),
        "callback.answer": lambda: update.callback_query.answer("ok", show_alert=True),
        "send a spreadsheet": lambda: methods.SendDocument(
            chat_id=1001, document=BufferedInputFile(b"PK..", filename="week.xlsx"), caption="week"
        ),
        "send a chart": lambda: methods.SendPhoto(
            chat_id=1001, photo=BufferedInputFile(b"\x89PNG", filename="chart.png")
        ),
        "set the commands": lambda: methods.SetMyCommands(
            commands=[BotCommand(command="book", description="Book a room")],
            scope=BotCommandScopeChat(chat_id=1001),
            language_code="en",
        ),
        "delete": lambda: methods.DeleteMessage(chat_id=-100500, message_id=77),
        "get updates": lambda: methods.GetUpdates(offset=5, timeout=1, allowed_updates=["message"]),
        "set the webhook": lambda: methods.SetWebhook(
            url="https://bot.example.com/telegram/webhook", secret_token="s", max_connections=40
        ),
        "get a chat member": lambda: methods.GetChatMember(chat_id=-100500, user_id=1001),
        "no text": lambda: methods.SendMessage(chat_id=1),  # type: ignore[call-arg]
        "a list for a chat id": lambda: methods.SendMessage(chat_id=[1], text="x"),  # type: ignore[arg-type]
        "a bad button": lambda: InlineKeyboardMarkup(inline_keyboard=[[{"text": 5}]]),  # type: ignore[list-item]
    }
    out: dict[str, Any] = {}
    for name, build in built.items():
        try:
            method = build()
        except ValidationError as error:
            out[name] = {"refused": [[e["type"], list(e["loc"]), e["msg"]] for e in error.errors()]}
            continue
        out[name] = encoded(bot, method) if isinstance(method, TelegramMethod) else repr(method)
    return out


def answers(bot: Bot) -> dict[str, Any]:
    send = methods.SendMessage(chat_id=-100500, text="x")
    cases: dict[str, tuple[TelegramMethod[Any], int, dict[str, Any]]] = {
        "sent": (send, 200, {"ok": True, "result": CARD}),
        "true": (methods.DeleteMessage(chat_id=1, message_id=2), 200, {"ok": True, "result": True}),
        "member": (
            methods.GetChatMember(chat_id=-100500, user_id=1001),
            200,
            {"ok": True, "result": {"status": "member", "user": USER}},
        ),
        "updates": (
            methods.GetUpdates(),
            200,
            {"ok": True, "result": [UPDATES["command"], UPDATES["button"], UPDATES["bot added to a group"]]},
        ),
        "bad request": (
            send,
            400,
            {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
        ),
        "too many": (
            send,
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests",
                "parameters": {"retry_after": 7},
            },
        ),
        "forbidden": (
            send,
            403,
            {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked"},
        ),
        "malformed result": (send, 200, {"ok": True, "result": {"message_id": "x"}}),
    }
    out: dict[str, Any] = {}
    for name, (method, status, body) in cases.items():
        try:
            response = bot.session.check_response(
                bot=bot, method=method, status_code=status, content=json.dumps(body)
            )
        except TelegramAPIError as error:
            out[name] = [type(error).__name__, str(error), getattr(error, "retry_after", None)]
        except Exception as error:  # what the session raises on a result it cannot read
            out[name] = [type(error).__name__, str(error).splitlines()[0]]
        else:
            result = response.result
            dumped = (
                [item.model_dump_json(fallback=repr) for item in result]
                if isinstance(result, list)
                else result.model_dump_json(fallback=repr)
                if isinstance(result, BaseModel)
                else repr(result)
            )
            out[name] = [type(response).__name__, type(result).__name__, dumped]
    return out


def models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module in (types, methods):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, BaseModel):
                found[f"{module.__name__}.{name}"] = value
    return found


def every_model(found: dict[str, type[BaseModel]]) -> dict[str, Any]:
    """Each model validating an empty object (which builds a deferred model by the path its first
    use takes) and then its fields' resolved annotations."""
    out: dict[str, Any] = {}
    for name, model in found.items():
        try:
            model.model_validate({})
            refused: Any = None
        except ValidationError as error:
            refused = sorted([e["type"], list(e["loc"])] for e in error.errors())
        except Exception as error:  # e.g. "not fully defined": an annotation that did not resolve
            refused = f"{type(error).__name__}: {str(error).splitlines()[0]}"
        fields = {field: repr(info.annotation) for field, info in model.model_fields.items()}
        out[name] = {"empty object": refused, "fields": fields}
    return out


SCHEMAS = (
    Update,
    Message,
    CallbackQuery,
    InlineKeyboardMarkup,
    methods.SendMessage,
    methods.EditMessageText,
    methods.AnswerCallbackQuery,
    methods.SendDocument,
    methods.SetMyCommands,
    methods.GetUpdates,
)


def schemas() -> dict[str, Any]:
    """The JSON schemas of the models the bot uses most (Message's holds most of the others)."""
    warnings.simplefilter("ignore", PydanticJsonSchemaWarning)  # aiogram's Default(...) defaults
    out: dict[str, Any] = {}
    for model in SCHEMAS:
        try:
            out[model.__name__] = model.model_json_schema()
        except Exception as error:  # an InputFile somewhere inside: no JSON schema for it
            out[model.__name__] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return out


async def main() -> None:
    import aiogram
    import pydantic

    found = models()
    built_at_import = sorted(name for name, model in found.items() if model.__pydantic_complete__)
    bot = Bot(
        token="123456:" + "A" * 35,
        session=AiohttpSession(),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    try:
        result = {
            "versions": {"aiogram": aiogram.__version__, "pydantic": pydantic.VERSION},
            "deferred": lazy_models.deferred(),
            "models": len(found),
            "built at import": built_at_import,
            "updates": {
                name: outcome(lambda p=payload: Update.model_validate(p)) for name, payload in UPDATES.items()
            },
            "messages": {
                "card": outcome(lambda: Message.model_validate(CARD)),
                "card from JSON": outcome(lambda: Message.model_validate_json(json.dumps(CARD))),
                "button": outcome(lambda: CallbackQuery.model_validate(UPDATES["button"]["callback_query"])),
            },
            "calls": calls(bot),
            "answers": answers(bot),
            "schemas": schemas(),
            "every model": every_model(found),
            "built at the end": sum(1 for model in found.values() if model.__pydantic_complete__),
        }
    finally:
        await bot.session.close()
    text = json.dumps(result, ensure_ascii=False, sort_keys=True, default=repr)
    print(re.sub(r" at 0x[0-9a-f]+", " at 0x…", text))  # functions in annotations print their address


if __name__ == "__main__":
    asyncio.run(main())
