"""The Bot API itself: ``POST /bot<token>/<method>`` and ``GET /file/bot<token>/<path>``."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import (
    MESSAGE_NOT_MODIFIED,
    MESSAGE_TO_EDIT_NOT_FOUND,
    ApiError,
    bad_request,
    conflict,
    too_many_requests,
)
from .faults import Fault
from .models import JSON, Chat, StoredMessage
from .params import Params, Upload
from .state import UPDATE_TYPES, EmulatorState
from .validation import (
    FormattedText,
    entities_key,
    format_text,
    markup_key,
    validate_inline_markup,
    validate_reply_markup,
)

log = logging.getLogger("emulator")
STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("emulator_state", EmulatorState)

_TOKEN = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
MAX_UPLOAD = 50 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024


@dataclass
class Call:
    state: EmulatorState
    request: web.Request
    method: str
    params: Params


Handler = Callable[[Call], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = handler
        return handler

    return register


def _reply(body: JSON, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _error(state: EmulatorState, error: ApiError) -> web.Response:
    state.stats.errors[error.code] += 1
    return _reply(error.payload(), status=error.code)


def _check_token(state: EmulatorState, token: str) -> ApiError | None:
    match = _TOKEN.match(token)
    if match is None:
        return ApiError(404, "Not Found")
    if state.config.token is not None and token != state.config.token:
        return ApiError(401, "Unauthorized")
    state.bot_id = int(match.group(1))
    return None


async def handle_method(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    token_error = _check_token(state, request.match_info["token"])
    if token_error is not None:
        return _error(state, token_error)
    name = request.match_info["method"]
    state.stats.calls[name] += 1
    if state.faults.outage is not None:
        return _error(state, ApiError(502, state.faults.outage))
    handler = METHODS.get(name.lower())
    if handler is None:
        return _error(state, ApiError(404, "Not Found: method not found"))
    try:
        params = await Params.from_request(request)
        call = Call(state, request, name, params)
        fault = state.faults.take(name, params.chat_id_hint())
        if fault is not None:
            state.stats.faults_triggered += 1
            return await _apply_fault(call, handler, fault)
        result = await handler(call)
    except ApiError as error:
        return _error(state, error)
    except Exception as exc:
        log.exception("emulator failure in %s", name)
        return _error(state, ApiError(500, f"Internal Server Error: emulator failure: {exc!r}"))
    return _reply({"ok": True, "result": result})


async def _apply_fault(call: Call, handler: Handler, fault: Fault) -> web.StreamResponse:
    state = call.state
    if fault.kind == "retry_after":
        return _error(state, too_many_requests(fault.retry_after))
    if fault.kind == "error":
        return _error(state, ApiError(fault.status, fault.error_description))
    if fault.kind == "disconnect":
        transport = call.request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError
    if fault.deliver:
        try:
            result = await handler(call)
        except ApiError as error:
            await asyncio.sleep(fault.seconds)
            return _error(state, error)
        await asyncio.sleep(fault.seconds)
        return _reply({"ok": True, "result": result})
    await asyncio.sleep(fault.seconds)
    return _reply({"ok": True, "result": await handler(call)})


async def handle_file(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    token_error = _check_token(state, request.match_info["token"])
    if token_error is not None:
        return _error(state, token_error)
    stored = state.file_by_path(request.match_info["path"])
    if stored is None:
        return _error(state, ApiError(404, "Not Found"))
    return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")


# --------------------------------------------------------------------------- helpers


def _rate_limit(state: EmulatorState, chat: Chat) -> None:
    state.limiter.config = state.config.rate_limits
    limited = state.limiter.acquire(chat.id)
    if limited is not None:
        state.stats.rate_limited += 1
        state.stats.rate_limited_by_scope[limited.scope] += 1
        state.stats.chat(chat.id)["rate_limited"] += 1
        raise too_many_requests(limited.retry_after)


def _text(call: Call, text_field: str, entities_field: str, *, caption: bool) -> FormattedText:
    p = call.params
    entities = p.get_json(entities_field, "can't parse entities JSON object")
    return format_text(
        p.get_str(text_field),
        parse_mode=p.get_str("parse_mode"),
        entities=entities,
        strict_html=call.state.config.strict_html,
        caption=caption,
    )


def _reply_target(call: Call, chat: Chat) -> int | None:
    p = call.params
    parameters = p.get_json("reply_parameters", "can't parse reply parameters JSON object")
    allow_missing = p.get_bool("allow_sending_without_reply")
    message_id: int | None
    if isinstance(parameters, dict):
        message_id = parameters.get("message_id")
        allow_missing = bool(parameters.get("allow_sending_without_reply", allow_missing))
        other_chat = parameters.get("chat_id")
        if other_chat not in (None, chat.id, str(chat.id)):
            raise bad_request("replies to other chats are not supported by the emulator")
    else:
        message_id = p.get_int("reply_to_message_id")
    if message_id is None:
        return None
    target = call.state.get_message(chat.id, int(message_id))
    if target is None or target.deleted:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return target.message_id


def _edit_target(call: Call) -> StoredMessage:
    p = call.params
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = call.state.find_chat(p.chat_ref())
    message_id = p.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = call.state.get_message(chat.id, message_id)
    if message is None or message.deleted:
        raise bad_request(MESSAGE_TO_EDIT_NOT_FOUND)
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _upload(call: Call, field: str, kind: str) -> tuple[Upload | None, str | None, list[JSON] | JSON | None]:
    """Returns (new upload, URL, or an already stored photo list / document for a file_id)."""
    value = call.params.input_file(field)
    if value is None:
        raise bad_request(f"there is no {kind} in the request")
    if isinstance(value, Upload):
        if len(value.data) > MAX_UPLOAD:
            raise ApiError(413, "Request Entity Too Large")
        return value, None, None
    if value.startswith(("http://", "https://")):
        return None, value, None
    state = call.state
    if value in state.photo_groups:
        if kind != "photo":
            raise bad_request("can't use file of type Photo as Document")
        return None, None, state.photo_groups[value]
    if value in state.documents:
        if kind != "document":
            raise bad_request("can't use file of type Document as Photo")
        return None, None, state.documents[value]
    raise bad_request("wrong file identifier/HTTP URL specified")


# --------------------------------------------------------------------------- identity & updates


@method("getMe")
async def get_me(call: Call) -> JSON:
    return call.state.get_me()


@method("logOut")
async def log_out(call: Call) -> bool:
    return True


@method("close")
async def close(call: Call) -> bool:
    return True


class PollTicket:
    def __init__(self, request: web.Request) -> None:
        self.request = request

    @property
    def gone(self) -> bool:
        transport = self.request.transport
        return transport is None or transport.is_closing()


@method("getUpdates")
async def get_updates(call: Call) -> list[JSON]:
    state, p = call.state, call.params
    if state.webhook.get("url"):
        raise conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    offset = p.get_int("offset")
    limit = min(max(p.get_int("limit") or 100, 1), 100)
    timeout = min(max(p.get_int("timeout") or 0, 0), 50)
    allowed = p.get_json("allowed_updates", "can't parse allowed updates JSON object")
    active = state.active_poll
    if isinstance(active, PollTicket) and not active.gone:
        raise conflict(
            "terminated by other getUpdates request; make sure that only one bot instance is running"
        )
    ticket = PollTicket(call.request)
    state.active_poll = ticket
    try:
        if isinstance(allowed, list):
            state.allowed_updates = [a for a in allowed if a in UPDATE_TYPES] or None
        if offset is not None:
            state.confirm_updates(offset)
        if timeout:
            await state.updates_changed.wait_for(lambda: bool(state.available_updates(limit)), timeout)
        updates = state.available_updates(limit)
        state.stats.updates_delivered += len(updates)
        return updates
    finally:
        if state.active_poll is ticket:
            state.active_poll = None


@method("setWebhook")
async def set_webhook(call: Call) -> bool:
    state, p = call.state, call.params
    url = p.get_str("url") or ""
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if p.get_bool("drop_pending_updates"):
        state.pending_updates.clear()
    state.webhook = {
        "url": url,
        "max_connections": p.get_int("max_connections") or 40,
        "allowed_updates": p.get_json("allowed_updates"),
        "secret_token": p.get_str("secret_token"),
        "ip_address": p.get_str("ip_address"),
    }
    state.events.publish("webhook", None, url=url)
    state.updates_changed.notify()
    return True


@method("deleteWebhook")
async def delete_webhook(call: Call) -> bool:
    state = call.state
    if call.params.get_bool("drop_pending_updates"):
        state.pending_updates.clear()
    state.webhook = {"url": ""}
    state.events.publish("webhook", None, url="")
    return True


@method("getWebhookInfo")
async def get_webhook_info(call: Call) -> JSON:
    state = call.state
    info: JSON = {
        "url": state.webhook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": len(state.pending_updates),
    }
    if info["url"]:
        info["max_connections"] = state.webhook.get("max_connections", 40)
        if state.webhook.get("ip_address"):
            info["ip_address"] = state.webhook["ip_address"]
        if state.webhook.get("allowed_updates"):
            info["allowed_updates"] = state.webhook["allowed_updates"]
        if state.webhook.get("last_error_message"):  # set by emulator.webhook.WebhookPusher
            info["last_error_date"] = state.webhook["last_error_date"]
            info["last_error_message"] = state.webhook["last_error_message"]
    return info


# --------------------------------------------------------------------------- commands & profile


def _scope(call: Call) -> JSON | None:
    scope = call.params.get_json("scope", "can't parse BotCommandScope JSON object")
    if scope is not None and (not isinstance(scope, dict) or "type" not in scope):
        raise bad_request("can't parse BotCommandScope JSON object")
    if scope is not None and scope["type"] in ("chat", "chat_administrators", "chat_member"):
        call.state.find_chat(scope.get("chat_id", ""))
    return scope


def _language(call: Call) -> str | None:
    code = call.params.get_str("language_code")
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise bad_request("invalid language code specified")
    return code or None


@method("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    raw = call.params.get_json("commands", "can't parse commands JSON object")
    if not isinstance(raw, list):
        raise bad_request("can't parse commands JSON object")
    if len(raw) > 100:
        raise bad_request("too many commands specified")
    commands: list[JSON] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).strip().lstrip("/")
        description = str(item.get("description", "")).strip()
        if not re.fullmatch(r"[a-z0-9_]{1,32}", command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request(
                "command description is empty" if not description else "BOT_COMMAND_DESCRIPTION_INVALID"
            )
        commands.append({"command": command, "description": description})
    call.state.set_commands(commands, _scope(call), _language(call))
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> list[JSON]:
    return call.state.get_commands(_scope(call), _language(call))


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    call.state.delete_commands(_scope(call), _language(call))
    return True


def _profile_setting(field: str, limit: int) -> tuple[Handler, Handler]:
    async def setter(call: Call) -> bool:
        value = call.params.get_str(field) or ""
        if len(value) > limit:
            raise bad_request(f"{field.replace('_', ' ')} is too long")
        call.state.bot_settings[f"{field}:{_language(call) or ''}"] = value
        return True

    async def getter(call: Call) -> JSON:
        return {field: call.state.bot_settings.get(f"{field}:{_language(call) or ''}", "")}

    return setter, getter


for _field, _limit, _set_name, _get_name in (
    ("description", 512, "setMyDescription", "getMyDescription"),
    ("short_description", 120, "setMyShortDescription", "getMyShortDescription"),
    ("name", 64, "setMyName", "getMyName"),
):
    _setter, _getter = _profile_setting(_field, _limit)
    method(_set_name)(_setter)
    method(_get_name)(_getter)


@method("setChatMenuButton")
async def set_chat_menu_button(call: Call) -> bool:
    button = call.params.get_json("menu_button") or {"type": "default"}
    call.state.bot_settings[f"menu:{call.params.get_str('chat_id') or ''}"] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(call: Call) -> JSON:
    key = f"menu:{call.params.get_str('chat_id') or ''}"
    return call.state.bot_settings.get(key, {"type": "commands"})


# --------------------------------------------------------------------------- sending


@method("sendMessage")
async def send_message(call: Call) -> JSON:
    state, p = call.state, call.params
    chat = state.chat_for_send(p.chat_ref())
    text = _text(call, "text", "entities", caption=False)
    markup = validate_reply_markup(p.raw("reply_markup"))
    reply_to = _reply_target(call, chat)
    _rate_limit(state, chat)
    message = state.send_bot_message(
        chat,
        text=text,
        reply_markup=markup,
        reply_to_message_id=reply_to,
        protect_content=p.get_bool("protect_content"),
    )
    return state.message_api(message)


@method("sendPhoto")
async def send_photo(call: Call) -> JSON:
    state, p = call.state, call.params
    chat = state.chat_for_send(p.chat_ref())
    upload, url, existing = _upload(call, "photo", "photo")
    caption = _text(call, "caption", "caption_entities", caption=True)
    markup = validate_reply_markup(p.raw("reply_markup"))
    reply_to = _reply_target(call, chat)
    if upload is not None:
        sizes = state.store_photo(upload.data)
    elif url is not None:
        sizes = state.store_photo(b"", source_url=url)
    else:
        assert isinstance(existing, list)
        sizes = existing
    _rate_limit(state, chat)
    message = state.send_bot_message(
        chat,
        caption=caption,
        photo=sizes,
        reply_markup=markup,
        reply_to_message_id=reply_to,
        protect_content=p.get_bool("protect_content"),
    )
    return state.message_api(message)


@method("sendDocument")
async def send_document(call: Call) -> JSON:
    state, p = call.state, call.params
    chat = state.chat_for_send(p.chat_ref())
    upload, url, existing = _upload(call, "document", "document")
    caption = _text(call, "caption", "caption_entities", caption=True)
    markup = validate_reply_markup(p.raw("reply_markup"))
    reply_to = _reply_target(call, chat)
    if upload is not None:
        document = state.store_document(upload.data, upload.filename, upload.content_type)
    elif url is not None:
        document = state.store_document(b"", url.rsplit("/", 1)[-1] or "file", None)
    else:
        assert isinstance(existing, dict)
        document = existing
    _rate_limit(state, chat)
    message = state.send_bot_message(
        chat,
        caption=caption,
        document=document,
        reply_markup=markup,
        reply_to_message_id=reply_to,
        protect_content=p.get_bool("protect_content"),
    )
    return state.message_api(message)


@method("sendChatAction")
async def send_chat_action(call: Call) -> bool:
    state, p = call.state, call.params
    chat = state.chat_for_send(p.chat_ref())
    action = p.get_str("action") or ""
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    state.record_chat_action(chat, action)
    return True


@method("getFile")
async def get_file(call: Call) -> JSON:
    file_id = call.params.get_str("file_id") or ""
    stored = call.state.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


# --------------------------------------------------------------------------- editing


@method("editMessageText")
async def edit_message_text(call: Call) -> JSON:
    state = call.state
    message = _edit_target(call)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text = _text(call, "text", "entities", caption=False)
    markup = validate_inline_markup(call.params.raw("reply_markup"))
    if (
        text.text == message.text
        and entities_key(text.entities) == entities_key(message.entities)
        and markup_key(markup) == markup_key(message.reply_markup)
    ):
        raise bad_request(MESSAGE_NOT_MODIFIED)
    state.edit_message(message, text=text, reply_markup=markup)
    return state.message_api(message)


@method("editMessageCaption")
async def edit_message_caption(call: Call) -> JSON:
    state = call.state
    message = _edit_target(call)
    if not message.has_media:
        raise bad_request("there is no caption in the message to edit")
    caption = _text(call, "caption", "caption_entities", caption=True)
    markup = validate_inline_markup(call.params.raw("reply_markup"))
    if (
        caption.text == (message.caption or "")
        and entities_key(caption.entities) == entities_key(message.caption_entities)
        and markup_key(markup) == markup_key(message.reply_markup)
    ):
        raise bad_request(MESSAGE_NOT_MODIFIED)
    state.edit_message(message, caption=caption, reply_markup=markup)
    return state.message_api(message)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> JSON:
    state = call.state
    message = _edit_target(call)
    markup = validate_inline_markup(call.params.raw("reply_markup"))
    if markup_key(markup) == markup_key(message.reply_markup):
        raise bad_request(MESSAGE_NOT_MODIFIED)
    state.edit_message(message, reply_markup=markup)
    return state.message_api(message)


def _deletable(state: EmulatorState, chat: Chat, message: StoredMessage | None) -> StoredMessage:
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    if chat.is_group and not message.from_bot and chat.bot_status != "administrator":
        raise bad_request("message can't be deleted")
    return message


@method("deleteMessage")
async def delete_message(call: Call) -> bool:
    state, p = call.state, call.params
    chat = state.find_chat(p.chat_ref())
    message_id = p.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = _deletable(state, chat, state.get_message(chat.id, message_id))
    state.delete_message(message)
    return True


@method("deleteMessages")
async def delete_messages(call: Call) -> bool:
    state, p = call.state, call.params
    chat = state.find_chat(p.chat_ref())
    ids = p.get_json("message_ids", "can't parse message identifiers JSON object")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message identifiers are not specified")
    found = False
    for message_id in ids:
        message = state.get_message(chat.id, int(message_id))
        if message is not None and not message.deleted:
            if chat.is_group and not message.from_bot and chat.bot_status != "administrator":
                continue
            state.delete_message(message)
            found = True
    if not found:
        raise bad_request("message to delete not found")
    return True


@method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    p = call.params
    call.state.answer_callback(
        p.get_str("callback_query_id") or "",
        text=p.get_str("text"),
        show_alert=p.get_bool("show_alert"),
        url=p.get_str("url"),
        cache_time=p.get_int("cache_time"),
    )
    return True


@method("pinChatMessage")
async def pin_chat_message(call: Call) -> bool:
    state, p = call.state, call.params
    chat = state.find_chat(p.chat_ref())
    if chat.is_group and chat.bot_status != "administrator":
        raise bad_request("not enough rights to manage pinned messages in the chat")
    message_id = p.get_int("message_id")
    message = state.get_message(chat.id, message_id or 0)
    if message is None or message.deleted:
        raise bad_request("message to pin not found")
    state.pin_message(chat, message.message_id)
    return True


@method("unpinChatMessage")
async def unpin_chat_message(call: Call) -> bool:
    state, p = call.state, call.params
    chat = state.find_chat(p.chat_ref())
    if chat.is_group and chat.bot_status != "administrator":
        raise bad_request("not enough rights to manage pinned messages in the chat")
    state.pin_message(chat, None)
    return True


# --------------------------------------------------------------------------- chats


@method("getChat")
async def get_chat(call: Call) -> JSON:
    state = call.state
    return state.chat_full_info(state.find_chat(call.params.chat_ref()))


@method("getChatMember")
async def get_chat_member(call: Call) -> JSON:
    state, p = call.state, call.params
    chat = state.find_chat(p.chat_ref())
    user_id = p.get_int("user_id")
    if user_id is None:
        raise bad_request("user_id is empty")
    return state.member_of(chat, user_id)


@method("getChatAdministrators")
async def get_chat_administrators(call: Call) -> list[JSON]:
    state = call.state
    chat = state.find_chat(call.params.chat_ref())
    if not chat.is_group:
        raise bad_request("there are no administrators in the private chat")
    return state.administrators(chat)


@method("getChatMemberCount")
async def get_chat_member_count(call: Call) -> int:
    state = call.state
    chat = state.find_chat(call.params.chat_ref())
    if not chat.is_group:
        return 2
    return len(chat.members) + (1 if chat.bot_status in ("member", "administrator") else 0)


@method("leaveChat")
async def leave_chat(call: Call) -> bool:
    state = call.state
    chat = state.find_chat(call.params.chat_ref())
    if not chat.is_group:
        raise bad_request("chat member status can't be changed in private chats")
    state.set_bot_status(chat.id, "left", by_bot=True)
    return True


def setup_routes(app: web.Application) -> None:
    app.router.add_route("*", r"/bot{token}/{method}", handle_method)
    app.router.add_get(r"/file/bot{token}/{path:.+}", handle_file)
