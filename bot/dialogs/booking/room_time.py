"""The steps that say when and where: department (dispatchers), date, start, end, room."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager

from bot.dialogs.booking.checks import button_label, free_offers, least_notice, notice_met, room_problem
from bot.dialogs.booking.draft import load_draft
from bot.dialogs.booking.free_text import choices_of
from bot.dialogs.booking.navigation import goto, guarded, hub, set_error, typed
from bot.dialogs.booking.states import BookingSG
from bot.dialogs.dependencies import clock_of, reader_of, site_of, today_of
from bot.services.booking import MAX_ADVANCE, BookingError, check_times, offered_start
from bot.services.parsing import local_to_utc, parse_date, parse_time
from bot.services.strict import parse_day

COMMON_STARTS = (
    "08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00",
    "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30",
)  # fmt: skip
DURATIONS = (30, 60, 90, 120, 180, 240)


# ---- department (dispatchers only) ----------------------------------------------------------------
async def department_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    site = site_of(dialog_manager)
    readings = choices_of(load_draft(dialog_manager), "department_id")
    departments = sorted(site.departments, key=lambda d: d.id not in readings)
    return {"departments": [(d.id, button_label(d.name.get(reader.language))) for d in departments]}


@guarded
async def on_department(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    if site_of(manager).department(item) is None:
        raise BookingError("unknown_department")
    load_draft(manager).department_id = item
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
    load_draft(manager).day = day
    await goto(manager, BookingSG.start)


@guarded
async def on_date(callback: CallbackQuery, widget: Any, manager: DialogManager, day: date) -> None:
    await _take_day(manager, day.isoformat())


async def date_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    """The days a typed request could mean ("next Wednesday"), offered above the calendar."""
    reader = reader_of(dialog_manager)
    today = today_of(dialog_manager)
    days = [date.fromisoformat(str(value)) for value in choices_of(load_draft(dialog_manager), "date")]
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
    draft = load_draft(dialog_manager)
    day = draft.day
    site = site_of(dialog_manager)
    now_local = clock_of(dialog_manager).now().astimezone(site.zone)
    # the readings of a typed request, if it gave some
    offered = [str(value) for value in choices_of(draft, "start")] or COMMON_STARTS
    times = [
        value
        for value in offered
        if day is None or day != now_local.date() or value > now_local.strftime("%H:%M")
    ]
    return {
        "day": reader.day(day) if day else "",
        "times": [(value.replace(":", ""), value) for value in times],
    }


async def _take_start(manager: DialogManager, value: time) -> None:
    draft = load_draft(manager)
    if draft.day is None:
        await goto(manager, BookingSG.date)
        return
    now = clock_of(manager).now()
    start = local_to_utc(site_of(manager).zone, draft.day, value)
    if start < now:
        raise BookingError("in_past")
    room_class, notice = least_notice(manager)
    if start < now + notice:
        raise BookingError("too_early", earliest=offered_start(now, notice), room_class=room_class)
    previous = draft.start
    draft.start = value.replace(second=0, microsecond=0)
    if previous != draft.start and draft.end is not None and draft.end <= draft.start:
        draft.end = None
    await goto(manager, BookingSG.end)


@guarded
async def on_start_time(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    await _take_start(manager, parse_time(item))


@typed
async def on_start_text(message: Message, manager: DialogManager, text: str) -> None:
    await _take_start(manager, parse_time(text))


async def end_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    draft = load_draft(dialog_manager)
    start = datetime.combine(datetime.min.date(), draft.start or time(0, 0))
    options: list[tuple[str, str]] = []
    readings = [time.fromisoformat(str(value)) for value in choices_of(draft, "end")]
    lengths = draft.free.minutes if draft.free else []
    readings += [(start + timedelta(minutes=m)).time() for m in lengths]
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
    return {"start": f"{start:%H:%M}", "ends": options}


async def _take_end(manager: DialogManager, value: time) -> None:
    draft = load_draft(manager)
    site = site_of(manager)
    start = draft.moment(site.zone, "start")
    if start is None or draft.day is None:
        await goto(manager, BookingSG.start)
        return
    end = local_to_utc(site.zone, draft.day, value)
    check_times(site, None, start, end, clock_of(manager).now())
    draft.end = value.replace(second=0, microsecond=0)
    await after_time(manager)


async def after_time(manager: DialogManager) -> None:
    await continue_or_recheck_room(manager, BookingSG.attendees)


async def continue_or_recheck_room(manager: DialogManager, next_step: State) -> None:
    """Go on to ``next_step`` on a first pass; coming back from the summary, the chosen room
    must still fit the new values, or the person picks another."""
    draft = load_draft(manager)
    target = hub(draft)
    if target is None:
        await goto(manager, next_step)
        return
    problem = await room_problem(manager, draft)
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


# ---- room -------------------------------------------------------------------------------------------
async def room_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    _ = reader.gettext
    site = site_of(dialog_manager)
    draft = load_draft(dialog_manager)
    offers = await free_offers(dialog_manager, draft)
    readings = choices_of(draft, "room_id")  # "第一会议室或接待室": those first
    offers.sort(key=lambda offer: offer.room_id not in readings)
    rooms, too_soon = [], set()
    for offer in offers:
        room = site.room(offer.room_id)
        if room is None:
            continue
        if not notice_met(dialog_manager, draft, offer.room_class):
            too_soon.add(offer.room_class)
            continue
        mark = "• " if offer.room_id == draft.room_id else ""
        label = _("{room} · class {room_class} · {capacity} people").format(
            room=room.name.get(reader.language), room_class=offer.room_class, capacity=offer.capacity
        )
        rooms.append((offer.room_id, mark + button_label(label, 60)))
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
    start, end = draft.moment(site.zone, "start"), draft.moment(site.zone, "end")
    return {
        "rooms": rooms,
        "has_rooms": bool(rooms),
        "no_rooms": not rooms,
        "when": reader.span(start, end) if start and end else "",
        "count": draft.attendees or "",
        "notes": "\n".join(notes),
    }


@guarded
async def on_room(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    site = site_of(manager)
    room = site.room(item)
    if room is None:
        raise BookingError("unknown_room")
    draft = load_draft(manager)
    if room.id not in {offer.room_id for offer in await free_offers(manager, draft)}:
        raise BookingError("room_not_free")
    start, end = draft.moment(site.zone, "start"), draft.moment(site.zone, "end")
    assert start is not None and end is not None
    check_times(site, room, start, end, clock_of(manager).now())
    draft.room_id = room.id
    target = hub(draft)
    if draft.layout in room.layouts:
        if target is not None:
            await goto(manager, target)
            return
    else:
        draft.layout = None
    await goto(manager, BookingSG.layout)
