"""Completing a request typed in one message: which step the wizard asks next, and why.

While ``draft.free`` is set, each answer leads to the first step, in the wizard's order, whose
value is missing or breaks a rule (not to the next step in line), and Back walks the wizard's
order so that every value read from the message can be looked at and changed.
"""

from __future__ import annotations

from datetime import timedelta

from aiogram.fsm.state import State
from aiogram_dialog import DialogManager

from bot.dialogs.booking.checks import least_notice, required_details, room_problem
from bot.dialogs.booking.draft import BookingDraft
from bot.dialogs.booking.states import BookingSG
from bot.dialogs.dependencies import booking_service_of, clock_of, person_of, reader_of, site_of, today_of
from bot.render.errors import error_text
from bot.services.booking import MAX_ADVANCE, BookingError, check_times, offered_start
from bot.site import Role


def free_order(manager: DialogManager) -> list[State]:
    """The wizard's steps in order, for Back while a typed request is completed."""
    order = [BookingSG.department] if Role.dispatcher in person_of(manager).roles else []
    order += [BookingSG.date, BookingSG.start, BookingSG.end, BookingSG.attendees, BookingSG.room]
    order += [BookingSG.layout, BookingSG.level]
    if site_of(manager).services:
        order.append(BookingSG.services)
    order += [BookingSG.title, BookingSG.contact, BookingSG.phone, BookingSG.confidential, BookingSG.notes]
    return [*order, BookingSG.summary]


# the windows of a repeating booking, off the wizard's order: Back goes to the one they came from
_SERIES_BACK = {
    BookingSG.repeat: BookingSG.summary,
    BookingSG.repeat_end: BookingSG.repeat,
    BookingSG.series_fix: BookingSG.summary,
    BookingSG.series_room: BookingSG.series_fix,
}


def free_previous(manager: DialogManager) -> State | None:
    """The step before this one in the wizard's order (the services for a detail question)."""
    current = manager.current_context().state
    order = free_order(manager)
    if current == BookingSG.detail:
        return BookingSG.services
    if current in _SERIES_BACK:
        return _SERIES_BACK[current]
    if current not in order:
        return None
    position = order.index(current)
    return order[position - 1] if position > 0 else None


def end_from_length(manager: DialogManager, draft: BookingDraft) -> None:
    """A length said with a start ("for two hours"): the end follows, if the rules allow it."""
    minutes = draft.free.minutes if draft.free else []
    zone = site_of(manager).zone
    start = draft.moment(zone, "start")
    if len(minutes) != 1 or start is None or draft.end is not None:
        return
    end = start + timedelta(minutes=minutes[0])
    if end.astimezone(zone).date() != start.astimezone(zone).date():
        return
    try:
        check_times(site_of(manager), None, start, end, clock_of(manager).now())
    except BookingError:
        return
    draft.end = end.astimezone(zone).time().replace(second=0, microsecond=0, tzinfo=None)


def room_refusal(manager: DialogManager, draft: BookingDraft, problem: BookingError) -> str:
    """Why the room the person named is not taken, as plain text (escaped where shown)."""
    reader = reader_of(manager)
    _ = reader.gettext
    room = site_of(manager).room(draft.room_id or "")
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


async def next_needed(manager: DialogManager, draft: BookingDraft) -> tuple[State, str]:
    """The first step, in the wizard's order, whose value is missing or breaks a rule, and
    why the room was refused when that is the reason; the summary once nothing is missing."""
    site = site_of(manager)
    if Role.dispatcher in person_of(manager).roles and not draft.department_id:
        return BookingSG.department, ""
    if draft.day is None:
        return BookingSG.date, ""
    if draft.start is None:
        return BookingSG.start, ""
    end_from_length(manager, draft)
    if draft.end is None:
        return BookingSG.end, ""
    if not draft.attendees:
        return BookingSG.attendees, ""
    if not draft.room_id:
        return BookingSG.room, ""
    problem = await room_problem(manager, draft)
    if problem is not None:
        refusal = room_refusal(manager, draft, problem)
        draft.room_id = None
        return BookingSG.room, refusal
    room = site.room(draft.room_id)
    assert room is not None
    if draft.layout not in room.layouts:
        draft.layout = None
        if len(room.layouts) != 1:
            return BookingSG.layout, ""
        draft.layout = room.layouts[0]  # nothing to ask: the room has one layout
    if not draft.level:
        return BookingSG.level, ""
    queue = required_details(manager, draft)
    if queue:
        draft.detail_queue = queue
        draft.detail_pos = 0
        return BookingSG.detail, ""
    if not draft.title:
        return BookingSG.title, ""
    if not draft.contact_name:
        return BookingSG.contact, ""
    if not draft.contact_phone:
        return BookingSG.phone, ""
    if draft.confidential is None:
        return BookingSG.confidential, ""
    return BookingSG.summary, ""


def first_checks(manager: DialogManager, draft: BookingDraft) -> list[str]:
    """The values read from the message that the wizard would refuse: dropped (to be asked),
    each with the wizard's own message (plain text)."""
    reader = reader_of(manager)
    site = site_of(manager)
    now = clock_of(manager).now()
    today = today_of(manager)
    refusals = []
    day = draft.day
    if day is not None and (day < today or day > today + timedelta(days=MAX_ADVANCE.days)):
        refusals.append(error_text(reader, BookingError("past_date" if day < today else "too_far")))
        draft.day = None
    start = draft.moment(site.zone, "start")
    if start is not None:
        room_class, notice = least_notice(manager)
        if start < now:
            refusals.append(error_text(reader, BookingError("in_past")))
            draft.start = None
        elif start < now + notice:
            refusals.append(
                error_text(
                    reader,
                    BookingError("too_early", earliest=offered_start(now, notice), room_class=room_class),
                )
            )
            draft.start = None
    start, end = draft.moment(site.zone, "start"), draft.moment(site.zone, "end")
    if start is not None and end is not None:
        try:
            check_times(site, None, start, end, now)
        except BookingError as error:
            refusals.append(error_text(reader, error))
            draft.end = None
    largest = booking_service_of(manager).largest_capacity()
    if (draft.attendees or 0) > largest:
        refusals.append(error_text(reader, BookingError("no_room_big_enough", capacity=largest)))
        draft.attendees = None
    return refusals


def steps_to_ask(manager: DialogManager, draft: BookingDraft) -> list[str]:
    """What the wizard will still ask, for the first message (the room check is done)."""
    site = site_of(manager)
    minutes = draft.free.minutes if draft.free else []
    asks = []
    if Role.dispatcher in person_of(manager).roles and not draft.department_id:
        asks.append("department")
    if draft.day is None:
        asks.append("date")
    if draft.start is None:
        asks.append("start")
    if draft.end is None and not (len(minutes) == 1 and draft.start is None):
        asks.append("end")
    if not draft.attendees:
        asks.append("attendees")
    if not draft.room_id:
        asks.append("room")
    room = site.room(draft.room_id or "")
    if room is None:
        if not draft.layout:
            asks.append("layout")
    elif draft.layout not in room.layouts and len(room.layouts) != 1:
        asks.append("layout")
    if not draft.level:
        asks.append("level")
    asks += [f"services.{service_id}.{key}" for service_id, key in required_details(manager, draft)]
    if not draft.title:
        asks.append("title")
    if not draft.contact_name:
        asks.append("contact")
    if not draft.contact_phone:
        asks.append("phone")
    if draft.confidential is None:
        asks.append("confidential")
    return asks
