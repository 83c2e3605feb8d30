"""The summary and Confirm: the booking is created in one transaction, or the refusal is
shown on the step that can put it right."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.state import State
from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.booking.checks import needs_approval
from bot.dialogs.booking.draft import BookingDraft, booking_request, draft_view, load_draft
from bot.dialogs.booking.free_text import summary_marks
from bot.dialogs.booking.navigation import goto, say, set_error
from bot.dialogs.booking.repeat import confirm_series, series_getter
from bot.dialogs.booking.states import BookingSG
from bot.dialogs.dependencies import (
    booking_service_of,
    database_of,
    delivery_of,
    person_of,
    reader_of,
)
from bot.render.booking import booking_summary
from bot.services.booking import BookingError
from bot.services.types import BookingStatus


async def summary_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    draft = load_draft(dialog_manager)
    marks = summary_marks(draft)
    try:
        # a series leaves room for its meetings with a problem (a message holds 4096 characters)
        limit = 3500 if draft.repeat is None else 2000
        summary = booking_summary(
            reader, draft_view(dialog_manager, draft), with_status=False, limit=limit, marks=marks
        )
    except (ValueError, KeyError):  # an unfinished draft (a stale window): Confirm says what is missing
        summary = ""
    return {
        "summary": summary,
        "needs_approval": needs_approval(dialog_manager, draft),
        "marked": bool(marks),
        **(await series_getter(dialog_manager, draft, reader)),
    }


def _missing_step(draft: BookingDraft) -> State | None:
    """The first step whose value the draft lacks (a stale Confirm of an unfinished draft)."""
    steps: tuple[tuple[object, State], ...] = (
        (draft.department_id, BookingSG.department),
        (draft.day, BookingSG.date),
        (draft.start, BookingSG.start),
        (draft.end, BookingSG.end),
        (draft.attendees, BookingSG.attendees),
        (draft.room_id, BookingSG.room),
        (draft.layout, BookingSG.layout),
        (draft.level, BookingSG.level),
        (draft.title, BookingSG.title),
        (draft.contact_name, BookingSG.contact),
        (draft.contact_phone, BookingSG.phone),
    )
    return next((state for value, state in steps if not value), None)


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


async def route_error(manager: DialogManager, error: BookingError) -> None:
    """Show a refusal on the step that can put it right, then come back to the summary."""
    set_error(manager, error)
    state = _ROUTE_BY_ERROR.get(error.code)
    if state is None:
        return
    draft = load_draft(manager)
    if not draft.is_change:
        draft.return_to = "summary"
    await goto(manager, state)


async def on_confirm(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    draft = load_draft(manager)
    missing = _missing_step(draft)
    if missing is not None:
        set_error(manager, reader_of(manager).gettext("Some answers are missing; please complete this step."))
        await goto(manager, missing)
        return
    if not person_of(manager).can_book:
        set_error(manager, BookingError("not_allowed"))
        return
    request = booking_request(manager, draft)
    if draft.repeat is not None:
        try:
            await confirm_series(manager, draft, request)
        except BookingError as error:
            await route_error(manager, error)
        return
    delivery = delivery_of(manager)
    try:
        async with database_of(manager).transaction() as session:
            outcome = await booking_service_of(manager).create(session, request)
            await delivery.deliver(session, outcome.notices)
    except BookingError as error:
        await route_error(manager, error)
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
    await say(manager, booking_summary(reader, view, heading=heading))
