"""Telegram's 429 for the calls handlers make themselves (replies, dialog windows, answers).

The outbox sender paces itself and reschedules a row on a 429 without holding anything up
(bot/delivery/sender.py; its calls, made through bot/telegram/gateway.py, are marked with
:data:`OUTBOX_CALL` and pass straight through). A
handler's own reply has no row to reschedule: lost to a 429, a person who just booked would
never see "Booked". So such a call waits the ``retry_after`` Telegram asks for and is made
again, a few times, within a bounded total wait.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)

OUTBOX_CALL: ContextVar[bool] = ContextVar("huiwu_outbox_call", default=False)
"""Set by the outbox gateway around the sender's calls: the sender handles 429s itself."""


class RetryAfterForHandlers(BaseRequestMiddleware):
    def __init__(self, attempts: int = 4, max_total_wait: float = 15.0) -> None:
        self.attempts = attempts
        self.max_total_wait = max_total_wait

    async def __call__(
        self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Response[Any]:
        if OUTBOX_CALL.get():
            return await make_request(bot, method)
        waited = 0.0
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                wait = float(error.retry_after)
                if attempt == self.attempts or waited + wait > self.max_total_wait:
                    raise
                log.warning("429 on %s: trying again in %s s", type(method).__name__, error.retry_after)
                waited += wait
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover
