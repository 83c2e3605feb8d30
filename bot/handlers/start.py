"""/start: joining by invite deep link (rules in bot/services/membership.py), the welcome, and
the gate for unknown people.

The QR codes of a room's door display are deep links too (bot/services/deep_links.py):
``book-<room>`` opens the booking dialog with that room chosen; ``checkin-<booking>`` checks in
to that meeting (bot/handlers/checkin.py). Neither counts as an invite attempt.

The gate stands first in the router list: a person the bot does not know can use /start and
/language only; anything else they send in private gets the "how to join" message.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart, Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, StartMode

from bot.delivery.notices import NoticeDelivery
from bot.dialogs.booking.free_text import start_data
from bot.dialogs.booking.states import BookingSG
from bot.handlers.checkin import check_in_by_link
from bot.handlers.replies import answer_quietly
from bot.render.text import Reader
from bot.services.checkin import CheckInService
from bot.services.deep_links import DeepLink, read_payload
from bot.services.membership import JoinResult, JoinStatus, MembershipService
from bot.services.people import PersonContext
from bot.services.understanding.result import Confidence, Understanding
from bot.site import Role, SiteConfig
from storage.database import Database


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


def join_reply(read: Reader, result: JoinResult) -> str:
    """What a person is told after opening an invite link."""
    department = read.department_name(result.department_id) if result.department_id else ""
    ask_admin = _("Ask your department's administrator for a new invite link.")
    match result.status:
        case JoinStatus.joined:
            return _("Welcome! You have joined {department}. Book a room with /book.").format(
                department=department
            )
        case JoinStatus.already_member:
            return _(
                "You are already in {department}. Book a room with /book, see your bookings with /my."
            ).format(department=department)
        case JoinStatus.placed_by_site:
            return _(
                "Your department is set by the site's configuration, so an invite cannot change it. "
                "If it is wrong, ask the administrator."
            )
        case JoinStatus.awaiting_approval:
            return _(
                "Your request to join {department} waits for its administrator's approval. "
                "Nothing changes until then; you will be told the outcome."
            ).format(department=department)
        case JoinStatus.already_waiting:
            return _("Your request to join {department} is still waiting for approval.").format(
                department=department
            )
        case JoinStatus.rate_limited:
            return _(
                "Too many invite links that did not work. Try again in an hour, or ask your "
                "department's administrator to add you."
            )
        case JoinStatus.expired:
            return _("This invite link has expired.") + " " + ask_admin
        case JoinStatus.used:
            return _("This invite link has already been used.") + " " + ask_admin
        case JoinStatus.retired:
            return (
                _("This invite link no longer works: each department's administrator issues invites now.")
                + " "
                + ask_admin
            )
        case _:
            return _("This invite code is not known. Ask your department for a valid invite link.")


async def start(
    message: Message,
    command: CommandObject,
    person: PersonContext,
    site: SiteConfig,
    i18n: I18n,
    db: Database,
    membership_service: MembershipService,
    delivery: NoticeDelivery,
    dialog_manager: DialogManager,
    read: Reader,
    checkin_service: CheckInService,
) -> None:
    code = (command.args or "").strip()
    link = read_payload(site, code) if code else None
    if link is not None and link.kind == "checkin" and link.booking_id is not None and person.registered:
        await check_in_by_link(message, link.booking_id, person, site, db, checkin_service, delivery, read)
        return
    if link is not None:
        await opened_from_door(message, link, person, site, i18n, dialog_manager)
        return
    if code:
        async with db.transaction() as session:
            result = await membership_service.redeem(session, person.user_id, code)
            await delivery.deliver(session, result.notices)
        await message.answer(join_reply(read, result))
        return
    if not person.registered:
        await message.answer(how_to_join())
        return
    await message.answer(welcome(person, site, i18n.current_locale))


async def opened_from_door(
    message: Message,
    link: DeepLink,
    person: PersonContext,
    site: SiteConfig,
    i18n: I18n,
    dialog_manager: DialogManager,
) -> None:
    """A QR code of a door display that books a room (a check-in link is taken before)."""
    if not person.registered:
        await message.answer(how_to_join())
        return
    if link.kind == "book" and link.room_id is not None and person.can_book:
        chosen = Understanding(
            text="",
            language=i18n.current_locale,
            room_id=link.room_id,
            confidence={"room_id": Confidence.stated},
        )
        first_step = BookingSG.department if Role.dispatcher in person.roles else BookingSG.date
        await dialog_manager.start(
            first_step, data=start_data(chosen, site, person), mode=StartMode.RESET_STACK
        )
        return
    await message.answer(welcome(person, site, i18n.current_locale))


async def not_registered(message: Message) -> None:
    await message.answer(how_to_join())


async def not_registered_press(callback: CallbackQuery) -> None:
    await answer_quietly(callback, how_to_join(), alert=True)


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.filter(F.chat.type == "private")
    router.message.register(start, CommandStart())
    router.message.register(not_registered, Unregistered(), ~Command("language"))
    router.callback_query.register(
        not_registered_press, Unregistered(), F.message.chat.type == "private", ~F.data.startswith("lang:")
    )


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
