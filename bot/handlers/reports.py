"""/tomorrow (the digest on demand), /week (the weekly briefing) and /ics (a room's calendar).

Reports and files are answered only in a private chat: typed in a group, each of these
commands gets one line saying to ask in private, and nothing else (a group may hold people
who are not registered, and a file is forwarded at will).

* ``/tomorrow``: supervisors, managers, dispatchers and admins get the meetings up to the next
  working day; team members get their team's tasks (a team's group gets its list from the
  17:00 digest). Long digests are shown one part at a time with ‹ › buttons (``dg:m:<page>``,
  ``dg:t:<team>:<page>``).
* ``/week [2026-W49 | 2026-12-03]``: supervisors, managers and admins; the chart and the
  spreadsheet are queued in the outbox like the Friday briefing (bot/render/weekly.py).
* ``/ics <room>``: anyone registered; without a room, the rooms as buttons (``ics:<room>``).

What each of them shows of a meeting is :func:`bot.services.visibility.meeting_view`'s to
decide; these are reports, so a confidential meeting shows as "confidential" in them.
"""

from __future__ import annotations

import re
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.delivery.notices import Keyboard, NoticeDelivery
from bot.handlers.replies import answer_quietly, ask_in_private, markup, private_only, reader, show
from bot.render.calendar import calendar_wording
from bot.render.digest import meetings_digest, page_of, pager, team_digest, two_a_row
from bot.render.text import Reader
from bot.render.weekly import briefing_notices
from bot.services.calendar import CalendarService, find_room
from bot.services.clock import Clock
from bot.services.digest import DIGEST_ROLES, DigestService, covered_days, local_today
from bot.services.people import PersonContext
from bot.services.reports import WeekError, parse_week
from bot.services.visibility import Audience, Medium, audience_of_person
from bot.site import Role, Room, SiteConfig
from storage.database import Database

router = Router(name=__name__)

DIGEST_PAGE = re.compile(r"^dg:(m|t:([a-z0-9_]{1,24})):([0-9]{1,3})$")
ROOM_PRESS = re.compile(r"^ics:([A-Za-z0-9_-]{1,32})$")
ROOMS_PAGE_PRESS = re.compile(r"^icsp:([0-9]{1,3})$")
ROOMS_PAGE = 10
WEEK_ROLES = (Role.supervisor, Role.manager, Role.admin)
SEES_MEETINGS = (*DIGEST_ROLES, Role.admin)


# ---------------------------------------------------------------------------- /tomorrow


def _private(message: Message | None) -> bool:
    return message is not None and message.chat.type == "private"


async def _digest_pages(
    db: Database,
    site: SiteConfig,
    clock: Clock,
    read: Reader,
    audience: Audience,
    scope: str,
    team_id: str | None,
) -> list[str]:
    service = DigestService(site, clock)
    days = covered_days(site, local_today(site, clock.now()))
    async with db.transaction() as session:
        if scope == "m":
            return meetings_digest(read.at(clock.now()), await service.meetings(session, days), audience)
        assert team_id is not None
        return team_digest(read.at(clock.now()), team_id, await service.team_tasks(session, team_id, days))


def _page(pages: list[str], read: Reader, prefix: str, page: int) -> tuple[str, Keyboard]:
    page = min(max(page, 0), len(pages) - 1)
    return pages[page], pager(read, prefix, page, len(pages))


def _digest_prefix(team_id: str | None) -> str:
    """Button data of a digest's pages: the meetings (``dg:m:``) or a team's tasks."""
    return "dg:m:" if team_id is None else f"dg:t:{team_id}:"


async def _answer_digest(
    message: Message,
    db: Database,
    site: SiteConfig,
    clock: Clock,
    read: Reader,
    audience: Audience,
    team_id: str | None,
) -> None:
    """The first page of the meetings digest (``team_id`` None) or of a team's tasks."""
    pages = await _digest_pages(db, site, clock, read, audience, "m" if team_id is None else "t", team_id)
    text, keyboard = _page(pages, read, _digest_prefix(team_id), 0)
    await message.answer(text, reply_markup=markup(keyboard))


@router.message(Command("tomorrow"))
async def tomorrow(
    message: Message, person: PersonContext, site: SiteConfig, clock: Clock, i18n: I18n, db: Database
) -> None:
    if not _private(message):
        await ask_in_private(message)
        return
    read = reader(i18n, site)
    audience = audience_of_person(person, Medium.report)
    if person.has(*SEES_MEETINGS):
        await _answer_digest(message, db, site, clock, read, audience, None)
        return
    if not person.team_ids:
        await message.answer(
            _("The digest of tomorrow's meetings is for the service centre's supervisors and staff.")
        )
        return
    for team_id in person.team_ids:
        await _answer_digest(message, db, site, clock, read, audience, team_id)


@router.callback_query(F.data.regexp(DIGEST_PAGE).as_("match"))
async def digest_page(
    callback: CallbackQuery,
    match: re.Match[str],
    person: PersonContext,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    db: Database,
) -> None:
    read = reader(i18n, site)
    team_id, page = match.group(2), int(match.group(3))
    if not isinstance(callback.message, Message) or not _private(callback.message):
        await answer_quietly(callback, private_only(), alert=True)
        return
    if team_id is None:
        allowed = person.has(*SEES_MEETINGS)
    else:
        team = site.team(team_id)
        allowed = team is not None and (person.user_id in team.everyone or person.has(*SEES_MEETINGS))
    if not allowed:
        await answer_quietly(callback, _("This list is not for you."), alert=True)
        return
    audience = audience_of_person(person, Medium.report)
    pages = await _digest_pages(db, site, clock, read, audience, "m" if team_id is None else "t", team_id)
    prefix = _digest_prefix(team_id)
    await answer_quietly(callback)
    await show(callback, *_page(pages, read, prefix, page))


# ---------------------------------------------------------------------------- /week


@router.message(Command("week"))
async def week(
    message: Message,
    command: CommandObject,
    person: PersonContext,
    site: SiteConfig,
    clock: Clock,
    db: Database,
    delivery: NoticeDelivery,
) -> None:
    if not _private(message):
        await ask_in_private(message)
        return
    if not person.has(*WEEK_ROLES):
        await message.answer(_("The weekly briefing is for the supervisor and the manager."))
        return
    try:
        chosen = parse_week(command.args, local_today(site, clock.now()))
    except WeekError:
        await message.answer(
            _("“{text}” is not a week. Write /week, /week 2026-W49 or /week 2026-12-03.").format(
                text=escape((command.args or "")[:60], quote=False)
            )
        )
        return
    await message.answer(_("📊 Preparing the weekly briefing {week} …").format(week=chosen.label))
    # the chart and the spreadsheet are drawn and sent by the sender, paced like any message
    async with db.transaction() as session:
        await delivery.deliver(session, briefing_notices(message.chat.id, chosen.label))


# ---------------------------------------------------------------------------- /ics


def _rooms_keyboard(read: Reader, page: int = 0) -> Keyboard:
    """The rooms as buttons, two a row, :data:`ROOMS_PAGE` a page."""
    shown, page, pages = page_of(read.site.rooms, page, ROOMS_PAGE)
    rows = two_a_row(
        [{"text": room.name.get(read.language), "callback_data": f"ics:{room.id}"} for room in shown]
    )
    return rows + pager(read, "icsp:", page, pages)


async def _send_feed(
    bot: Bot, chat_id: int, person: PersonContext, room: Room, read: Reader, db: Database, clock: Clock
) -> None:
    service = CalendarService(read.site, clock)
    async with db.transaction() as session:
        entries = await service.entries(session, room.id, person.user_id, person.department_id)
    feed = service.feed(room, entries, calendar_wording(read, room))
    await bot.send_document(
        chat_id,
        BufferedInputFile(feed, f"{room.id}.ics"),
        caption=_(
            "📅 {room}: {count} booking(s) from the last month to half a year ahead. "
            "Open the file to add the room's schedule to your calendar."
        ).format(room=escape(room.name.get(read.language)), count=len(entries)),
    )


@router.message(Command("ics"))
async def ics(
    message: Message,
    command: CommandObject,
    person: PersonContext,
    bot: Bot,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    db: Database,
) -> None:
    if not _private(message):
        await ask_in_private(message)
        return
    read = reader(i18n, site)
    if not person.registered:
        await message.answer(_("Only registered people can see the rooms' calendars."))
        return
    wanted = (command.args or "").strip()
    room = find_room(site, wanted) if wanted else None
    if room is None:
        text = (
            _("There is no room “{name}”. Choose one:").format(name=escape(wanted[:60], quote=False))
            if wanted
            else _("Which room's calendar do you want?")
        )
        await message.answer(text, reply_markup=markup(_rooms_keyboard(read)))
        return
    await _send_feed(bot, message.chat.id, person, room, read, db, clock)


@router.callback_query(F.data.regexp(ROOM_PRESS).as_("match"))
async def ics_room_pressed(
    callback: CallbackQuery,
    match: re.Match[str],
    person: PersonContext,
    bot: Bot,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    db: Database,
) -> None:
    read = reader(i18n, site)
    room = site.room(match.group(1))
    if not isinstance(callback.message, Message) or not _private(callback.message):
        await answer_quietly(callback, private_only(), alert=True)
        return
    if room is None or not person.registered:
        await answer_quietly(callback, _("This button is no longer valid."), alert=True)
        return
    await answer_quietly(callback)
    await _send_feed(bot, callback.message.chat.id, person, room, read, db, clock)


@router.callback_query(F.data.regexp(ROOMS_PAGE_PRESS).as_("match"))
async def ics_rooms_page(callback: CallbackQuery, match: re.Match[str], site: SiteConfig, i18n: I18n) -> None:
    read = reader(i18n, site)
    await answer_quietly(callback)
    await show(callback, _("Which room's calendar do you want?"), _rooms_keyboard(read, int(match.group(1))))
