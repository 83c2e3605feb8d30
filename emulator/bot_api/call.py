"""One Bot API call as the topic modules see it, the registry of methods and the JSON answers.

Every ``@method`` handler takes a :class:`Call` and returns the ``result`` of Telegram's
answer, or raises :class:`emulator.errors.ApiError`; the topic modules register themselves on
import, so the endpoint (``endpoint.py``) only has to import them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..errors import ApiError
from ..models import JSON
from ..params import Params
from ..state import EmulatorState

STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("emulator_state", EmulatorState)

_TOKEN = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")


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


def reply(body: JSON, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def error_reply(state: EmulatorState, error: ApiError) -> web.Response:
    state.stats.errors[error.code] += 1
    return reply(error.payload(), status=error.code)


def check_token(state: EmulatorState, token: str) -> ApiError | None:
    match = _TOKEN.match(token)
    if match is None:
        return ApiError(404, "Not Found")
    if state.config.token is not None and token != state.config.token:
        return ApiError(401, "Unauthorized")
    state.bot_id = int(match.group(1))
    return None
