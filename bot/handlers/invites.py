"""/invite and /invites (a department's admin or a site admin), and the buttons they lead to:
Revoke on a live invite, Approve / Refuse on someone's request to move into a department.

The rules are in bot/services/membership.py; every press is checked there, so a press by
someone who may not decide changes nothing and is told so.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.delivery.notices import NoticeDelivery
from bot.handlers.replies import answer_quietly, drop_buttons, markup, show
from bot.render.membership import (
    MoveDecisionData,
    RevokeInviteData,
    invites_view,
    issued_text,
    move_request_text,
)
from bot.render.text import Reader, user_text
from bot.services.membership import MembershipError, MembershipService, invite_link
from bot.services.people import PersonContext
from bot.site import Department, SiteConfig
from storage.database import Database


def _find_department(site: SiteConfig, words: str, among: list[Department]) -> Department | None:
    """A department by its id, either name or an alias, ignoring case."""
    wanted = words.strip().casefold()
    for department in among:
        names = (department.id, department.name.zh, department.name.en, *department.aliases)
        if wanted in (name.casefold() for name in names):
            return department
    return None


def _which_department(read: Reader, among: list[Department]) -> str:
    known = ", ".join(
        f"<code>{department.id}</code> ({read.department_name(department.id)})" for department in among
    )
    return _("Which department? Send /invite &lt;department&gt;, one of: {departments}").format(
        departments=known
    )


def _error_text(error: MembershipError) -> str:
    texts = {
        "not_allowed": _("Only the department's administrator can do this."),
        "unknown_department": _("There is no such department."),
        "not_live": _("This invite is no longer live: it was used, has expired or was revoked."),
        "already_decided": _("This request was already decided."),
    }
    return texts.get(error.code, _("This button is no longer valid."))


async def issue_invite(
    message: Message,
    command: CommandObject,
    person: PersonContext,
    site: SiteConfig,
    db: Database,
    membership_service: MembershipService,
    read: Reader,
) -> None:
    administered = site.administered_departments(person.user_id)
    if not administered:
        await message.answer(_("Only a department's administrator can issue invites."))
        return
    words = (command.args or "").strip()
    if words:
        department = _find_department(site, words, administered)
    else:
        department = administered[0] if len(administered) == 1 else None
    if department is None:
        await message.answer(_which_department(read, administered))
        return
    try:
        async with db.transaction() as session:
            issued = await membership_service.issue(session, person.user_id, department.id)
    except MembershipError as error:
        await message.answer(_error_text(error))
        return
    link = invite_link(site, issued.code)
    await message.answer(issued_text(read, issued.department_id, link, read.moment(issued.expires_at)))


async def list_invites(
    message: Message,
    person: PersonContext,
    site: SiteConfig,
    db: Database,
    membership_service: MembershipService,
    read: Reader,
) -> None:
    if not site.administered_departments(person.user_id):
        await message.answer(_("Only a department's administrator can see its invites."))
        return
    async with db.read() as session:
        invites = await membership_service.live_invites(session, person.user_id)
        text, keyboard = await invites_view(read, session, invites)
    await message.answer(text, reply_markup=markup(keyboard))


async def revoke_pressed(
    callback: CallbackQuery,
    callback_data: RevokeInviteData,
    person: PersonContext,
    db: Database,
    membership_service: MembershipService,
    read: Reader,
) -> None:
    try:
        async with db.transaction() as session:
            await membership_service.revoke(session, person.user_id, callback_data.invite_id)
    except MembershipError as error:
        await answer_quietly(callback, _error_text(error), alert=error.code == "not_allowed")
        if error.code == "not_allowed":
            return
    else:
        await answer_quietly(callback, _("Revoked: the link no longer works."))
    async with db.read() as session:
        invites = await membership_service.live_invites(session, person.user_id)
        text, keyboard = await invites_view(read, session, invites)
    await show(callback, text, keyboard)


async def move_decided(
    callback: CallbackQuery,
    callback_data: MoveDecisionData,
    person: PersonContext,
    db: Database,
    membership_service: MembershipService,
    delivery: NoticeDelivery,
    read: Reader,
) -> None:
    try:
        async with db.transaction() as session:
            decision = await membership_service.decide(
                session, person.user_id, callback_data.request_id, approve=callback_data.approve
            )
            await delivery.deliver(session, decision.notices)
    except MembershipError as error:
        await answer_quietly(callback, _error_text(error), alert=True)
        if error.code == "already_decided":
            await drop_buttons(callback)  # this request can never be decided any more
        return
    who = user_text(person.name, 60)
    if decision.placed_by_site:
        footer = _("❌ Refused: the site file places this person, so no invite can move them.")
        await answer_quietly(callback, footer, alert=True)
    elif decision.request.status == "approved":
        footer = _("✅ Approved by {person}. They are told.").format(person=who)
        await answer_quietly(callback, _("Approved."))
    else:
        footer = _("❌ Refused by {person}. They are told.").format(person=who)
        await answer_quietly(callback, _("Refused."))
    async with db.read() as session:
        text = await move_request_text(read, session, decision.request)
    await show(callback, f"{text}\n\n{footer}")


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(issue_invite, Command("invite"), F.chat.type == "private")
    router.message.register(list_invites, Command("invites"), F.chat.type == "private")
    router.callback_query.register(revoke_pressed, RevokeInviteData.filter())
    router.callback_query.register(move_decided, MoveDecisionData.filter())


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
