"""Messages: sending (text, photo, document, chat action), editing, deleting and pinning,
with the formatting, reply and rate-limit rules Telegram applies to each."""

from __future__ import annotations

from ..errors import MESSAGE_NOT_MODIFIED, MESSAGE_TO_EDIT_NOT_FOUND, bad_request, too_many_requests
from ..models import JSON, Chat, StoredMessage
from ..state import EmulatorState
from ..validation import (
    FormattedText,
    entities_key,
    format_text,
    markup_key,
    validate_inline_markup,
    validate_reply_markup,
)
from .call import Call, method
from .files import resolve_upload

_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip


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
    upload, url, existing = resolve_upload(call, "photo", "photo")
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
    upload, url, existing = resolve_upload(call, "document", "document")
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
