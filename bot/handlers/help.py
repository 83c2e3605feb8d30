"""/help: what this person can do here."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.render.text import Reader
from bot.services.approvals import may_decide, may_follow
from bot.services.people import PersonContext
from bot.site import Role, SiteConfig


def help_text(person: PersonContext, site: SiteConfig, read: Reader) -> str:
    lines = [_("<b>What I can do</b>")]
    if person.can_book:
        lines += [
            _("/book — book a meeting room: day, time, number of people, room, layout, services."),
            _("/my — your upcoming bookings: details, change or cancel."),
            _("Or write the request in one message, e.g. “tomorrow 2-4pm room 101, 12 people, tea”."),
        ]
    lines += [
        _("/cancel — leave the current dialog."),
        _("/language — 中文 / English."),
    ]
    if Role.dispatcher in person.roles:
        lines.append(_("As a dispatcher, /book asks which department the booking is for (phone bookings)."))
    if Role.approver in person.roles:
        lines.append(_("Approval requests for class C halls and special layouts arrive here with buttons."))
    if may_decide(site, person.user_id):
        lines.append(_("/approvals — the requests waiting for your decision, longest waiting first."))
    elif may_follow(site, person.user_id):
        lines.append(_("/approvals — the requests waiting for approval, longest waiting first (to read)."))
    if person.team_ids:
        lines.append(_("In your team's group: /mytasks lists the open tasks; press Done or Problem on each."))
    if site.administered_departments(person.user_id):
        lines.append(
            _("/invite — a one-time invite link into your department; /invites — the live ones, to revoke.")
        )
    if person.has(Role.admin):
        lines.append(
            _("/display &lt;room&gt; — a new link for a room's door display; the one before stops working.")
        )
    if person.has(Role.supervisor, Role.manager, Role.dispatcher):
        lines.append(
            _("/today, /overdue, /tomorrow — the day's meetings and tasks; /week — the weekly briefing.")
        )
    lines.append(_("/ics — a room's calendar file; /lost — lost and found."))
    lines.append(_("<b>Booking rules</b>"))
    for name, rule in sorted(site.room_classes.items()):
        if rule.needs_approval:
            line = _("Class {room_class}: book at least {notice} ahead; the approver must consent.")
        else:
            line = _("Class {room_class}: book at least {notice} ahead.")
        lines.append("• " + line.format(room_class=name, notice=read.duration(rule.min_notice_minutes)))
    return "\n".join(lines)


async def show_help(
    message: Message, person: PersonContext, site: SiteConfig, i18n: I18n, read: Reader
) -> None:
    await message.answer(help_text(person, site, read))


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(show_help, Command("help"), F.chat.type == "private")


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
