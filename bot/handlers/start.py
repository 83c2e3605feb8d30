"""/start: registration by invite deep link, the welcome, and the gate for unknown people.

The gate stands first in the router list: a person the bot does not know can use /start and
/language only; anything else they send in private gets the "how to join" message.
"""

from __future__ import annotations

import re
from typing import Any

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart, Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.handlers.replies import answer_quietly
from bot.services.people import PeopleService, PersonContext
from bot.site import Role, SiteConfig
from storage.database import Database

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

INVITE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Unregistered(Filter):
    """True for a person with no department, role or team."""

    async def __call__(self, event: TelegramObject, person: PersonContext | None = None, **_: Any) -> bool:
        return person is None or not person.registered


def how_to_join() -> str:
    return _(
        "Hello! To use this bot, open your department's invite link (ask your office), "
        "or ask an administrator to add you."
    )


def welcome(person: PersonContext, site: SiteConfig, language: str) -> str:
    lines = [
        _("Hello, {name}! Book a room with /book, see your bookings with /my.").format(
            name=html.quote(person.name)
        )
    ]
    if person.department_id is not None:
        department = site.department(person.department_id)
        if department is not None:
            lines.append(
                _("Your department: {department}.").format(
                    department=html.quote(department.name.get(language))
                )
            )
    if Role.dispatcher in person.roles:
        lines.append(_("As a dispatcher you can book for any department (phone bookings)."))
    if Role.approver in person.roles:
        lines.append(_("As the approver you get approval requests here, with Approve and Reject buttons."))
    if person.team_ids:
        lines.append(_("Your team's tasks are posted in the team's group; use /mytasks there."))
    lines.append(_("/language changes the language; /help explains the rest."))
    return "\n".join(lines)


@router.message(CommandStart())
async def start(
    message: Message,
    command: CommandObject,
    person: PersonContext,
    site: SiteConfig,
    i18n: I18n,
    db: Database,
    people_service: PeopleService,
) -> None:
    code = (command.args or "").strip()
    if code:
        department_id = None
        if INVITE_CODE.match(code):
            async with db.transaction() as session:
                department_id = await people_service.join(session, person.user_id, code)
        if department_id is None:
            await message.answer(
                _("This invite code is not known. Ask your department for a valid invite link.")
            )
            return
        department = site.department(department_id)
        name = department.name.get(i18n.current_locale) if department else department_id
        await message.answer(
            _("Welcome! You have joined {department}. Book a room with /book.").format(
                department=html.quote(name)
            )
        )
        return
    if not person.registered:
        await message.answer(how_to_join())
        return
    await message.answer(welcome(person, site, i18n.current_locale))


@router.message(Unregistered(), ~Command("language"))
async def not_registered(message: Message) -> None:
    await message.answer(how_to_join())


@router.callback_query(Unregistered(), F.message.chat.type == "private", ~F.data.startswith("lang:"))
async def not_registered_press(callback: CallbackQuery) -> None:
    await answer_quietly(callback, how_to_join(), alert=True)
