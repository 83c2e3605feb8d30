"""/start: registration by invite deep link, and the welcome."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.services.people import PeopleService, PersonContext
from storage.database import Database

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")


@router.message(CommandStart())
async def start(
    message: Message,
    command: CommandObject,
    person: PersonContext,
    db: Database,
    people_service: PeopleService,
) -> None:
    if command.args:
        async with db.transaction() as session:
            department = await people_service.join(session, person.user_id, command.args.strip())
        if department is None:
            await message.answer(
                _("This invite code is not known. Ask your department for a valid invite link.")
            )
            return
        await message.answer(_("Welcome! You have joined your department. Book a room with /book."))
        return
    if not person.registered:
        await message.answer(
            _(
                "Hello! To use this bot, open your department's invite link (ask your office), "
                "or ask an administrator to add you."
            )
        )
        return
    await message.answer(
        _("Hello, {name}! Book a room with /book, see your bookings with /my.").format(
            name=html.quote(person.name)
        )
    )
