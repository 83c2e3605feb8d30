"""The test control API under ``/_emu/``: set up users and chats, act as users, inspect."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .bot_api import STATE_KEY
from .errors import ApiError, ControlError
from .models import JSON
from .state import EmulatorState

log = logging.getLogger("emulator")
PREFIX = "/_emu"
MAX_WAIT = 120.0
routes = web.RouteTableDef()


def _state(request: web.Request) -> EmulatorState:
    return request.app[STATE_KEY]


async def _body(request: web.Request) -> JSON:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise ControlError(400, "the body must be a JSON object") from exc
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ControlError(400, f"{name} must be an integer") from exc


def _opt_int(value: Any, name: str) -> int | None:
    return None if value is None or value == "" else _int(value, name)


def _path_int(request: web.Request, name: str) -> int:
    return _int(request.match_info[name], name)


def _wait(request: web.Request) -> float:
    raw = request.query.get("wait")
    if raw in (None, ""):
        return 0.0
    try:
        return min(max(float(raw), 0.0), MAX_WAIT)
    except ValueError as exc:
        raise ControlError(400, "wait must be a number of seconds") from exc


def _bytes(value: Any, name: str) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ControlError(400, f"{name} must be base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ControlError(400, f"{name} must be base64 text") from exc


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes", "on")


# --------------------------------------------------------------------------- service


@routes.get(PREFIX + "/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "seq": _state(request).events.seq})


@routes.get(PREFIX + "/config")
async def get_config(request: web.Request) -> web.Response:
    state = _state(request)
    return web.json_response({**state.config.to_dict(), "bot_id": state.bot_id})


@routes.route("PATCH", PREFIX + "/config")
@routes.post(PREFIX + "/config")
async def set_config(request: web.Request) -> web.Response:
    state = _state(request)
    try:
        state.config.update(await _body(request))
    except ValueError as exc:
        raise ControlError(400, str(exc)) from exc
    state.events.publish("config", None)
    return web.json_response({**state.config.to_dict(), "bot_id": state.bot_id})


@routes.post(PREFIX + "/reset")
async def reset(request: web.Request) -> web.Response:
    state = _state(request)
    state.reset()
    return web.json_response({"ok": True, "seq": state.events.seq})


@routes.get(PREFIX + "/bot")
async def bot_info(request: web.Request) -> web.Response:
    state = _state(request)
    return web.json_response({**state.get_me(), "settings": state.bot_settings})


# --------------------------------------------------------------------------- users


@routes.get(PREFIX + "/users")
async def list_users(request: web.Request) -> web.Response:
    users = [u.to_record() for u in _state(request).users.values()]
    return web.json_response({"users": users})


@routes.post(PREFIX + "/users")
async def upsert_user(request: web.Request) -> web.Response:
    body = await _body(request)
    user = _state(request).upsert_user(
        _int(body.get("id"), "id"),
        body.get("first_name"),
        last_name=body.get("last_name"),
        username=body.get("username"),
        language_code=body.get("language_code"),
        is_premium=body.get("is_premium"),
        started=body.get("started"),
    )
    return web.json_response(user.to_record())


@routes.get(PREFIX + "/users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    return web.json_response(_state(request).user(_path_int(request, "user_id")).to_record())


@routes.post(PREFIX + "/users/{user_id}/block")
async def block_user(request: web.Request) -> web.Response:
    body = await _body(request)
    user = _state(request).set_blocked(_path_int(request, "user_id"), _bool(body.get("blocked"), True))
    return web.json_response(user.to_record())


@routes.post(PREFIX + "/users/{user_id}/deactivate")
async def deactivate_user(request: web.Request) -> web.Response:
    body = await _body(request)
    user = _state(request).set_deactivated(
        _path_int(request, "user_id"), _bool(body.get("deactivated"), True)
    )
    return web.json_response(user.to_record())


# --------------------------------------------------------------------------- chats


@routes.get(PREFIX + "/chats")
async def list_chats(request: web.Request) -> web.Response:
    state = _state(request)
    return web.json_response({"chats": [state.chat_record(c) for c in state.chats.values()]})


@routes.post(PREFIX + "/chats")
async def create_chat(request: web.Request) -> web.Response:
    body = await _body(request)
    state = _state(request)
    chat = state.create_group(
        _int(body.get("id"), "id"),
        str(body.get("title") or "Group"),
        chat_type=body.get("type", "group"),
        username=body.get("username"),
        members=[_int(m, "members") for m in body.get("members") or []],
        admins=[_int(m, "admins") for m in body.get("admins") or []],
        owner_id=_opt_int(body.get("owner_id"), "owner_id"),
        bot_status=body.get("bot_status", "member"),
        announce=_bool(body.get("announce"), False),
    )
    return web.json_response(state.chat_record(chat))


@routes.get(PREFIX + "/chats/{chat_id}")
async def get_chat(request: web.Request) -> web.Response:
    state = _state(request)
    return web.json_response(state.chat_record(state.chat(_path_int(request, "chat_id"))))


@routes.post(PREFIX + "/chats/{chat_id}/bot")
async def set_bot_status(request: web.Request) -> web.Response:
    body = await _body(request)
    state = _state(request)
    chat = state.set_bot_status(
        _path_int(request, "chat_id"),
        body.get("status", "member"),
        by_user_id=_opt_int(body.get("by_user_id"), "by_user_id"),
    )
    return web.json_response(state.chat_record(chat))


@routes.post(PREFIX + "/chats/{chat_id}/members")
async def add_member(request: web.Request) -> web.Response:
    body = await _body(request)
    state = _state(request)
    chat = state.set_member(
        _path_int(request, "chat_id"),
        _int(body.get("user_id"), "user_id"),
        body.get("status", "member"),
    )
    return web.json_response(state.chat_record(chat))


@routes.delete(PREFIX + "/chats/{chat_id}/members/{user_id}")
async def remove_member(request: web.Request) -> web.Response:
    state = _state(request)
    chat = state.set_member(_path_int(request, "chat_id"), _path_int(request, "user_id"), None)
    return web.json_response(state.chat_record(chat))


# --------------------------------------------------------------------------- messages


@routes.post(PREFIX + "/chats/{chat_id}/messages")
async def inject_message(request: web.Request) -> web.Response:
    body = await _body(request)
    state = _state(request)
    chat_id = _path_int(request, "chat_id")
    message = state.inject_message(
        chat_id,
        _int(body.get("user_id", chat_id), "user_id"),
        text=body.get("text"),
        entities=body.get("entities"),
        reply_to_message_id=_opt_int(body.get("reply_to_message_id"), "reply_to_message_id"),
        photo=_bytes(body.get("photo"), "photo"),
        caption=body.get("caption"),
        document=_bytes(body.get("document"), "document"),
        file_name=body.get("file_name"),
        mime_type=body.get("mime_type"),
    )
    return web.json_response(
        {
            "message_id": message.message_id,
            "update_id": message.update_id,
            "delivered": message.update_id is not None,
            "message": state.message_record(message),
        }
    )


@routes.get(PREFIX + "/chats/{chat_id}/messages")
async def history(request: web.Request) -> web.Response:
    state = _state(request)
    chat_id = _path_int(request, "chat_id")
    state.chat(chat_id)
    query = request.query
    since = _int(query.get("since", 0), "since")
    sender = query.get("sender")
    if sender not in (None, "", "any", "bot", "user"):
        raise ControlError(400, "sender must be bot, user or any")
    include_deleted = _bool(query.get("include_deleted"), True)

    def select() -> list[JSON]:
        return [
            state.message_record(m)
            for m in state.chat_messages(chat_id)
            if m.seq > since
            and (include_deleted or not m.deleted)
            and (sender in (None, "", "any") or (sender == "bot") == m.from_bot)
        ]

    wait = _wait(request)
    if wait:
        await state.events.changed.wait_for(lambda: bool(select()), wait)
    return web.json_response({"seq": state.events.seq, "messages": select()})


@routes.get(PREFIX + "/chats/{chat_id}/messages/{message_id}")
async def get_message(request: web.Request) -> web.Response:
    state = _state(request)
    message = state.get_message(_path_int(request, "chat_id"), _path_int(request, "message_id"))
    if message is None:
        raise ControlError(404, "message not found")
    return web.json_response(state.message_record(message))


@routes.post(PREFIX + "/chats/{chat_id}/messages/{message_id}/edit")
async def edit_user_message(request: web.Request) -> web.Response:
    body = await _body(request)
    state = _state(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ControlError(400, "text is required")
    message = state.edit_user_message(
        _path_int(request, "chat_id"),
        _path_int(request, "message_id"),
        text,
        body.get("entities"),
    )
    return web.json_response(state.message_record(message))


# --------------------------------------------------------------------------- callbacks


@routes.post(PREFIX + "/callbacks")
async def press(request: web.Request) -> web.Response:
    body = await _body(request)
    state = _state(request)
    user_id = _int(body.get("user_id"), "user_id")
    chat_id = _int(body.get("chat_id", user_id), "chat_id")
    if body.get("message_id") is not None:
        data = body.get("data")
        if not isinstance(data, str):
            raise ControlError(400, "data is required when pressing by message_id")
        record = state.press_button(
            user_id,
            chat_id,
            _int(body["message_id"], "message_id"),
            data,
            forge=_bool(body.get("forge"), False),
        )
        result = {"kind": "callback_query", **record.to_record()}
    elif isinstance(body.get("text"), str):
        result = state.press_button_by_text(
            user_id, chat_id, body["text"], exact=_bool(body.get("exact"), False)
        )
    else:
        raise ControlError(400, "give message_id and data, or the button text")
    if result.get("kind") == "callback_query":
        result["callback_query_id"] = result["id"]
    return web.json_response(result)


@routes.get(PREFIX + "/callbacks/{query_id}")
async def callback_answer(request: web.Request) -> web.Response:
    state = _state(request)
    query_id = request.match_info["query_id"]
    if query_id not in state.callbacks:
        raise ControlError(404, "callback query not found")
    wait = _wait(request)
    if wait:
        await state.events.changed.wait_for(lambda: state.callbacks[query_id].answered, wait)
    return web.json_response(state.callbacks[query_id].to_record())


# --------------------------------------------------------------------------- inspection


@routes.get(PREFIX + "/updates")
async def pending_updates(request: web.Request) -> web.Response:
    state = _state(request)
    return web.json_response({"updates": state.pending_updates, "allowed_updates": state.allowed_updates})


@routes.get(PREFIX + "/stats")
async def stats(request: web.Request) -> web.Response:
    return web.json_response(_state(request).stats.to_dict())


@routes.get(PREFIX + "/commands")
async def commands(request: web.Request) -> web.Response:
    return web.json_response({"commands": _state(request).commands_record()})


@routes.get(PREFIX + "/webhook")
async def webhook(request: web.Request) -> web.Response:
    return web.json_response(_state(request).webhook)


@routes.get(PREFIX + "/files/{file_id}")
async def file_bytes(request: web.Request) -> web.Response:
    stored = _state(request).files.get(request.match_info["file_id"])
    if stored is None:
        raise ControlError(404, "file not found")
    return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")


# --------------------------------------------------------------------------- faults


@routes.get(PREFIX + "/faults")
async def list_faults(request: web.Request) -> web.Response:
    faults = _state(request).faults
    return web.json_response({"faults": [f.to_dict() for f in faults.list()], "outage": faults.outage})


@routes.post(PREFIX + "/faults")
async def add_fault(request: web.Request) -> web.Response:
    body = await _body(request)
    try:
        fault = _state(request).faults.add(
            str(body.get("kind", "")),
            method=body.get("method"),
            chat_id=_opt_int(body.get("chat_id"), "chat_id"),
            count=_int(body.get("count", 1), "count"),
            retry_after=_int(body.get("retry_after", 1), "retry_after"),
            status=_opt_int(body.get("status"), "status"),
            description=body.get("description"),
            seconds=float(body.get("seconds", 0) or 0),
            deliver=_bool(body.get("deliver"), False),
        )
    except ValueError as exc:
        raise ControlError(400, str(exc)) from exc
    return web.json_response(fault.to_dict())


@routes.delete(PREFIX + "/faults")
async def clear_faults(request: web.Request) -> web.Response:
    _state(request).faults.clear()
    return web.json_response({"ok": True})


@routes.delete(PREFIX + "/faults/{fault_id}")
async def remove_fault(request: web.Request) -> web.Response:
    removed = _state(request).faults.remove(_path_int(request, "fault_id"))
    if not removed:
        raise ControlError(404, "fault not found")
    return web.json_response({"ok": True})


@routes.post(PREFIX + "/outage")
async def outage(request: web.Request) -> web.Response:
    body = await _body(request)
    faults = _state(request).faults
    enabled = _bool(body.get("enabled"), True)
    faults.outage = str(body.get("description") or "Bad Gateway") if enabled else None
    return web.json_response({"outage": faults.outage})


# --------------------------------------------------------------------------- event stream


def _sse(event: JSON) -> bytes:
    data = json.dumps(event, ensure_ascii=False)
    return f"id: {event['seq']}\nevent: {event['type']}\ndata: {data}\n\n".encode()


@routes.get(PREFIX + "/events")
async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: every change (message, edit, delete, callback answer...)."""
    state = _state(request)
    chat_id = _opt_int(request.query.get("chat_id"), "chat_id")
    since_raw = request.query.get("since") or request.headers.get("Last-Event-ID")
    since = _opt_int(since_raw, "since")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "Access-Control-Allow-Origin": "*",
        }
    )
    await response.prepare(request)
    queue = state.events.subscribe()
    last = state.events.seq if since is None else since
    try:
        await response.write(b": connected\n\n")
        if since is not None:
            for event in state.events.since(since, chat_id):
                await response.write(_sse(event))
                last = event["seq"]
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), 15.0)
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            if event["seq"] <= last:
                continue
            last = event["seq"]
            if chat_id is not None and event["chat_id"] not in (chat_id, None):
                continue
            await response.write(_sse(event))
    except ConnectionResetError:
        pass
    finally:
        state.events.unsubscribe(queue)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await response.write_eof()
    return response


# --------------------------------------------------------------------------- middleware


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def control_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(PREFIX + "/"):
        return await handler(request)
    if request.method == "OPTIONS":
        response: web.StreamResponse = web.Response(status=204)
    else:
        try:
            response = await handler(request)
        except ControlError as error:
            response = web.json_response({"ok": False, "error": error.message}, status=error.status)
        except ApiError as error:
            response = web.json_response({"ok": False, "error": error.description}, status=error.code)
        except web.HTTPException:
            raise
        except Exception as exc:
            log.exception("emulator control failure on %s", request.path)
            response = web.json_response({"ok": False, "error": f"emulator failure: {exc!r}"}, status=500)
    if not response.prepared:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Last-Event-ID"
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
