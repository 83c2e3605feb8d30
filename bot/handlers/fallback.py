"""The last router: whatever nobody else handled gets a helpful answer, never silence.

A plain private message that reads like a booking request ("明天下午2点到4点 第一会议室 12人")
is one: it starts the booking dialog on what it says (bot/handlers/booking.py). It is read
here, after every other router and the dialog, so that it never takes an answer meant for an
open question.

It also holds the error handlers: a button of a dialog that is gone says so, and an
unexpected error is logged and turned into an apology the person can act on.
"""

from __future__ import annotations

import contextlib
import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent, UnknownState

from bot.handlers.booking import book_from_text
from bot.handlers.replies import answer_quietly, drop_buttons, refuse_button
from bot.render.text import Reader
from bot.services.clock import Clock
from bot.services.people import PersonContext
from bot.services.understanding import looks_like_booking_request
from bot.site import SiteConfig

log = logging.getLogger(__name__)


async def unknown_command(message: Message) -> None:
    await message.answer(_("I don't know that command. /help lists what I can do."))


async def not_understood(
    message: Message,
    person: PersonContext,
    dialog_manager: DialogManager,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    read: Reader,
) -> None:
    # Here, after every other router and the dialog, a plain message is nobody's answer to a
    # question: if it reads like a booking request, it is one.
    text = message.text or ""
    if person.can_book and not text.startswith("/") and looks_like_booking_request(text, site):
        await book_from_text(message, text, person, dialog_manager, site, clock, i18n, read)
        return
    await message.answer(
        _("I did not understand that. Use /book to book a room, /my to see your bookings, or /help.")
    )


async def stale_button(callback: CallbackQuery) -> None:
    """Data no router reads: a forged press, or a button of an older version of the bot."""
    await refuse_button(callback)


async def stale_dialog(event: ErrorEvent) -> bool:
    """A button of a dialog that was finished, cancelled or replaced by a newer one."""
    log.info("stale dialog button: %s", event.exception)
    callback = event.update.callback_query
    if callback is not None:
        await answer_quietly(callback, _("This button is no longer valid."))
        await drop_buttons(callback)
    elif event.update.message is not None:
        with contextlib.suppress(TelegramAPIError):
            await event.update.message.answer(_("That dialog is over. Start again with /book or /my."))
    return True


async def unexpected_error(event: ErrorEvent) -> bool:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    text = _("Sorry, something went wrong. Please try again, or type /cancel to start over.")
    with contextlib.suppress(TelegramAPIError):
        if event.update.callback_query is not None:
            await answer_quietly(event.update.callback_query, text, alert=True)
        elif event.update.message is not None and event.update.message.chat.type == "private":
            await event.update.message.answer(text)
    return True


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(unknown_command, F.chat.type == "private", F.text.startswith("/"))
    router.message.register(not_understood, F.chat.type == "private")
    router.callback_query.register(stale_button)
    router.errors.register(stale_dialog, ExceptionTypeFilter(UnknownIntent, OutdatedIntent, UnknownState))
    router.errors.register(unexpected_error)


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
