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

from collections.abc import Callable
from html import escape

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.delivery.notices import Keyboard, NoticeDelivery
from bot.handlers.replies import (
    answer_quietly,
    ask_in_private,
    markup,
    private_only,
    refuse_button,
    show,
)
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
from bot.telegram.callback_data import (
    MeetingsDigestPageData,
    RoomCalendarData,
    RoomsPageData,
    TeamDigestPageData,
    family_filter,
)
from storage.database import Database

ROOMS_PAGE = 10
WEEK_ROLES = (Role.supervisor, Role.manager, Role.admin)
SEES_MEETINGS = (*DIGEST_ROLES, Role.admin)


# ---------------------------------------------------------------------------- /tomorrow


def _private(message: Message | None) -> bool:
    return message is not None and message.chat.type == "private"


async def _digest_pages(
    db: Database,
    service: DigestService,
    read: Reader,
    audience: Audience,
    scope: str,
    team_id: str | None,
) -> list[str]:
    assert read.now is not None  # the update's reader reads at the clock's now
    days = covered_days(read.site, local_today(read.site, read.now))
    async with db.transaction() as session:
        if scope == "m":
            return meetings_digest(read, await service.meetings(session, days), audience)
        assert team_id is not None
        return team_digest(read, team_id, await service.team_tasks(session, team_id, days))


def _page(pages: list[str], read: Reader, page_data: Callable[[int], str], page: int) -> tuple[str, Keyboard]:
    page = min(max(page, 0), len(pages) - 1)
    return pages[page], pager(read, page_data, page, len(pages))


def _digest_page_data(team_id: str | None) -> Callable[[int], str]:
    """Button data of a digest's pages: the meetings (``dg:m:``) or a team's tasks."""
    if team_id is None:
        return lambda page: MeetingsDigestPageData(page=page).pack()
    return lambda page: TeamDigestPageData(team_id=team_id, page=page).pack()


async def _answer_digest(
    message: Message,
    db: Database,
    digest_service: DigestService,
    read: Reader,
    audience: Audience,
    team_id: str | None,
) -> None:
    """The first page of the meetings digest (``team_id`` None) or of a team's tasks."""
    pages = await _digest_pages(db, digest_service, read, audience, "m" if team_id is None else "t", team_id)
    text, keyboard = _page(pages, read, _digest_page_data(team_id), 0)
    await message.answer(text, reply_markup=markup(keyboard))


async def tomorrow(
    message: Message,
    person: PersonContext,
    db: Database,
    read: Reader,
    digest_service: DigestService,
) -> None:
    if not _private(message):
        await ask_in_private(message)
        return
    audience = audience_of_person(person, Medium.report)
    if person.has(*SEES_MEETINGS):
        await _answer_digest(message, db, digest_service, read, audience, None)
        return
    if not person.team_ids:
        await message.answer(
            _("The digest of tomorrow's meetings is for the service centre's supervisors and staff.")
        )
        return
    for team_id in person.team_ids:
        await _answer_digest(message, db, digest_service, read, audience, team_id)


async def digest_page(
    callback: CallbackQuery,
    callback_data: MeetingsDigestPageData | TeamDigestPageData,
    person: PersonContext,
    site: SiteConfig,
    db: Database,
    read: Reader,
    digest_service: DigestService,
) -> None:
    team_id = callback_data.team_id if isinstance(callback_data, TeamDigestPageData) else None
    page = callback_data.page
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
    pages = await _digest_pages(db, digest_service, read, audience, "m" if team_id is None else "t", team_id)
    await answer_quietly(callback)
    await show(callback, *_page(pages, read, _digest_page_data(team_id), page))


# ---------------------------------------------------------------------------- /week


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
        [
            {"text": room.name.get(read.language), "callback_data": RoomCalendarData(room_id=room.id).pack()}
            for room in shown
        ]
    )
    return rows + pager(read, lambda shown_page: RoomsPageData(page=shown_page).pack(), page, pages)


async def _send_feed(
    bot: Bot,
    chat_id: int,
    person: PersonContext,
    room: Room,
    read: Reader,
    db: Database,
    service: CalendarService,
) -> None:
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


async def ics(
    message: Message,
    command: CommandObject,
    person: PersonContext,
    bot: Bot,
    site: SiteConfig,
    db: Database,
    read: Reader,
    calendar_service: CalendarService,
) -> None:
    if not _private(message):
        await ask_in_private(message)
        return
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
    await _send_feed(bot, message.chat.id, person, room, read, db, calendar_service)


async def ics_room_pressed(
    callback: CallbackQuery,
    callback_data: RoomCalendarData,
    person: PersonContext,
    bot: Bot,
    site: SiteConfig,
    db: Database,
    read: Reader,
    calendar_service: CalendarService,
) -> None:
    room = site.room(callback_data.room_id)
    if not isinstance(callback.message, Message) or not _private(callback.message):
        await answer_quietly(callback, private_only(), alert=True)
        return
    if room is None or not person.registered:
        await answer_quietly(callback, _("This button is no longer valid."), alert=True)
        return
    await answer_quietly(callback)
    await _send_feed(bot, callback.message.chat.id, person, room, read, db, calendar_service)


async def ics_rooms_page(
    callback: CallbackQuery,
    callback_data: RoomsPageData,
    read: Reader,
) -> None:
    await answer_quietly(callback)
    await show(callback, _("Which room's calendar do you want?"), _rooms_keyboard(read, callback_data.page))


async def report_data_refused(callback: CallbackQuery) -> None:
    """A digest's or a calendar's data that none of the handlers above unpacked."""
    await refuse_button(callback)


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(tomorrow, Command("tomorrow"))
    router.callback_query.register(digest_page, MeetingsDigestPageData.filter())
    router.callback_query.register(digest_page, TeamDigestPageData.filter())
    router.message.register(week, Command("week"))
    router.message.register(ics, Command("ics"))
    router.callback_query.register(ics_room_pressed, RoomCalendarData.filter())
    router.callback_query.register(ics_rooms_page, RoomsPageData.filter())
    router.callback_query.register(
        report_data_refused,
        family_filter(MeetingsDigestPageData, TeamDigestPageData, RoomCalendarData, RoomsPageData),
    )


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
