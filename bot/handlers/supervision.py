"""/today, /overdue (supervisor, manager, dispatcher) and /mytasks (team members).

Long lists come as several messages, each within Telegram's 4096 characters. /today and
/overdue are answered only in a private chat (in a group: one line saying so). What a list
shows of each meeting is :func:`bot.services.visibility.meeting_view`'s to decide: in a group,
or to staff, a confidential meeting shows no title or unit.
"""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.replies import ask_in_private
from bot.render.tasks import meetings_text
from bot.render.text import Reader
from bot.services.dispatch import team_of_chat
from bot.services.people import PersonContext
from bot.services.tasks import TaskViews
from bot.services.visibility import Audience, audience_of_person
from bot.site import Role, SiteConfig
from storage.database import Database

OVERSEERS = (Role.supervisor, Role.manager, Role.dispatcher)


async def _send_all(message: Message, texts: list[str]) -> None:
    for text in texts:
        await message.answer(text)


async def today(
    message: Message,
    person: PersonContext,
    db: Database,
    task_views: TaskViews,
    read: Reader,
) -> None:
    if message.chat.type != "private":
        await ask_in_private(message)
        return
    if not person.has(*OVERSEERS):
        await message.answer(_("/today is for the supervisor, the manager and the dispatchers."))
        return

    day = task_views.today()
    async with db.transaction() as session:
        meetings = await task_views.day(session, day)
        texts = await meetings_text(
            read,
            session,
            _("📅 <b>Today, {day}</b>: {count} meeting(s)").format(day=read.day(day), count=len(meetings)),
            meetings,
            audience=audience_of_person(person),
            empty=_("No meetings today."),
        )
    await _send_all(message, texts)


async def overdue(
    message: Message,
    person: PersonContext,
    db: Database,
    task_views: TaskViews,
    read: Reader,
) -> None:
    if message.chat.type != "private":
        await ask_in_private(message)
        return
    if not person.has(*OVERSEERS):
        await message.answer(_("/overdue is for the supervisor, the manager and the dispatchers."))
        return

    async with db.transaction() as session:
        meetings = await task_views.overdue(session)
        count = sum(len(m.tasks) for m in meetings)
        texts = await meetings_text(
            read,
            session,
            _("⏰ <b>Late now</b>: {count} task(s)").format(count=count),
            meetings,
            audience=audience_of_person(person),
            empty=_("Nothing is late. 👍"),
        )
    await _send_all(message, texts)


async def my_tasks(
    message: Message,
    person: PersonContext,
    db: Database,
    site: SiteConfig,
    task_views: TaskViews,
    read: Reader,
) -> None:

    in_group = message.chat.type != "private"
    async with db.transaction() as session:
        if in_group:
            team = await team_of_chat(session, site, message.chat.id)
            if team is None:
                await message.answer(
                    _("This group is not bound to a team. An admin can use /bind &lt;team&gt;.")
                )
                return
            if person.user_id not in team.everyone and not person.has(Role.supervisor, Role.manager):
                await message.answer(_("/mytasks shows the tasks of your own team."))
                return
            teams = [team.id]
        else:
            teams = list(person.team_ids)
            if not teams:
                await message.answer(_("You are not in a team, so you have no tasks."))
                return
        meetings = await task_views.for_teams(session, teams)
        names = ", ".join(escape(t.name.get(read.language)) for t in site.teams if t.id in teams)
        texts = await meetings_text(
            read,
            session,
            _("📋 <b>Open and coming tasks</b> — {teams}").format(teams=names),
            meetings,
            # a group is read as staff, whoever typed the command (docs/product.md §2)
            audience=Audience.group() if in_group else audience_of_person(person),
            with_team=len(teams) > 1,
            empty=_("No open tasks. 👍"),
        )
    await _send_all(message, texts)


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(today, Command("today"))
    router.message.register(overdue, Command("overdue"))
    router.message.register(my_tasks, Command("mytasks"))


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
