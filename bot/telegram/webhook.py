"""Telegram's webhook: the POST handler that bot/ops/web.py serves on ``WEBHOOK_ROUTE``.

It checks ``X-Telegram-Bot-Api-Secret-Token`` against ``WEBHOOK_SECRET`` (401 and nothing
handled when it differs or is missing), then handles the update **before** answering, so a
200 means "handled and committed". A handler's own error is answered inside (the error
handlers tell the person; 200). An error that escapes them — typically the database being
unreachable — answers 500: :class:`~bot.telegram.middlewares.DeduplicateUpdates` forgot the
update id, and Telegram delivers the update again later (it keeps trying for 24 hours), which
then gets a fresh try, once. Answering at once and handling in the background (aiogram's
``handle_in_background``) would instead turn each such failure into a lost update, since
Telegram never redelivers an update it got a 200 for. Telegram waits 60 s for the answer:
past :data:`HANDLE_TIMEOUT` aiogram answers anyway and finishes the update in the background;
should Telegram still deliver it again, the recorded id skips the copy.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HANDLE_TIMEOUT = 50.0
"""Seconds an update may take before the webhook answers and lets it finish in the background."""

WebHandler = Callable[[web.Request], Awaitable[web.Response]]


class WebhookHandler:
    """POST handler for Telegram's webhook. ``rejected`` counts a refused request by reason
    (``secret``, ``malformed``; bot/ops/metrics.py in the running bot)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        secret: str,
        rejected: Callable[[str], None],
        timeout: float = HANDLE_TIMEOUT,
    ) -> None:
        if not secret:
            raise ValueError("the webhook needs a secret")
        self.dispatcher = dispatcher
        self.bot = bot
        self.secret = secret.encode()
        self.rejected = rejected
        self.timeout = timeout

    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return secrets.compare_digest(given.encode("utf-8", "replace"), self.secret)

    async def handle(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            self.rejected("secret")
            log.warning(
                "webhook request without the right secret token refused", extra={"peer": request.remote}
            )
            return web.json_response({"ok": False, "description": "Unauthorized"}, status=401)
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.bot})
        except (ValueError, ValidationError):
            self.rejected("malformed")
            return web.json_response({"ok": False, "description": "not an Update"}, status=400)
        try:
            result: Any = await self.dispatcher.feed_webhook_update(
                self.bot,
                update,
                _timeout=self.timeout,
                dispatcher=self.dispatcher,
                bots=[self.bot],
            )
        except Exception:
            # aiogram logged it; the update id was released, so Telegram's redelivery retries it
            return web.json_response({"ok": False, "description": "update failed"}, status=500)
        if isinstance(result, TelegramMethod):
            # a handler returned a method: call it rather than answer it in the body, so its
            # failures are seen and logged here
            await self.dispatcher.silent_call_request(self.bot, result)
        return web.json_response({"ok": True})


def webhook_handler(
    dispatcher: Dispatcher, bot: Bot, secret: str, *, rejected: Callable[[str], None]
) -> WebHandler:
    """The POST handler of the webhook whose secret token is ``secret``."""
    return WebhookHandler(dispatcher, bot, secret, rejected).handle
