"""A booking that repeats (docs/product.md §2): how often and until when, the meetings that
cannot be booked as asked, another room for them, and Confirm for the whole series.

The summary's "🔁 Repeat…" opens the frequency (read against the meeting's day: "every
Monday", "the first Monday of each month"), then the end: a date or a number of meetings,
checked at once against the site's bounds so that a bad end is said on that window and can
be typed again. The summary then shows the series and every meeting that is taken or breaks
a rule, and offers to book the free ones and skip the rest, or to pick another room for
each of those (bot/services/series.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.booking.draft import BookingDraft, RepeatRule, booking_request, load_draft, save_draft
from bot.dialogs.booking.navigation import goto_step, say, set_error, typed
from bot.dialogs.booking.states import BookingSG
from bot.dialogs.dependencies import (
    database_of,
    delivery_of,
    reader_of,
    series_service_of,
    site_of,
    today_of,
)
from bot.render.booking import booking_summary
from bot.render.errors import error_text
from bot.render.repeat import (
    LISTED,
    frequency_text,
    plan_problem,
    problem_lines,
    series_line,
    skipped_text,
)
from bot.render.text import Reader
from bot.services.booking import BookingError, BookingRequest
from bot.services.parsing import parse_date
from bot.services.recurrence import Frequency, RecurrenceRule
from bot.services.series import OccurrencePlan
from bot.services.strict import parse_count
from bot.services.types import BookingStatus

NO_REPEAT = "none"
LAST_OF_MONTH = "monthly_last"
"""The frequency button of "the last Friday of each month", offered beside "the fourth
Friday" when the first meeting is both (bot/services/recurrence.py, ``last_of_month``)."""
QUICK_COUNTS = (4, 8, 12, 26)


def is_last_in_fourth_week(day: date) -> bool:
    """The fourth such weekday of its month that is also the last (Fri 25 Dec 2026): the
    day alone cannot tell "the fourth" from "the last", so both are offered."""
    return (day.day - 1) // 7 == 3 and (day + timedelta(days=7)).month != day.month


# ---- how often ------------------------------------------------------------------------------
async def on_repeat_open(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await goto_step(manager, BookingSG.repeat)


async def repeat_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    draft = load_draft(dialog_manager)
    options = [(NO_REPEAT, reader.gettext("No repeat"))]
    if draft.day is not None:
        for frequency in Frequency:
            options.append((frequency.value, frequency_text(reader, frequency, draft.day)))
            if frequency is Frequency.MONTHLY_WEEKDAY and is_last_in_fourth_week(draft.day):
                options.append(
                    (LAST_OF_MONTH, frequency_text(reader, frequency, draft.day, last_of_month=True))
                )
    return {"frequencies": options}


async def on_repeat(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    draft = load_draft(manager)
    draft.series_rooms = None
    draft.series_pick = None
    if item == NO_REPEAT:
        draft.repeat = None
        draft.repeat_frequency = None
        draft.repeat_last_of_month = None
        save_draft(manager, draft)
        await goto_step(manager, BookingSG.summary)
        return
    if item == LAST_OF_MONTH:
        frequency, last_of_month = Frequency.MONTHLY_WEEKDAY, True
    elif item in {frequency.value for frequency in Frequency}:
        frequency, last_of_month = Frequency(item), False
    else:  # a press the buttons never offered: stay on the choice
        return
    draft.repeat_frequency = frequency
    draft.repeat_last_of_month = last_of_month or None
    save_draft(manager, draft)
    await goto_step(manager, BookingSG.repeat_end)


def chosen_rule(
    draft: BookingDraft, *, until: date | None = None, count: int | None = None
) -> RecurrenceRule:
    """The rule of the frequency chosen and the end given."""
    return RecurrenceRule(
        draft.repeat_frequency or Frequency.WEEKLY,
        until=until,
        count=count,
        last_of_month=bool(draft.repeat_last_of_month)
        and draft.repeat_frequency is Frequency.MONTHLY_WEEKDAY,
    )


# ---- until when -----------------------------------------------------------------------------
async def repeat_end_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    draft = load_draft(dialog_manager)
    rule = chosen_rule(draft)
    return {
        "rule": frequency_text(reader, rule.frequency, draft.day, rule.last_of_month) if draft.day else "",
        "counts": [
            (str(count), reader.gettext("{count} times").format(count=count)) for count in QUICK_COUNTS
        ],
    }


async def _take_end(manager: DialogManager, rule: RecurrenceRule) -> None:
    """Check the series against the site's bounds (a bad end stays on this window), then
    back to the summary, which shows it."""
    draft = load_draft(manager)
    series_service_of(manager).occurrences(request_of(manager, draft), rule)  # raises RecurrenceError
    draft.repeat = RepeatRule(
        frequency=rule.frequency, until=rule.until, count=rule.count, last_of_month=rule.last_of_month
    )
    draft.series_rooms = None
    save_draft(manager, draft)
    await goto_step(manager, BookingSG.summary)


@typed
async def on_repeat_end_text(message: Message, manager: DialogManager, text: str) -> None:
    draft = load_draft(manager)
    count = parse_count(text.strip().rstrip("次xX× "), max_digits=4)
    if count is not None:
        await _take_end(manager, chosen_rule(draft, count=count))
        return
    try:
        until = parse_date(text, today_of(manager))
    except BookingError as error:
        if error.code == "no_such_date":
            raise
        raise BookingError("series_end_unreadable") from None
    await _take_end(manager, chosen_rule(draft, until=until))


async def on_repeat_count(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    draft = load_draft(manager)
    try:
        await _take_end(manager, chosen_rule(draft, count=int(item)))
    except BookingError as error:
        set_error(manager, error)


# ---- the series on the summary ----------------------------------------------------------------
def request_of(manager: DialogManager, draft: BookingDraft) -> BookingRequest:
    return booking_request(manager, draft)


async def plans_of(manager: DialogManager, draft: BookingDraft) -> list[OccurrencePlan]:
    """Every meeting of the draft's series, each with the rule it breaks (or ``slot_taken``)."""
    assert draft.repeat is not None
    async with database_of(manager).transaction() as session:
        return await series_service_of(manager).preview(
            session, request_of(manager, draft), draft.repeat.rule()
        )


def _complete(draft: BookingDraft) -> bool:
    return None not in (draft.day, draft.start, draft.end, draft.room_id, draft.layout, draft.level) and bool(
        draft.attendees
    )


async def series_getter(manager: DialogManager, draft: BookingDraft, reader: Reader) -> dict[str, Any]:
    """The summary's series part: the series line, the meetings with a problem, the buttons."""
    empty = {
        "series": "",
        "series_problems": "",
        "has_problems": False,
        "free_count": 0,
        "plain_confirm": True,
    }
    if draft.repeat is None or not _complete(draft):
        return {**empty, "can_repeat": True}
    try:
        plans = await plans_of(manager, draft)
    except BookingError as error:  # the bounds changed, or the time did: the end is asked again
        return {**empty, "series": f"⚠️ {error_text(reader, error)}", "can_repeat": True}
    end = plans[0].end
    troubled = [
        plan for plan in plans if plan.problem is not None and plan.index not in (draft.series_rooms or {})
    ]
    lines = problem_lines(reader, plans, draft.series_rooms or {})
    heading = (
        reader.gettext("These meetings cannot be booked as asked:")
        if any(plan.problem is not None for plan in plans)
        else ""
    )
    return {
        "series": "🔁 " + series_line(reader, draft.repeat.rule(), [plan.start for plan in plans], end),
        "series_problems": "\n".join([heading, *lines]) if lines else "",
        "has_problems": bool(troubled),
        "free_count": len(plans) - len(troubled),
        "plain_confirm": not troubled,
        "can_repeat": True,
    }


# ---- another room for the meetings that are taken ---------------------------------------------
async def on_fix(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await goto_step(manager, BookingSG.series_fix)


async def fix_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    draft = load_draft(dialog_manager)
    if draft.repeat is None or not _complete(draft):
        return {"meetings": [], "more": ""}
    plans = [plan for plan in await plans_of(dialog_manager, draft) if plan.problem is not None]
    meetings = []
    for plan in plans[:LISTED]:
        when = reader.short_span(plan.start, plan.end)
        chosen = (draft.series_rooms or {}).get(plan.index)
        label = f"✅ {when} · {reader.room_name(chosen)}" if chosen else f"⚠️ {when}"
        meetings.append((str(plan.index), label))
    more = (
        reader.gettext("… and {count} more").format(count=len(plans) - LISTED) if len(plans) > LISTED else ""
    )
    return {"meetings": meetings, "more": more}


async def on_fix_meeting(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    draft = load_draft(manager)
    draft.series_pick = int(item)
    save_draft(manager, draft)
    await goto_step(manager, BookingSG.series_room)


async def on_fix_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await goto_step(manager, BookingSG.summary)


async def _picked_plan(manager: DialogManager, draft: BookingDraft) -> OccurrencePlan | None:
    if draft.repeat is None or draft.series_pick is None or not _complete(draft):
        return None
    return next((plan for plan in await plans_of(manager, draft) if plan.index == draft.series_pick), None)


async def series_room_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    draft = load_draft(dialog_manager)
    plan = await _picked_plan(dialog_manager, draft)
    if plan is None:
        return {"when": "", "why": "", "rooms": [], "no_rooms": True}
    async with database_of(dialog_manager).transaction() as session:
        free = await series_service_of(dialog_manager).free_rooms_for(
            session, request_of(dialog_manager, draft), plan
        )
    site = site_of(dialog_manager)
    rooms = []
    for room_id in free:
        room = site.room(room_id)
        if room is None or draft.layout not in room.layouts:
            continue  # the series keeps its layout
        rooms.append((room_id, f"{reader.room_name(room_id)} · {room.capacity}"))
    return {
        "when": reader.short_span(plan.start, plan.end),
        "why": plan_problem(reader, plan) if plan.problem else "",
        "rooms": rooms,
        "no_rooms": not rooms,
    }


async def on_series_room(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    draft = load_draft(manager)
    if draft.series_pick is not None:
        draft.series_rooms = {**(draft.series_rooms or {}), draft.series_pick: item}
        draft.series_pick = None
    save_draft(manager, draft)
    await goto_step(manager, BookingSG.series_fix)


# ---- Confirm --------------------------------------------------------------------------------
async def confirm_series(manager: DialogManager, draft: BookingDraft, request: BookingRequest) -> None:
    """Book the series in one transaction: the meetings with a problem and no other room are
    skipped; the person gets what was booked and which dates were skipped."""
    assert draft.repeat is not None
    reader = reader_of(manager)
    series = series_service_of(manager)
    delivery = delivery_of(manager)
    async with database_of(manager).transaction() as session:
        plans = await series.preview(session, request, draft.repeat.rule())
        rooms = {
            index: room
            for index, room in (draft.series_rooms or {}).items()
            if any(p.index == index for p in plans)
        }
        skip = {plan.index for plan in plans if plan.problem is not None and plan.index not in rooms}
        outcome = await series.create(session, request, draft.repeat.rule(), rooms=rooms, skip=skip)
        await delivery.deliver(session, outcome.notices)
    _ = reader.gettext
    first = outcome.bookings[0]
    if any(view.status == BookingStatus.pending for view in outcome.bookings):
        heading = _("⏳ {count} meetings of the series are saved and wait for the approver.").format(
            count=len(outcome.bookings)
        )
    else:
        heading = _("✅ Booked {count} meetings of the series (bookings #{first}–#{last}).").format(
            count=len(outcome.bookings), first=first.id, last=outcome.bookings[-1].id
        )
    starts: dict[int, datetime] = {plan.index: plan.start for plan in plans}
    skipped = [reader.local(starts[index]).date() for index in outcome.skipped if index in starts]
    lines = [booking_summary(reader, first, heading=heading, limit=2500)]
    lines.append(
        "🔁 " + series_line(reader, draft.repeat.rule(), [plan.start for plan in plans], plans[0].end)
    )
    if skipped:
        lines.append(skipped_text(reader, skipped))
    await manager.done()
    await say(manager, "\n\n".join(lines))
