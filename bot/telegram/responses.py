"""The Bot API's answers are read by classes built once, not again after each garbage collection.

aiogram reads every answer of the Bot API with ``Response[method.__returning__]``, a pydantic
generic model parametrised when the call returns. pydantic keeps parametrised classes in a
weak cache, and a class sits in reference cycles of its own, so the class outlives the call
only until the next full garbage collection; the next call of that method builds it again,
with its validator: ``Response[list[Update]]`` (every ``getUpdates``) holds the schema of
``Update``, ``Message`` and what they name. Rebuilt over and over, that was 4-5 MB of the bot's
RSS (docs/benchmarks.md, section Memory) and CPU time at each rebuild. The session here holds
each class it has used: one per return type the bot meets, a few dozen at most.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

_RESPONSE_CLASSES: dict[Any, type[Response[Any]]] = {}
"""Keeps every ``Response[...]`` built alive (the weak cache of pydantic alone does not)."""


class KeepResponseClasses(AiohttpSession):
    """aiogram's aiohttp session, with each ``Response[...]`` class built once."""

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _RESPONSE_CLASSES:
            _RESPONSE_CLASSES[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)
