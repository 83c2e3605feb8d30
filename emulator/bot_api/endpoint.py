"""The Bot API's HTTP side: ``POST /bot<token>/<method>`` dispatched to the registered
methods, with the faults a test scheduled applied on the way, and ``GET /file/bot<token>/<path>``."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ..errors import ApiError, too_many_requests
from ..faults import Fault
from ..params import Params

# the topic modules register their methods when imported: all of them, before the first call
from . import chats, files, messages, profile, updates  # noqa: F401
from .call import METHODS, STATE_KEY, Call, Handler, check_token, error_reply, reply

log = logging.getLogger("emulator")


async def handle_method(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    token_error = check_token(state, request.match_info["token"])
    if token_error is not None:
        return error_reply(state, token_error)
    name = request.match_info["method"]
    state.stats.calls[name] += 1
    if state.faults.outage is not None:
        return error_reply(state, ApiError(502, state.faults.outage))
    handler = METHODS.get(name.lower())
    if handler is None:
        return error_reply(state, ApiError(404, "Not Found: method not found"))
    try:
        params = await Params.from_request(request)
        call = Call(state, request, name, params)
        fault = state.faults.take(name, params.chat_id_hint())
        if fault is not None:
            state.stats.faults_triggered += 1
            return await _apply_fault(call, handler, fault)
        result = await handler(call)
    except ApiError as error:
        return error_reply(state, error)
    except Exception as exc:
        log.exception("emulator failure in %s", name)
        return error_reply(state, ApiError(500, f"Internal Server Error: emulator failure: {exc!r}"))
    return reply({"ok": True, "result": result})


async def _apply_fault(call: Call, handler: Handler, fault: Fault) -> web.StreamResponse:
    state = call.state
    if fault.kind == "retry_after":
        return error_reply(state, too_many_requests(fault.retry_after))
    if fault.kind == "error":
        return error_reply(state, ApiError(fault.status, fault.error_description))
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
            return error_reply(state, error)
        await asyncio.sleep(fault.seconds)
        return reply({"ok": True, "result": result})
    await asyncio.sleep(fault.seconds)
    return reply({"ok": True, "result": await handler(call)})


def setup_routes(app: web.Application) -> None:
    app.router.add_route("*", r"/bot{token}/{method}", handle_method)
    app.router.add_get(r"/file/bot{token}/{path:.+}", files.handle_file)
