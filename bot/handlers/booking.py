"""/book starts the booking dialog; /cancel leaves whatever dialog or question is open."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, StartMode

from bot.dialogs.draft import NEW, BookingSG
from bot.services.people import PersonContext
from bot.site import Role

router = Router(name=__name__)


@router.message(Command("book"), F.chat.type == "private")
async def book(message: Message, person: PersonContext, dialog_manager: DialogManager) -> None:
    if not person.can_book:
        await message.answer(
            _(
                "Only members of a department and dispatchers can book rooms. "
                "Open your department's invite link to join it."
            )
        )
        return
    first_step = BookingSG.department if Role.dispatcher in person.roles else BookingSG.date
    await dialog_manager.start(
        first_step,
        data={"mode": NEW, "department_id": person.department_id},
        mode=StartMode.RESET_STACK,
    )


@router.message(Command("book", "my"), F.chat.type != "private")
async def book_in_group(message: Message) -> None:
    await message.answer(_("Bookings are made in a private chat with me: open my profile and press Start."))


@router.message(Command("cancel"), F.chat.type == "private")
async def cancel(message: Message, dialog_manager: DialogManager, state: FSMContext) -> None:
    had_something = dialog_manager.has_context() or await state.get_state() is not None
    if dialog_manager.has_context():
        await dialog_manager.reset_stack()
    await state.clear()
    if had_something:
        await message.answer(_("Cancelled. Nothing was saved."))
    else:
        await message.answer(_("There is nothing to cancel."))
