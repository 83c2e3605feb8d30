"""The booking wizard (/book) and its change mode (/my → Change).

New booking: [department, for dispatchers] → date → start → end → attendees → free rooms →
layout → reception level → services → each service's details → title → contact → phone →
confidential → notes → summary → confirm. Change mode opens on a menu (time, room,
attendees, layout, services) whose steps reuse the same windows and come back to it.

Every value is checked with the booking service's rules as it is entered; the final word is
BookingService.create/change inside one transaction.

Phone bookings: a dispatcher first picks the department. The booking belongs to that
department (its members see it in /my and may change or cancel it), the dispatcher is both
the requester and the one who booked it (so approval outcomes come back to the dispatcher,
who took the call), and the contact name and phone typed in the dialog say who the organiser
is. Telegram gives no reliable way to name a department member who may never have talked to
the bot, so the dispatcher is the only requester the bot can be sure to reach.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from functools import wraps
from html import escape
from typing import Any

from aiogram import Bot
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Column, Group, Multiselect, Row, Select
from aiogram_dialog.widgets.text import Format, Multi

from bot.delivery.notices import NoticeDelivery
from bot.dialogs.draft import (
    CHANGE,
    NEW,
    BookingSG,
    changed_fields,
    clock_of,
    draft,
    draft_day,
    draft_moment,
    draft_view,
    fill_from_view,
    go_back,
    hub,
    is_change,
    person_of,
    pop_error,
    set_error,
    site_of,
)
from bot.dialogs.draft import goto as goto_step
from bot.dialogs.free_text import FREE, choices_of, free_of, is_free, summary_marks
from bot.dialogs.widgets import SiteCalendar, Tr, reader_of, today_of
from bot.render.booking import booking_summary
from bot.render.errors import error_text
from bot.render.text import Reader, shorten, user_text
from bot.render.understood import understood_text
from bot.services.booking import (
    MAX_ADVANCE,
    MAX_DETAIL,
    MAX_FIELD,
    MAX_NOTES,
    MAX_TITLE,
    BookingChanges,
    BookingError,
    BookingRequest,
    BookingService,
    check_times,
    offered_start,
    parse_attendees,
)
from bot.services.parsing import local_to_utc, parse_date, parse_number, parse_phone, parse_time
from bot.services.strict import clean_text, parse_day
from bot.services.types import BookingStatus, RoomOffer
from bot.site import DetailKind, Role
from storage.database import Database

log = logging.getLogger(__name__)

COMMON_STARTS = (
    "08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00",
    "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30",
)  # fmt: skip
DURATIONS = (30, 60, 90, 120, 180, 240)
QUICK_COUNTS = (5, 10, 20, 30, 50, 100)


# ---- small helpers --------------------------------------------------------------------------
def _services(manager: DialogManager) -> BookingService:
    return manager.middleware_data["booking_service"]


def _db(manager: DialogManager) -> Database:
    return manager.middleware_data["db"]


def _hhmm(moment: time) -> str:
    return moment.strftime("%H:%M")


def _button_label(text: str, limit: int = 40) -> str:
    """Plain text for a button (buttons are not HTML): one line, short."""
    return shorten(" ".join(text.split()), limit)


async def _free_offers(manager: DialogManager) -> list[RoomOffer]:
    start, end = draft_moment(manager, "start"), draft_moment(manager, "end")
    data = draft(manager)
    if start is None or end is None:
        return []
    async with _db(manager).transaction() as session:
        return await _services(manager).free_rooms(
            session,
            start,
            end,
            int(data.get("attendees") or 1),
            exclude_booking_id=data.get("booking_id") if is_change(manager) else None,
        )


def _notice_met(manager: DialogManager, room_class: str) -> bool:
    start = draft_moment(manager, "start")
    notice = site_of(manager).room_classes[room_class].min_notice
    return start is not None and start >= clock_of(manager).now() + notice


async def _room_problem(manager: DialogManager) -> BookingError | None:
    """Why the draft's room does not suit the draft's time and count, if it does not."""
    site = site_of(manager)
    data = draft(manager)
    room = site.room(data.get("room_id") or "")
    start, end = draft_moment(manager, "start"), draft_moment(manager, "end")
    if room is None or start is None or end is None:
        return BookingError("unknown_room")
    try:
        check_times(site, room, start, end, clock_of(manager).now())
    except BookingError as error:
        return error
    if int(data.get("attendees") or 0) > room.capacity:
        return BookingError("over_capacity", capacity=room.capacity)
    if room.id not in {offer.room_id for offer in await _free_offers(manager)}:
        return BookingError("room_not_free")
    return None


# ---- a request typed in one message (bot/dialogs/free_text.py) --------------------------------
async def goto(manager: DialogManager, state: State) -> None:
    """Go to ``state``; while a typed request is completed, to the next step still needed."""
    if is_free(manager) and state != BookingSG.detail:
        state, refusal = await _next_needed(manager)
        if refusal:
            set_error(manager, refusal)
    await goto_step(manager, state)


def _required_details(manager: DialogManager) -> list[list[str]]:
    site = site_of(manager)
    queue = []
    for service_id, values in (draft(manager).get("services") or {}).items():
        service = site.service(service_id)
        for detail in service.details if service else ():
            if detail.required and values.get(detail.key) in (None, ""):
                queue.append([service_id, detail.key])
    return queue


def _end_from_length(manager: DialogManager) -> None:
    """A length said with a start ("for two hours"): the end follows, if the rules allow it."""
    data = draft(manager)
    minutes = (free_of(manager) or {}).get("minutes") or []
    start = draft_moment(manager, "start")
    if len(minutes) != 1 or start is None or data.get("end"):
        return
    end = start + timedelta(minutes=int(minutes[0]))
    zone = site_of(manager).zone
    if end.astimezone(zone).date() != start.astimezone(zone).date():
        return
    try:
        check_times(site_of(manager), None, start, end, clock_of(manager).now())
    except BookingError:
        return
    data["end"] = end.astimezone(zone).strftime("%H:%M")


def _room_refusal(manager: DialogManager, problem: BookingError) -> str:
    """Why the room the person named is not taken, as plain text (escaped where shown)."""
    reader = reader_of(manager)
    _ = reader.gettext
    room = site_of(manager).room(draft(manager).get("room_id") or "")
    name = room.name.get(reader.language) if room else ""
    if problem.code == "room_not_free":
        return _(
            "{room} is taken at that time (bookings keep a turnover time between meetings). "
            "Please choose one of the free rooms."
        ).format(room=name)
    if problem.code == "over_capacity":
        return _("{room} holds at most {capacity} people. Please choose one of the free rooms.").format(
            room=name, capacity=problem.params.get("capacity", "?")
        )
    return f"{name}: {error_text(reader, problem)}" if name else error_text(reader, problem)


async def _next_needed(manager: DialogManager) -> tuple[State, str]:
    """The first step, in the wizard's order, whose value is missing or breaks a rule, and
    why the room was refused when that is the reason; the summary once nothing is missing."""
    data = draft(manager)
    site = site_of(manager)
    if Role.dispatcher in person_of(manager).roles and not data.get("department_id"):
        return BookingSG.department, ""
    if not data.get("date"):
        return BookingSG.date, ""
    if not data.get("start"):
        return BookingSG.start, ""
    _end_from_length(manager)
    if not data.get("end"):
        return BookingSG.end, ""
    if not data.get("attendees"):
        return BookingSG.attendees, ""
    if not data.get("room_id"):
        return BookingSG.room, ""
    problem = await _room_problem(manager)
    if problem is not None:
        refusal = _room_refusal(manager, problem)
        data.pop("room_id", None)
        return BookingSG.room, refusal
    room = site.room(data["room_id"])
    assert room is not None
    if data.get("layout") not in room.layouts:
        data.pop("layout", None)
        if len(room.layouts) != 1:
            return BookingSG.layout, ""
        data["layout"] = room.layouts[0]  # nothing to ask: the room has one layout
    if not data.get("level"):
        return BookingSG.level, ""
    queue = _required_details(manager)
    if queue:
        data["detail_queue"] = queue
        data["detail_pos"] = 0
        return BookingSG.detail, ""
    for key, state in (
        ("title", BookingSG.title),
        ("contact_name", BookingSG.contact),
        ("contact_phone", BookingSG.phone),
    ):
        if not data.get(key):
            return state, ""
    if "confidential" not in data:
        return BookingSG.confidential, ""
    return BookingSG.summary, ""


def _first_checks(manager: DialogManager) -> list[str]:
    """The values read from the message that the wizard would refuse: dropped (to be asked),
    each with the wizard's own message (plain text)."""
    data = draft(manager)
    reader = reader_of(manager)
    site = site_of(manager)
    now = clock_of(manager).now()
    today = today_of(manager)
    refusals = []
    day = draft_day(manager)
    if day is not None and (day < today or day > today + timedelta(days=MAX_ADVANCE.days)):
        refusals.append(error_text(reader, BookingError("past_date" if day < today else "too_far")))
        data.pop("date", None)
    start = draft_moment(manager, "start")
    if start is not None:
        room_class, notice = _least_notice(manager)
        if start < now:
            refusals.append(error_text(reader, BookingError("in_past")))
            data.pop("start", None)
        elif start < now + notice:
            refusals.append(
                error_text(
                    reader,
                    BookingError("too_early", earliest=offered_start(now, notice), room_class=room_class),
                )
            )
            data.pop("start", None)
    start, end = draft_moment(manager, "start"), draft_moment(manager, "end")
    if start is not None and end is not None:
        try:
            check_times(site, None, start, end, now)
        except BookingError as error:
            refusals.append(error_text(reader, error))
            data.pop("end", None)
    largest = _services(manager).largest_capacity()
    if int(data.get("attendees") or 0) > largest:
        refusals.append(error_text(reader, BookingError("no_room_big_enough", capacity=largest)))
        data.pop("attendees", None)
    return refusals


def _steps_to_ask(manager: DialogManager) -> list[str]:
    """What the wizard will still ask, for the first message (the room check is done)."""
    data = draft(manager)
    site = site_of(manager)
    free = free_of(manager) or {}
    asks = []
    if Role.dispatcher in person_of(manager).roles and not data.get("department_id"):
        asks.append("department")
    for key in ("date", "start"):
        if not data.get(key):
            asks.append(key)
    if not data.get("end") and not (len(free.get("minutes") or []) == 1 and not data.get("start")):
        asks.append("end")
    for key, step in (("attendees", "attendees"), ("room_id", "room")):
        if not data.get(key):
            asks.append(step)
    room = site.room(data.get("room_id") or "")
    if room is None:
        if not data.get("layout"):
            asks.append("layout")
    elif data.get("layout") not in room.layouts and len(room.layouts) != 1:
        asks.append("layout")
    if not data.get("level"):
        asks.append("level")
    asks += [f"services.{service_id}.{key}" for service_id, key in _required_details(manager)]
    for key, step in (("title", "title"), ("contact_name", "contact"), ("contact_phone", "phone")):
        if not data.get(key):
            asks.append(step)
    if "confidential" not in data:
        asks.append("confidential")
    return asks


async def _start_free(manager: DialogManager) -> None:
    """Fill the draft from the message, say what was read, and open the first question."""
    data = draft(manager)
    free = free_of(manager) or {}
    data.update(free.get("read") or {})
    if free.get("confidential_asked"):
        data.pop("confidential", None)
    await _tick_services(manager)
    notes = _first_checks(manager)
    state, refusal = await _next_needed(manager)
    if refusal:
        notes.append(refusal)
    read = free.get("read") or {}
    shown = {key: data[key] for key in read if key in data and data[key] == read[key]}
    reader = reader_of(manager)
    text = understood_text(
        reader,
        values=shown,
        how=free.get("how") or {},
        declined=free.get("declined") or [],
        problems=free.get("problems") or [],
        notes=[escape(note, quote=False) for note in notes],
        asks=_steps_to_ask(manager),
    )
    await _say(manager, text)
    await manager.switch_to(state)


def _free_order(manager: DialogManager) -> list[State]:
    """The wizard's steps in order, for Back while a typed request is completed."""
    order = [BookingSG.department] if Role.dispatcher in person_of(manager).roles else []
    order += [BookingSG.date, BookingSG.start, BookingSG.end, BookingSG.attendees, BookingSG.room]
    order += [BookingSG.layout, BookingSG.level]
    if site_of(manager).services:
        order.append(BookingSG.services)
    order += [BookingSG.title, BookingSG.contact, BookingSG.phone, BookingSG.confidential, BookingSG.notes]
    return [*order, BookingSG.summary]


def _free_previous(manager: DialogManager) -> State | None:
    current = manager.current_context().state
    order = _free_order(manager)
    if current == BookingSG.detail:
        return BookingSG.services
    if current not in order:
        return None
    position = order.index(current)
    return order[position - 1] if position > 0 else None


async def _tick_services(manager: DialogManager) -> None:
    widget = manager.find("services")
    if widget is not None:
        await widget.reset_checked()
        for service_id in draft(manager).get("services") or {}:
            await widget.set_checked(service_id, True)


def guarded(handler: Callable[..., Awaitable[None]]) -> Any:
    """A rule that says no becomes a message on top of the window, which stays for a retry."""

    @wraps(handler)
    async def wrapper(event: Any, widget: Any, manager: DialogManager, *args: Any) -> None:
        try:
            await handler(event, widget, manager, *args)
        except BookingError as error:
            set_error(manager, error)

    return wrapper


def typed(
    handler: Callable[[Message, DialogManager, str], Awaitable[None]],
) -> Callable[[Message, MessageInput, DialogManager], Awaitable[None]]:
    """A MessageInput handler that receives the typed text; anything else gets a message."""

    @wraps(handler)
    async def wrapper(message: Message, widget: MessageInput, manager: DialogManager) -> None:
        text = message.text
        if text is None:  # a photo, sticker, voice message, file…: the window stays for a retry
            set_error(manager, BookingError("text_needed"))
            return
        if text.startswith("/"):
            set_error(
                manager,
                reader_of(manager).gettext(
                    "That command does not work inside the booking. Type /cancel to leave it first."
                ),
            )
            return
        try:
            await handler(message, manager, text)
        except BookingError as error:
            set_error(manager, error)

    return wrapper


async def buttons_only(message: Message, widget: MessageInput, manager: DialogManager) -> None:
    if message.text and message.text.startswith("/"):
        set_error(
            manager,
            reader_of(manager).gettext(
                "That command does not work inside the booking. Type /cancel to leave it first."
            ),
        )
        return
    set_error(manager, BookingError("use_buttons"))


def _typed_text(text: str, limit: int, *, multiline: bool = False) -> str:
    cleaned = clean_text(text, 100_000, multiline=multiline)
    if not cleaned:
        raise BookingError("text_empty")
    if len(cleaned) > limit:
        raise BookingError("text_too_long", length=len(cleaned), limit=limit)
    return cleaned


# ---- navigation buttons ---------------------------------------------------------------------
async def on_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if is_free(manager):
        previous = _free_previous(manager)
        if previous == BookingSG.services:
            await _tick_services(manager)
        if previous is not None:
            await manager.switch_to(previous)
        return
    await go_back(manager)


async def on_cancel(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    reader = reader_of(manager)
    text = (
        reader.gettext("The change was abandoned; the booking stays as it was.")
        if is_change(manager)
        else reader.gettext("Booking abandoned. Nothing was saved.")
    )
    await manager.done()
    await _say(manager, text)


async def _say(manager: DialogManager, text: str) -> None:
    bot: Bot = manager.middleware_data["bot"]
    chat = manager.middleware_data["event_chat"]
    await bot.send_message(chat.id, text)


def _has_history(data: dict[str, Any], widget: Any, manager: DialogManager) -> bool:
    if is_free(manager):
        return _free_previous(manager) is not None
    return bool(draft(manager).get("history"))


NAV = Row(
    Button(Tr("‹ Back"), id="back", on_click=on_back, when=_has_history),
    Button(Tr("✖ Cancel"), id="cancel", on_click=on_cancel),
)


# ---- the dialog's common data -----------------------------------------------------------------
def _recap(manager: DialogManager, reader: Reader) -> str:
    data = draft(manager)
    parts = []
    if data.get("department_id") and Role.dispatcher in person_of(manager).roles:
        parts.append("🏛 " + reader.department_name(data["department_id"]))
    day = draft_day(manager)
    if day is not None:
        when = reader.short_day(day)
        if data.get("start"):
            when += f" {data['start']}"
            if data.get("end"):
                when += f"–{data['end']}"
        parts.append("📅 " + when)
    if data.get("attendees"):
        parts.append("👥 " + str(data["attendees"]))
    if data.get("room_id"):
        parts.append("🏢 " + reader.room_name(data["room_id"]))
    return " · ".join(parts)


async def common_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    return {
        "error": escape(pop_error(dialog_manager), quote=False),
        "recap": _recap(dialog_manager, reader),
    }


def screen(*body: Any) -> Multi:
    """Every window: the last problem (if any), what is chosen so far, then the question."""
    return Multi(
        Format("⚠️ {error}", when="error"),
        Format("<i>{recap}</i>", when="recap"),
        *body,
        sep="\n\n",
    )


# ---- department (dispatchers only) ----------------------------------------------------------------
async def department_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    site = site_of(dialog_manager)
    readings = choices_of(dialog_manager, "department_id")
    departments = sorted(site.departments, key=lambda d: d.id not in readings)
    return {"departments": [(d.id, _button_label(d.name.get(reader.language))) for d in departments]}


@guarded
async def on_department(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    if site_of(manager).department(item) is None:
        raise BookingError("unknown_department")
    draft(manager)["department_id"] = item
    await goto(manager, BookingSG.date)


# ---- date ---------------------------------------------------------------------------------------
async def _take_day(manager: DialogManager, day_iso: str) -> None:
    day = parse_day(day_iso)
    if day is None:  # not a day the bot offered
        raise BookingError("bad_date")
    today = today_of(manager)
    if day < today:
        raise BookingError("past_date")
    if day > today + timedelta(days=MAX_ADVANCE.days):
        raise BookingError("too_far")
    data = draft(manager)
    if data.get("date") != day_iso:
        data["date"] = day_iso
    await goto(manager, BookingSG.start)


@guarded
async def on_date(callback: CallbackQuery, widget: Any, manager: DialogManager, day: Any) -> None:
    await _take_day(manager, day.isoformat())


async def date_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    """The days a typed request could mean ("next Wednesday"), offered above the calendar."""
    reader = reader_of(dialog_manager)
    today = today_of(dialog_manager)
    days = [date.fromisoformat(value) for value in choices_of(dialog_manager, "date")]
    readings = [(day.isoformat(), reader.day(day)) for day in days if day >= today]
    return {"date_choices": readings}


@guarded
async def on_date_choice(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    await _take_day(manager, item)


@typed
async def on_date_text(message: Message, manager: DialogManager, text: str) -> None:
    day = parse_date(text, today_of(manager))
    await _take_day(manager, day.isoformat())


# ---- start and end --------------------------------------------------------------------------------
async def start_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    day = draft_day(dialog_manager)
    site = site_of(dialog_manager)
    now_local = clock_of(dialog_manager).now().astimezone(site.zone)
    offered = choices_of(dialog_manager, "start") or COMMON_STARTS  # the readings of a typed request
    times = [
        value
        for value in offered
        if day is None or day != now_local.date() or value > now_local.strftime("%H:%M")
    ]
    return {
        "day": reader.day(day) if day else "",
        "times": [(value.replace(":", ""), value) for value in times],
    }


def _least_notice(manager: DialogManager) -> tuple[str, timedelta]:
    site = site_of(manager)
    used = {room.room_class for room in site.rooms}
    room_class = min(used, key=lambda name: site.room_classes[name].min_notice)
    return room_class, site.room_classes[room_class].min_notice


async def _take_start(manager: DialogManager, value: time) -> None:
    data = draft(manager)
    day = draft_day(manager)
    if day is None:
        await goto(manager, BookingSG.date)
        return
    site = site_of(manager)
    now = clock_of(manager).now()
    start = local_to_utc(site.zone, day, value)
    if start < now:
        raise BookingError("in_past")
    room_class, notice = _least_notice(manager)
    if start < now + notice:
        raise BookingError("too_early", earliest=offered_start(now, notice), room_class=room_class)
    previous = data.get("start")
    data["start"] = _hhmm(value)
    if previous != data["start"] and data.get("end") and data["end"] <= data["start"]:
        data.pop("end", None)
    await goto(manager, BookingSG.end)


@guarded
async def on_start_time(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    await _take_start(manager, parse_time(item))


@typed
async def on_start_text(message: Message, manager: DialogManager, text: str) -> None:
    await _take_start(manager, parse_time(text))


async def end_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    start_text = draft(dialog_manager).get("start") or "00:00"
    start = datetime.combine(datetime.min.date(), time.fromisoformat(start_text))
    options: list[tuple[str, str]] = []
    readings = [time.fromisoformat(value) for value in choices_of(dialog_manager, "end")]
    lengths = (free_of(dialog_manager) or {}).get("minutes") or []
    readings += [(start + timedelta(minutes=int(m))).time() for m in lengths]
    for moment in readings:  # the readings of a typed request, when there are some
        end = datetime.combine(start.date(), moment)
        if end > start and f"{end:%H%M}" not in {key for key, _label in options}:
            minutes = int((end - start).total_seconds() // 60)
            options.append((f"{end:%H%M}", f"{end:%H:%M} ({reader.duration(minutes)})"))
    for minutes in () if options else DURATIONS:
        end = start + timedelta(minutes=minutes)
        if end.date() != start.date():
            break
        label = f"{end:%H:%M} ({reader.duration(minutes)})"
        options.append((f"{end:%H%M}", label))
    return {"start": start_text, "ends": options}


async def _take_end(manager: DialogManager, value: time) -> None:
    data = draft(manager)
    if not data.get("start"):
        await goto(manager, BookingSG.start)
        return
    start = draft_moment(manager, "start")
    site = site_of(manager)
    day = draft_day(manager)
    assert start is not None and day is not None
    end = local_to_utc(site.zone, day, value)
    check_times(site, None, start, end, clock_of(manager).now())
    data["end"] = _hhmm(value)
    await after_time(manager)


async def after_time(manager: DialogManager) -> None:
    await _continue_or_recheck_room(manager, BookingSG.attendees)


async def _continue_or_recheck_room(manager: DialogManager, next_step: State) -> None:
    """Go on to ``next_step`` on a first pass; coming back from the summary, the chosen room
    must still fit the new values, or the person picks another."""
    target = hub(manager)
    if target is None:
        await goto(manager, next_step)
        return
    problem = await _room_problem(manager)
    if problem is not None:
        set_error(manager, problem)
        await goto(manager, BookingSG.room)
    else:
        await goto(manager, target)


@guarded
async def on_end_time(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    await _take_end(manager, parse_time(item))


@typed
async def on_end_text(message: Message, manager: DialogManager, text: str) -> None:
    await _take_end(manager, parse_time(text))


# ---- attendees -------------------------------------------------------------------------------------
async def attendees_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    largest = _services(dialog_manager).largest_capacity()
    offered = choices_of(dialog_manager, "attendees") or QUICK_COUNTS  # the readings of a typed request
    return {"counts": [(str(n), str(n)) for n in offered if n <= largest], "largest": largest}


async def _take_attendees(manager: DialogManager, count: int) -> None:
    largest = _services(manager).largest_capacity()
    if count > largest:
        raise BookingError("no_room_big_enough", capacity=largest)
    draft(manager)["attendees"] = count
    await _continue_or_recheck_room(manager, BookingSG.room)


@guarded
async def on_quick_count(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    await _take_attendees(manager, parse_attendees(item))


@typed
async def on_attendees_text(message: Message, manager: DialogManager, text: str) -> None:
    await _take_attendees(manager, parse_attendees(text))


# ---- room -------------------------------------------------------------------------------------------
async def room_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    _ = reader.gettext
    site = site_of(dialog_manager)
    data = draft(dialog_manager)
    offers = await _free_offers(dialog_manager)
    readings = choices_of(dialog_manager, "room_id")  # "第一会议室或接待室": those first
    offers.sort(key=lambda offer: offer.room_id not in readings)
    rooms, too_soon = [], set()
    for offer in offers:
        room = site.room(offer.room_id)
        if room is None:
            continue
        if not _notice_met(dialog_manager, offer.room_class):
            too_soon.add(offer.room_class)
            continue
        mark = "• " if offer.room_id == data.get("room_id") else ""
        label = _("{room} · class {room_class} · {capacity} people").format(
            room=room.name.get(reader.language), room_class=offer.room_class, capacity=offer.capacity
        )
        rooms.append((offer.room_id, mark + _button_label(label, 60)))
    notes = []
    now = clock_of(dialog_manager).now()
    for room_class in sorted(too_soon):
        rule = site.room_classes[room_class]
        notes.append(
            _(
                "Class {room_class} rooms need {notice} notice: the earliest start for them is {earliest}."
            ).format(
                room_class=room_class,
                notice=reader.duration(rule.min_notice_minutes),
                earliest=reader.when(offered_start(now, rule.min_notice)),
            )
        )
    start, end = draft_moment(dialog_manager, "start"), draft_moment(dialog_manager, "end")
    return {
        "rooms": rooms,
        "has_rooms": bool(rooms),
        "no_rooms": not rooms,
        "when": reader.span(start, end) if start and end else "",
        "count": data.get("attendees") or "",
        "notes": "\n".join(notes),
    }


@guarded
async def on_room(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    site = site_of(manager)
    room = site.room(item)
    if room is None:
        raise BookingError("unknown_room")
    offers = {offer.room_id for offer in await _free_offers(manager)}
    if room.id not in offers:
        raise BookingError("room_not_free")
    start = draft_moment(manager, "start")
    end = draft_moment(manager, "end")
    assert start is not None and end is not None
    check_times(site, room, start, end, clock_of(manager).now())
    data = draft(manager)
    data["room_id"] = room.id
    target = hub(manager)
    if data.get("layout") in room.layouts:
        if target is not None:
            await goto(manager, target)
            return
    else:
        data.pop("layout", None)
    await goto(manager, BookingSG.layout)


# ---- layout and reception level --------------------------------------------------------------------
async def layout_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    site = site_of(dialog_manager)
    room = site.room(draft(dialog_manager).get("room_id") or "")
    items = []
    readings = choices_of(dialog_manager, "layout")
    for layout_id in sorted(room.layouts, key=lambda item: item not in readings) if room else ():
        layout = site.layout(layout_id)
        if layout is None:
            continue
        label = layout.name.get(reader.language)
        if layout.needs_approval:
            label += " · " + reader.gettext("needs approval")
        items.append((layout.id, _button_label(label)))
    return {"layouts": items, "room": reader.room_name(room.id) if room else ""}


@guarded
async def on_layout(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    site = site_of(manager)
    room = site.room(draft(manager).get("room_id") or "")
    if room is None:
        await goto(manager, BookingSG.room)
        return
    if item not in room.layouts:
        raise BookingError("layout_not_supported")
    draft(manager)["layout"] = item
    target = hub(manager)
    await goto(manager, target or BookingSG.level)


async def level_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"levels": [(str(level), str(level)) for level in (1, 2, 3, 4)]}


@guarded
async def on_level(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    if item not in ("1", "2", "3", "4"):
        raise BookingError("bad_level")
    draft(manager)["level"] = int(item)
    if site_of(manager).services:
        await _enter_services(manager)
    else:
        await goto(manager, hub(manager) or BookingSG.title)


# ---- services and their details ---------------------------------------------------------------------
async def _enter_services(manager: DialogManager) -> None:
    """Show the services window with the draft's services ticked."""
    await _tick_services(manager)
    await goto(manager, BookingSG.services)


async def services_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    return {
        "services": [
            (service.id, _button_label(service.name.get(reader.language), 24))
            for service in site_of(dialog_manager).services
        ]
    }


def _detail_queue(manager: DialogManager) -> list[list[str]]:
    site = site_of(manager)
    queue = []
    for service_id in draft(manager).get("services") or {}:
        service = site.service(service_id)
        if service is not None:
            queue += [[service.id, detail.key] for detail in service.details]
    return queue


@guarded
async def on_services_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    site = site_of(manager)
    widget = manager.find("services")
    chosen = set(widget.get_checked()) if widget is not None else set()
    previous: dict[str, dict[str, Any]] = draft(manager).get("services") or {}
    services = {}
    for service in site.services:  # the site's order, whatever order they were ticked in
        if service.id in chosen:
            keys = {detail.key for detail in service.details}
            services[service.id] = {k: v for k, v in previous.get(service.id, {}).items() if k in keys}
    data = draft(manager)
    data["services"] = services
    queue = _detail_queue(manager)
    data["detail_queue"] = queue
    if queue:
        await goto(manager, BookingSG.detail)
        data["detail_pos"] = 0
    else:
        await after_details(manager)


async def after_details(manager: DialogManager) -> None:
    await goto(manager, hub(manager) or BookingSG.title)


def _current_detail(manager: DialogManager) -> tuple[Any, Any] | None:
    data = draft(manager)
    queue = data.get("detail_queue") or []
    position = int(data.get("detail_pos") or 0)
    if not 0 <= position < len(queue):
        return None
    service = site_of(manager).service(queue[position][0])
    if service is None:
        return None
    detail = next((d for d in service.details if d.key == queue[position][1]), None)
    return (service, detail) if detail is not None else None


async def detail_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    _ = reader.gettext
    current = _current_detail(dialog_manager)
    if current is None:
        return {
            "service": "",
            "label": "",
            "hint": "",
            "current": "",
            "current_button": "",
            "skip": False,
            "default": "",
            "has_default": False,
        }
    service, detail = current
    value = (draft(dialog_manager).get("services") or {}).get(service.id, {}).get(detail.key)
    if detail.kind == DetailKind.number:
        if detail.min is not None and detail.max is not None:
            hint = _("Type a number from {minimum} to {maximum}.").format(
                minimum=detail.min, maximum=detail.max
            )
        else:
            hint = _("Type a number.")
    else:
        hint = _("Type the text (at most {limit} characters).").format(limit=MAX_DETAIL)
    return {
        "service": escape(service.name.get(reader.language)),
        "label": escape(detail.label.get(reader.language)),
        "hint": hint,
        "current": user_text(str(value), 300) if value not in (None, "") else "",
        "current_button": _button_label(str(value), 30) if value not in (None, "") else "",
        "skip": not detail.required,
        "default": str(detail.default) if detail.default is not None else "",
        "has_default": detail.default is not None and value in (None, ""),
    }


async def _store_detail(manager: DialogManager, value: Any) -> None:
    current = _current_detail(manager)
    data = draft(manager)
    if current is not None:
        service, detail = current
        services = data.setdefault("services", {})
        values = services.setdefault(service.id, {})
        if value is None:
            values.pop(detail.key, None)
        else:
            values[detail.key] = value
    position = int(data.get("detail_pos") or 0) + 1
    if position < len(data.get("detail_queue") or []):
        await goto(manager, BookingSG.detail)
        data["detail_pos"] = position
    else:
        await after_details(manager)


@typed
async def on_detail_text(message: Message, manager: DialogManager, text: str) -> None:
    current = _current_detail(manager)
    if current is None:
        await after_details(manager)
        return
    _, detail = current
    if detail.kind == DetailKind.number:
        value: Any = parse_number(text, detail.min, detail.max)
    else:
        value = _typed_text(text, MAX_DETAIL, multiline=True)
    await _store_detail(manager, value)


@guarded
async def on_detail_skip(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    current = _current_detail(manager)
    if current is not None and current[1].required:
        raise BookingError("text_empty")
    await _store_detail(manager, None)


@guarded
async def on_detail_default(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    current = _current_detail(manager)
    await _store_detail(manager, current[1].default if current else None)


@guarded
async def on_detail_keep(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    current = _current_detail(manager)
    if current is None:
        await after_details(manager)
        return
    service, detail = current
    value = (draft(manager).get("services") or {}).get(service.id, {}).get(detail.key)
    await _store_detail(manager, value)


# ---- title, contact, phone, confidential, notes -------------------------------------------------------
def _keep_getter(key: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
        value = draft(dialog_manager).get(key) or ""
        person = person_of(dialog_manager)
        return {
            "current": _button_label(value, 30) if value else "",
            "my_name": _button_label(person.name, 30),
            "title_limit": MAX_TITLE,
        }

    return getter


def _keeper(next_step: Callable[[DialogManager], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    async def keep(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
        await next_step(manager)

    return keep


async def _to_contact(manager: DialogManager) -> None:
    await goto(manager, BookingSG.contact)


async def _to_phone(manager: DialogManager) -> None:
    await goto(manager, BookingSG.phone)


async def _to_confidential(manager: DialogManager) -> None:
    await goto(manager, BookingSG.confidential)


async def _to_summary(manager: DialogManager) -> None:
    await goto(manager, BookingSG.summary)


@typed
async def on_title(message: Message, manager: DialogManager, text: str) -> None:
    draft(manager)["title"] = _typed_text(text, MAX_TITLE)
    await _to_contact(manager)


@typed
async def on_contact(message: Message, manager: DialogManager, text: str) -> None:
    draft(manager)["contact_name"] = _typed_text(text, MAX_FIELD)
    await _to_phone(manager)


async def on_my_name(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    draft(manager)["contact_name"] = clean_text(person_of(manager).name, MAX_FIELD)
    await _to_phone(manager)


@typed
async def on_phone(message: Message, manager: DialogManager, text: str) -> None:
    draft(manager)["contact_phone"] = parse_phone(text)
    await _to_confidential(manager)


async def on_confidential_yes(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    draft(manager)["confidential"] = True
    await goto(manager, BookingSG.notes)


async def on_confidential_no(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    draft(manager)["confidential"] = False
    await goto(manager, BookingSG.notes)


@typed
async def on_notes(message: Message, manager: DialogManager, text: str) -> None:
    draft(manager)["notes"] = _typed_text(text, MAX_NOTES, multiline=True)
    await _to_summary(manager)


async def on_no_notes(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    draft(manager)["notes"] = ""
    await _to_summary(manager)


# ---- summary and confirmation ------------------------------------------------------------------------
def _needs_approval(manager: DialogManager) -> bool:
    site = site_of(manager)
    data = draft(manager)
    room = site.room(data.get("room_id") or "")
    layout = site.layout(data.get("layout") or "")
    if room is None:
        return False
    return site.room_class_of(room).needs_approval or bool(layout and layout.needs_approval)


async def summary_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    marks = summary_marks(draft(dialog_manager)) if is_free(dialog_manager) else {}
    try:
        summary = booking_summary(
            reader, draft_view(dialog_manager), with_status=False, limit=3500, marks=marks
        )
    except (AssertionError, ValueError, KeyError):
        summary = ""
    return {
        "summary": summary,
        "needs_approval": _needs_approval(dialog_manager),
        "marked": bool(marks),
    }


def _missing_step(manager: DialogManager) -> Any:
    """The first step whose value the draft lacks (a stale Confirm of an unfinished draft)."""
    data = draft(manager)
    for key, state in (
        ("department_id", BookingSG.department),
        ("date", BookingSG.date),
        ("start", BookingSG.start),
        ("end", BookingSG.end),
        ("attendees", BookingSG.attendees),
        ("room_id", BookingSG.room),
        ("layout", BookingSG.layout),
        ("level", BookingSG.level),
        ("title", BookingSG.title),
        ("contact_name", BookingSG.contact),
        ("contact_phone", BookingSG.phone),
    ):
        if not data.get(key):
            return state
    return None


_ROUTE_BY_ERROR = {
    "slot_taken": BookingSG.room,
    "room_not_free": BookingSG.room,
    "unknown_room": BookingSG.room,
    "too_early": BookingSG.date,
    "in_past": BookingSG.date,
    "too_far": BookingSG.date,
    "end_before_start": BookingSG.start,
    "too_long": BookingSG.start,
    "over_capacity": BookingSG.attendees,
    "attendees_too_few": BookingSG.attendees,
    "attendees_absurd": BookingSG.attendees,
    "layout_not_supported": BookingSG.layout,
    "title_missing": BookingSG.title,
    "unknown_department": BookingSG.department,
}


async def _route_error(manager: DialogManager, error: BookingError) -> None:
    """Show a refusal on the step that can put it right, then come back to the summary."""
    set_error(manager, error)
    state = _ROUTE_BY_ERROR.get(error.code)
    if state is None:
        return
    if not is_change(manager):
        draft(manager)["return_to"] = "summary"
    await goto(manager, state)


async def on_confirm(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    missing = _missing_step(manager)
    if missing is not None:
        set_error(manager, reader_of(manager).gettext("Some answers are missing; please complete this step."))
        await goto(manager, missing)
        return
    person = person_of(manager)
    data = draft(manager)
    start, end = draft_moment(manager, "start"), draft_moment(manager, "end")
    assert start is not None and end is not None
    if not person.can_book:
        set_error(manager, BookingError("not_allowed"))
        return
    department = data["department_id"] if Role.dispatcher in person.roles else person.department_id
    request = BookingRequest(
        department_id=department or "",
        requester_id=person.user_id,  # a dispatcher's phone booking: the dispatcher is the requester
        booked_by_id=person.user_id,
        room_id=data["room_id"],
        start=start,
        end=end,
        attendees=int(data["attendees"]),
        layout=data["layout"],
        reception_level=int(data["level"]),
        title=data["title"],
        contact_name=data["contact_name"],
        contact_phone=data["contact_phone"],
        confidential=bool(data.get("confidential")),
        notes=data.get("notes") or "",
        services=dict(data.get("services") or {}),
    )
    delivery: NoticeDelivery = manager.middleware_data["delivery"]
    try:
        async with _db(manager).transaction() as session:
            outcome = await _services(manager).create(session, request)
            await delivery.deliver(session, outcome.notices)
    except BookingError as error:
        await _route_error(manager, error)
        return
    reader = reader_of(manager)
    view = outcome.booking
    if view.status == BookingStatus.pending:
        heading = reader.gettext(
            "⏳ Booking #{number} is saved and waits for the approver. You will be told the outcome."
        ).format(number=view.id)
    else:
        heading = reader.gettext("✅ Booked! Booking #{number} is confirmed.").format(number=view.id)
    await manager.done()
    await _say(manager, booking_summary(reader, view, heading=heading))


# ---- change mode -----------------------------------------------------------------------------------
async def change_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    _ = reader.gettext
    data = draft(dialog_manager)
    original = data.get("original") or {}
    changed = changed_fields(dialog_manager)
    lines = []
    zone = site_of(dialog_manager).zone
    if {"date", "start", "end"} & set(changed):

        def span(values: dict[str, Any]) -> str:
            day = date.fromisoformat(values["date"])
            return reader.span(
                local_to_utc(zone, day, time.fromisoformat(values["start"])),
                local_to_utc(zone, day, time.fromisoformat(values["end"])),
            )

        lines.append(_("Time: {old} → {new}").format(old=span(original), new=span(data)))
    if "room_id" in changed:
        lines.append(
            _("Room: {old} → {new}").format(
                old=reader.room_name(original["room_id"]), new=reader.room_name(data["room_id"])
            )
        )
    if "attendees" in changed:
        lines.append(_("Attendees: {old} → {new}").format(old=original["attendees"], new=data["attendees"]))
    if "layout" in changed:
        lines.append(
            _("Layout: {old} → {new}").format(
                old=reader.layout_name(original["layout"]), new=reader.layout_name(data["layout"])
            )
        )
    if "services" in changed:

        def names(services: dict[str, Any]) -> str:
            return "、".join(reader.service_name(s) for s in services) or _("none")

        lines.append(
            _("Services: {old} → {new}").format(
                old=names(original.get("services") or {}), new=names(data.get("services") or {})
            )
        )
    try:
        summary = booking_summary(reader, draft_view(dialog_manager), with_status=False, limit=2800)
    except (AssertionError, ValueError, KeyError):
        summary = ""
    return {
        "number": data.get("booking_id", ""),
        "summary": summary,
        "changes": "\n".join(lines),
        "has_changes": bool(lines),
        "needs_approval": _needs_approval(dialog_manager)
        and bool(
            {"date", "start", "end", "room_id", "layout"} & set(changed)
            or data.get("status") == BookingStatus.pending.value
        ),
    }


async def on_change_time(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await goto(manager, BookingSG.date)


async def on_change_room(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await goto(manager, BookingSG.room)


async def on_change_attendees(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await goto(manager, BookingSG.attendees)


async def on_change_layout(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await goto(manager, BookingSG.layout)


async def on_change_services(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _enter_services(manager)


async def on_change_confirm(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    data = draft(manager)
    changed = set(changed_fields(manager))
    if not changed:
        set_error(manager, BookingError("nothing_changed"))
        return
    start, end = draft_moment(manager, "start"), draft_moment(manager, "end")
    changes = BookingChanges(
        start=start if {"date", "start"} & changed else None,
        end=end if {"date", "end"} & changed else None,
        room_id=data["room_id"] if "room_id" in changed else None,
        attendees=int(data["attendees"]) if "attendees" in changed else None,
        layout=data["layout"] if "layout" in changed else None,
        services=dict(data.get("services") or {}) if "services" in changed else None,
    )
    person = person_of(manager)
    delivery: NoticeDelivery = manager.middleware_data["delivery"]
    try:
        async with _db(manager).transaction() as session:
            outcome = await _services(manager).change(
                session, int(data["booking_id"]), person.user_id, person.department_id, changes
            )
            await delivery.deliver(session, outcome.notices)
    except BookingError as error:
        if error.code in ("not_found", "not_allowed", "cannot_change", "changed_meanwhile"):
            reader = reader_of(manager)
            await manager.done()
            await _say(manager, escape(error_text(reader, error), quote=False))
            return
        await _route_error(manager, error)
        return
    reader = reader_of(manager)
    view = outcome.booking
    if view.status == BookingStatus.pending:
        heading = reader.gettext(
            "✏️ Booking #{number} is changed and waits for the approver again. You will be told the outcome."
        ).format(number=view.id)
    else:
        heading = reader.gettext("✏️ Booking #{number} is changed.").format(number=view.id)
    await manager.done()
    await _say(manager, booking_summary(reader, view, heading=heading))


async def on_start(start_data: Any, manager: DialogManager) -> None:
    data = draft(manager)
    start_data = start_data if isinstance(start_data, dict) else {}
    data["mode"] = start_data.get("mode", NEW)
    data["history"] = []
    if data["mode"] == CHANGE:
        booking_id = int(start_data["booking_id"])
        async with _db(manager).transaction() as session:
            view = await _services(manager).get(session, booking_id)
        if view is None:
            data["mode"] = NEW
            return
        fill_from_view(manager, view)
        widget = manager.find("services")
        if widget is not None:
            await widget.reset_checked()
            for service_id in view.services:
                await widget.set_checked(service_id, True)
    else:
        data["department_id"] = start_data.get("department_id")
        data["confidential"] = False
        if isinstance(start_data.get(FREE), dict):
            data[FREE] = start_data[FREE]
            await _start_free(manager)


# ---- windows ----------------------------------------------------------------------------------------
def _choice(widget_id: str, items: str, on_click: Any) -> Select[str]:
    """One button per ``(id, label)`` pair of the getter's ``items``."""
    return Select(
        Format("{item[1]}"),
        id=widget_id,
        item_id_getter=lambda item: item[0],
        items=items,
        on_click=on_click,
    )


def _step(
    *widgets: Any,
    state: State,
    getter: Callable[..., Awaitable[dict[str, Any]]] | None = None,
    on_text: Callable[[Message, MessageInput, DialogManager], Awaitable[None]] = buttons_only,
) -> Window:
    """A step of the wizard: its widgets, then ‹ Back / ✖ Cancel; what is typed there goes to ``on_text``."""
    return Window(*widgets, NAV, MessageInput(on_text), state=state, getter=getter)


booking_dialog = Dialog(
    _step(
        screen(Tr("Which department is this booking for?")),
        Column(_choice("department", "departments", on_department)),
        state=BookingSG.department,
        getter=department_getter,
    ),
    _step(
        screen(
            Tr("📅 Which day is the meeting? Choose it on the calendar, or type a date such as 2026-12-03.")
        ),
        Column(
            _choice("date_choice", "date_choices", on_date_choice),
            when="date_choices",
        ),
        SiteCalendar(id="calendar", on_click=on_date),
        state=BookingSG.date,
        getter=date_getter,
        on_text=on_date_text,
    ),
    _step(
        screen(Tr("🕘 {day}: when does the meeting start? Choose a time, or type one such as 9:30 or 1430.")),
        Group(
            _choice("start", "times", on_start_time),
            width=4,
        ),
        state=BookingSG.start,
        getter=start_getter,
        on_text=on_start_text,
    ),
    _step(
        screen(Tr("🕔 It starts at {start}. When does it end? Choose, or type a time such as 11:30.")),
        Group(
            _choice("end", "ends", on_end_time),
            width=2,
        ),
        state=BookingSG.end,
        getter=end_getter,
        on_text=on_end_text,
    ),
    _step(
        screen(Tr("👥 How many people will attend? Type the number (the largest room holds {largest}).")),
        Group(
            _choice("count", "counts", on_quick_count),
            width=6,
        ),
        state=BookingSG.attendees,
        getter=attendees_getter,
        on_text=on_attendees_text,
    ),
    _step(
        screen(
            Tr("🏢 Rooms free on {when} for {count} people:", when="has_rooms"),
            Tr(
                "No room is free on {when} for {count} people. Go back to choose another time or number.",
                when="no_rooms",
            ),
            Format("{notes}", when="notes"),
        ),
        Column(_choice("room", "rooms", on_room)),
        state=BookingSG.room,
        getter=room_getter,
    ),
    _step(
        screen(Tr("🪑 How should {room} be set up?")),
        Column(_choice("layout", "layouts", on_layout)),
        state=BookingSG.layout,
        getter=layout_getter,
    ),
    _step(
        screen(
            Tr(
                "⭐ Reception level? Levels 1 and 2: the teams are on site 90 minutes before the start; "
                "levels 3 and 4: 30 minutes before."
            )
        ),
        Row(_choice("level", "levels", on_level)),
        state=BookingSG.level,
        getter=level_getter,
    ),
    _step(
        screen(Tr("🧾 Which services do you need? Tap to tick them, then press Done.")),
        Group(
            Multiselect(
                Format("✅ {item[1]}"),
                Format("▫️ {item[1]}"),
                id="services",
                item_id_getter=lambda item: item[0],
                items="services",
            ),
            width=2,
        ),
        Button(Tr("Done ›"), id="services_done", on_click=on_services_done),
        state=BookingSG.services,
        getter=services_getter,
    ),
    _step(
        screen(
            Format("<b>{service}</b> — {label}"),
            Format("{hint}"),
            Tr("Now: {current}", when="current"),
        ),
        Row(
            Button(
                Tr("Keep “{current_button}”"),
                id="detail_keep",
                on_click=on_detail_keep,
                when="current_button",
            ),
            Button(Tr("Use {default}"), id="detail_default", on_click=on_detail_default, when="has_default"),
            Button(Tr("Skip"), id="detail_skip", on_click=on_detail_skip, when="skip"),
        ),
        state=BookingSG.detail,
        getter=detail_getter,
        on_text=on_detail_text,
    ),
    _step(
        screen(Tr("✏️ Type the title of the meeting (at most {title_limit} characters).")),
        Button(Tr("Keep “{current}”"), id="keep", on_click=_keeper(_to_contact), when="current"),
        state=BookingSG.title,
        getter=_keep_getter("title"),
        on_text=on_title,
    ),
    _step(
        screen(Tr("👤 Who is the contact person? Type a name, or use yours.")),
        Button(Format("👤 {my_name}"), id="my_name", on_click=on_my_name),
        Button(Tr("Keep “{current}”"), id="keep", on_click=_keeper(_to_phone), when="current"),
        state=BookingSG.contact,
        getter=_keep_getter("contact_name"),
        on_text=on_contact,
    ),
    _step(
        screen(Tr("📞 Type the contact phone number.")),
        Button(Tr("Keep “{current}”"), id="keep", on_click=_keeper(_to_confidential), when="current"),
        state=BookingSG.phone,
        getter=_keep_getter("contact_phone"),
        on_text=on_phone,
    ),
    _step(
        screen(
            Tr(
                "🔒 Is the meeting confidential? Staff teams then see the room, time and tasks, "
                "but not the title, organising unit or notes."
            )
        ),
        Row(
            Button(Tr("Yes, confidential"), id="confidential_yes", on_click=on_confidential_yes),
            Button(Tr("No"), id="confidential_no", on_click=on_confidential_no),
        ),
        state=BookingSG.confidential,
    ),
    _step(
        screen(Tr("🗒 Any notes for the service centre? Type them, or press “No notes”.")),
        Button(Tr("No notes"), id="no_notes", on_click=on_no_notes),
        Button(Tr("Keep “{current}”"), id="keep", on_click=_keeper(_to_summary), when="current"),
        state=BookingSG.notes,
        getter=_keep_getter("notes"),
        on_text=on_notes,
    ),
    _step(
        Format("⚠️ {error}", when="error"),
        Tr("<b>Please check your booking:</b>"),
        Format("{summary}"),
        Tr("✓ read from your message · ≈ my reading of it, please check", when="marked"),
        Tr(
            "This room or layout needs the approver's consent: the booking will wait for approval.",
            when="needs_approval",
        ),
        Button(Tr("✅ Confirm"), id="confirm", on_click=on_confirm),
        state=BookingSG.summary,
        getter=summary_getter,
    ),
    _step(
        Format("⚠️ {error}", when="error"),
        Tr("<b>Change booking #{number}</b>"),
        Format("{summary}"),
        Tr("<b>Your changes:</b>", when="has_changes"),
        Format("{changes}", when="has_changes"),
        Tr("After this change the booking needs the approver's consent again.", when="needs_approval"),
        Tr("What would you like to change?"),
        Row(
            Button(Tr("🕘 Time"), id="change_time", on_click=on_change_time),
            Button(Tr("🏢 Room"), id="change_room", on_click=on_change_room),
        ),
        Row(
            Button(Tr("👥 Attendees"), id="change_count", on_click=on_change_attendees),
            Button(Tr("🪑 Layout"), id="change_layout", on_click=on_change_layout),
        ),
        Button(Tr("🧾 Services"), id="change_services", on_click=on_change_services),
        Button(Tr("✅ Save the changes"), id="change_save", on_click=on_change_confirm, when="has_changes"),
        state=BookingSG.change,
        getter=change_getter,
    ),
    on_start=on_start,
    getter=common_getter,
)
