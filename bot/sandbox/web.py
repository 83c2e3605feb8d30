"""The sandbox's own web app: the chat page (static files) and the small JSON API it calls.

Everything a persona does goes through the emulator's control API, which applies Telegram's
rules; the emulator's answers (and refusals) are passed back to the page unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot.ops.door_display import DoorDisplays
from bot.sandbox.common import JSON, SandboxError
from bot.sandbox.runtime import Sandbox
from emulator.client import EmulatorError

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)
HTTP_KEY: web.AppKey[aiohttp.ClientSession] = web.AppKey("sandbox_http", aiohttp.ClientSession)
CLOSING_KEY: web.AppKey[asyncio.Event] = web.AppKey("sandbox_closing", asyncio.Event)
MAX_UPLOAD = 20 * 1024 * 1024
HISTORY_LIMIT = 300
_CLOSE = {"type": "_close"}


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"ok": False, "code": code, "error": message}, status=status)


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Refusals become ``{"ok": false, "code", "error"}`` with the emulator's own wording."""
    try:
        return await handler(request)
    except SandboxError as exc:
        return _error(exc.status, exc.code, exc.message)
    except EmulatorError as exc:
        status = exc.status if 400 <= exc.status < 500 else 502
        return _error(status, "emulator", exc.message)
    except (aiohttp.ClientError, ConnectionError) as exc:
        return _error(502, "emulator_unreachable", str(exc) or "the emulator did not answer")


async def _body(request: web.Request) -> JSON:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise SandboxError(400, "bad_request", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise SandboxError(400, "bad_request", "the body must be a JSON object")
    return body


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise SandboxError(400, "bad_request", f"{name} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SandboxError(400, "bad_request", f"{name} must be an integer") from None


def _chat_id(request: web.Request) -> int:
    return _int(request.match_info["chat_id"], "chat_id")


# ---- page ---------------------------------------------------------------------------------------------
async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def _script_type(request: web.Request, response: web.StreamResponse) -> None:
    """The page's script is native ES modules, which a browser refuses unless they come with a
    JavaScript type. aiohttp takes the type from Python's table (application/javascript, a legacy
    alias, on 3.11), so the standard one, text/javascript (RFC 9239), is set here whatever the
    Python version or the system's mime.types say."""
    if request.path.startswith("/static/") and request.path.endswith(".js"):
        response.content_type = "text/javascript"
        response.charset = "utf-8"


# ---- site, personas, chats ---------------------------------------------------------------------------
async def info(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    site = sandbox.site
    bot = await sandbox.client().bot_info()
    return web.json_response(
        {
            "site": {"name": site.site.name.model_dump(), "zone": site.site.timezone},
            "bot": {
                "id": bot.get("id"),
                "username": bot.get("username"),
                "first_name": bot.get("first_name"),
            },
            "generation": sandbox.generation,
            "clock": sandbox.clock_state(),
        }
    )


async def personas(request: web.Request) -> web.Response:
    return web.json_response({"personas": [p.to_json() for p in _sandbox(request).personas()]})


async def persona_chats(request: web.Request) -> web.Response:
    user_id = _int(request.match_info["user_id"], "user_id")
    return web.json_response({"chats": await _sandbox(request).chats_of(user_id)})


async def history(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    chat_id = _chat_id(request)
    user_id = _int(request.query.get("user_id"), "user_id")
    await sandbox.chat_of(user_id, chat_id)
    page = await sandbox.client().history(chat_id, include_deleted=False)
    messages = [sandbox.stamp(m) for m in page["messages"]][-HISTORY_LIMIT:]
    return web.json_response({"seq": page["seq"], "messages": messages})


async def send(request: web.Request) -> web.Response:
    """The persona writes: text, or a photo/document (base64) with an optional caption."""
    sandbox = _sandbox(request)
    chat_id = _chat_id(request)
    body = await _body(request)
    user_id = _int(body.get("user_id"), "user_id")
    await sandbox.chat_of(user_id, chat_id)
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        raise SandboxError(400, "bad_request", "text must be a string")
    reply_to = body.get("reply_to_message_id")
    extra: JSON = {}
    for name in ("photo", "document"):
        if body.get(name) is not None:
            try:
                extra[name] = _b64decode(body[name])
            except ValueError:
                raise SandboxError(400, "bad_request", f"{name} must be base64 text") from None
    if "document" in extra:
        extra["file_name"] = str(body.get("file_name") or "file")
        extra["mime_type"] = body.get("mime_type") or None
    if extra:
        extra["caption"] = str(body.get("caption") or "") or None
    result = await sandbox.client().send_message(
        user_id,
        text,
        chat_id=chat_id,
        reply_to_message_id=_int(reply_to, "reply_to_message_id") if reply_to is not None else None,
        **extra,
    )
    if isinstance(result.get("message"), dict):
        sandbox.stamp_event({"type": "message", "message": result["message"]})
    return web.json_response({"ok": True, **result})


async def press(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    chat_id = _chat_id(request)
    body = await _body(request)
    user_id = _int(body.get("user_id"), "user_id")
    await sandbox.chat_of(user_id, chat_id)
    data = body.get("data")
    if not isinstance(data, str):
        raise SandboxError(400, "bad_request", "data must be the button's callback_data")
    record = await sandbox.client().click_button(
        user_id, chat_id, _int(body.get("message_id"), "message_id"), data
    )
    return web.json_response({"ok": True, **record})


async def commands(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    user_id = _int(request.query.get("user_id"), "user_id")
    return web.json_response({"commands": await sandbox.commands_for(user_id, _chat_id(request))})


async def file(request: web.Request) -> web.StreamResponse:
    """A photo or document the bot (or a persona) sent, fetched from the emulator."""
    sandbox = _sandbox(request)
    file_id = request.match_info["file_id"]
    emulator = sandbox.client()
    async with request.app[HTTP_KEY].get(f"{emulator.base_url}/_emu/files/{quote(file_id)}") as upstream:
        if upstream.status != 200:
            return _error(404, "file_not_found", "file not found")
        data = await upstream.read()
        content_type = upstream.headers.get("Content-Type", "application/octet-stream").split(";")[0]
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    name = request.query.get("name")
    if request.query.get("download") or not content_type.startswith("image/"):
        filename = name or "file"
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return web.Response(body=data, content_type=content_type, headers=headers)


# ---- rooms and their door displays ---------------------------------------------------------------------
async def rooms(request: web.Request) -> web.Response:
    return web.json_response({"rooms": _sandbox(request).rooms()})


def _displays(request: web.Request) -> DoorDisplays:
    displays = _sandbox(request).displays
    if displays is None:
        raise SandboxError(503, "not_running", "the sandbox is not running")
    return displays


async def door_display(request: web.Request) -> web.StreamResponse:
    """The screen at a room's door, as the bot's HTTP listener serves it (same code, same
    token check), read by the sandbox's clock; the page polls ``display.json`` beside it."""
    return await _displays(request).page(request)


async def door_display_state(request: web.Request) -> web.StreamResponse:
    return await _displays(request).state(request)


# ---- clock and reset ---------------------------------------------------------------------------------
async def get_clock(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    upcoming = await sandbox.next_task_in_a_later_minute()  # where "Next task" would go
    return web.json_response(
        {**sandbox.clock_state(), "next_task_at": upcoming.isoformat() if upcoming else None}
    )


async def move_clock(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    body = await _body(request)
    action = str(body.get("action") or "")
    minutes = body.get("minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, (int, float))):
        raise SandboxError(400, "bad_minutes", "minutes must be a number")
    moved = await sandbox.move_clock(action, minutes)
    upcoming = await sandbox.next_task_in_a_later_minute()
    return web.json_response(
        {"ok": True, **moved, "next_task_at": upcoming.isoformat() if upcoming else None}
    )


async def reset(request: web.Request) -> web.Response:
    return web.json_response(await _sandbox(request).reset())


# ---- live events -------------------------------------------------------------------------------------
async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the emulator's (messages, edits, deletions, callback answers, chat
    actions) and the sandbox's own (``sandbox_clock``, ``sandbox_reset``)."""
    sandbox = _sandbox(request)
    closing = request.app[CLOSING_KEY]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    queue = sandbox.hub.subscribe()
    try:
        await response.write(b"retry: 1000\n: connected\n\n")
        while not closing.is_set():
            try:
                event = await asyncio.wait_for(queue.get(), 15.0)
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            if event is _CLOSE:
                break
            if event.get("type") == "update":  # the bot's inbox: nothing the page shows
                continue
            data = json.dumps(event, ensure_ascii=False)
            await response.write(f"data: {data}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        sandbox.hub.unsubscribe(queue)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await response.write_eof()
    return response


def _b64decode(value: Any) -> bytes:
    import base64
    import binascii

    if not isinstance(value, str):
        raise ValueError("not text")
    if "," in value and value.startswith("data:"):
        value = value.split(",", 1)[1]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc


# ---- the application ---------------------------------------------------------------------------------
def build_web_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(middlewares=[_errors], client_max_size=MAX_UPLOAD * 2)
    app[SANDBOX_KEY] = sandbox
    app[CLOSING_KEY] = asyncio.Event()

    async def open_http(app: web.Application) -> Any:
        app[HTTP_KEY] = aiohttp.ClientSession()
        yield
        await app[HTTP_KEY].close()

    async def end_streams(app: web.Application) -> None:
        app[CLOSING_KEY].set()
        sandbox.hub.publish(_CLOSE)

    app.cleanup_ctx.append(open_http)
    app.on_shutdown.append(end_streams)
    app.on_response_prepare.append(_script_type)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    app.router.add_get("/api/info", info)
    app.router.add_get("/api/personas", personas)
    app.router.add_get("/api/personas/{user_id}/chats", persona_chats)
    app.router.add_get("/api/chats/{chat_id}/messages", history)
    app.router.add_post("/api/chats/{chat_id}/messages", send)
    app.router.add_post("/api/chats/{chat_id}/press", press)
    app.router.add_get("/api/chats/{chat_id}/commands", commands)
    app.router.add_get("/api/files/{file_id}", file)
    app.router.add_get("/api/rooms", rooms)
    app.router.add_get("/rooms/{room_id}/display", door_display)
    app.router.add_get("/rooms/{room_id}/display.json", door_display_state)
    app.router.add_get("/api/clock", get_clock)
    app.router.add_post("/api/clock", move_clock)
    app.router.add_post("/api/reset", reset)
    app.router.add_get("/api/events", events)
    return app
