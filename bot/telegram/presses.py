"""Answering a button press: the helpers the handlers and the dialog widgets share."""

from __future__ import annotations

import contextlib
import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

log = logging.getLogger("bot.handlers.replies")  # the logger these lines have always had


async def answer_quietly(callback: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Answer a press once; a second answer or an expired query is not worth failing over."""
    with contextlib.suppress(TelegramBadRequest):
        await callback.answer(text[:200] if text else None, show_alert=alert)


async def refuse_button(callback: CallbackQuery) -> None:
    """A press whose data this bot never wrote (forged, or of an older version): it changes
    nothing and gets the usual stale-button answer. One warning line, never a traceback, so a
    flood of forged presses cannot bury the real errors."""
    log.warning("button data refused from user %s: %r", callback.from_user.id, (callback.data or "")[:64])
    await answer_quietly(callback, _("This button is no longer valid."))
