"""/book starts the booking dialog; /cancel leaves whatever dialog or question is open.

``/book <request>`` and a plain message that reads like a booking request (the fallback
router hands those here) start the same dialog on a draft filled from the message.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, StartMode

from bot.dialogs.booking.free_text import start_data
from bot.dialogs.booking.states import NEW, BookingSG
from bot.render.text import Reader
from bot.render.understood import nothing_understood_text
from bot.services.clock import Clock
from bot.services.people import PersonContext
from bot.services.understanding import understand
from bot.site import Role, SiteConfig

log = logging.getLogger(__name__)


def _cannot_book() -> str:
    return _(
        "Only members of a department and dispatchers can book rooms. "
        "Open your department's invite link to join it."
    )


async def book(
    message: Message,
    command: CommandObject,
    person: PersonContext,
    dialog_manager: DialogManager,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    read: Reader,
) -> None:
    if not person.can_book:
        await message.answer(_cannot_book())
        return
    if command.args and command.args.strip():
        await book_from_text(message, command.args, person, dialog_manager, site, clock, i18n, read)
        return
    first_step = BookingSG.department if Role.dispatcher in person.roles else BookingSG.date
    await dialog_manager.start(
        first_step,
        data={"mode": NEW, "department_id": person.department_id},
        mode=StartMode.RESET_STACK,
    )


async def book_from_text(
    message: Message,
    text: str,
    person: PersonContext,
    dialog_manager: DialogManager,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    read: Reader,
) -> None:
    """Read a request typed in one message and open the booking dialog on it; the dialog
    says what it read and asks only for the rest. Nothing is booked before Confirm."""
    # understand() is synchronous and takes milliseconds once jionlp is imported: start loads it
    # in the background (UNDERSTANDING_WARM_UP), else the first request waits ~0.8 s for it here.
    understood = understand(text, site, clock.now(), language_hint=i18n.current_locale)
    if understood.is_empty:
        await message.answer(nothing_understood_text(read))
        return
    log.debug("typed request by %s read as %s", person.user_id, understood.confidence)
    first_step = BookingSG.department if Role.dispatcher in person.roles else BookingSG.date
    await dialog_manager.start(
        first_step, data=start_data(understood, site, person), mode=StartMode.RESET_STACK
    )


async def book_in_group(message: Message) -> None:
    await message.answer(_("Bookings are made in a private chat with me: open my profile and press Start."))


async def cancel(message: Message, dialog_manager: DialogManager, state: FSMContext) -> None:
    had_something = dialog_manager.has_context() or await state.get_state() is not None
    if dialog_manager.has_context():
        await dialog_manager.reset_stack()
    await state.clear()
    if had_something:
        await message.answer(_("Cancelled. Nothing was saved."))
    else:
        await message.answer(_("There is nothing to cancel."))


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(book, Command("book"), F.chat.type == "private")
    router.message.register(book_in_group, Command("book", "my"), F.chat.type != "private")
    router.message.register(cancel, Command("cancel"), F.chat.type == "private")


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
