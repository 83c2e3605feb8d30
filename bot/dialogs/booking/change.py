"""Change mode (/my → Change): a menu of what can change (time, room, attendees, layout,
services) whose steps reuse the wizard's windows and come back to it, then one save."""

from __future__ import annotations

from datetime import date, time
from html import escape
from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button

from bot.dialogs.booking.checks import needs_approval
from bot.dialogs.booking.confirmation import route_error
from bot.dialogs.booking.draft import ChangeableValues, draft_view, load_draft
from bot.dialogs.booking.navigation import goto, say, set_error
from bot.dialogs.booking.series_change import change_series
from bot.dialogs.booking.services import enter_services
from bot.dialogs.booking.states import BookingSG
from bot.dialogs.dependencies import (
    booking_service_of,
    database_of,
    delivery_of,
    person_of,
    reader_of,
    site_of,
)
from bot.render.booking import booking_summary
from bot.render.errors import error_text
from bot.render.text import Reader
from bot.services.booking import BookingChanges, BookingError
from bot.services.parsing import local_to_utc
from bot.services.series import SeriesScope
from bot.services.types import BookingStatus

# the changes that put a booking back in the approver's hands
_APPROVAL_FIELDS = {"day", "start", "end", "room_id", "layout"}


def _lines(manager: DialogManager, reader: Reader, changed: set[str]) -> list[str]:
    """Each change as "old → new"."""
    _ = reader.gettext
    draft = load_draft(manager)
    original = draft.original or ChangeableValues()
    zone = site_of(manager).zone
    lines = []
    if {"day", "start", "end"} & changed:

        def span(day: date | None, start: time | None, end: time | None) -> str:
            if day is None or start is None or end is None:
                return "?"
            return reader.span(local_to_utc(zone, day, start), local_to_utc(zone, day, end))

        lines.append(
            _("Time: {old} → {new}").format(
                old=span(original.day, original.start, original.end),
                new=span(draft.day, draft.start, draft.end),
            )
        )
    if "room_id" in changed:
        lines.append(
            _("Room: {old} → {new}").format(
                old=reader.room_name(original.room_id or ""), new=reader.room_name(draft.room_id or "")
            )
        )
    if "attendees" in changed:
        lines.append(_("Attendees: {old} → {new}").format(old=original.attendees, new=draft.attendees))
    if "layout" in changed:
        lines.append(
            _("Layout: {old} → {new}").format(
                old=reader.layout_name(original.layout or ""), new=reader.layout_name(draft.layout or "")
            )
        )
    if "services" in changed:

        def names(services: dict[str, Any]) -> str:
            return "、".join(reader.service_name(s) for s in services) or _("none")

        lines.append(
            _("Services: {old} → {new}").format(old=names(original.services), new=names(draft.services))
        )
    return lines


async def change_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    draft = load_draft(dialog_manager)
    changed = set(draft.changed_fields())
    lines = _lines(dialog_manager, reader, changed)
    try:
        summary = booking_summary(reader, draft_view(dialog_manager, draft), with_status=False, limit=2800)
    except (ValueError, KeyError):
        summary = ""
    return {
        "number": draft.booking_id or "",
        "summary": summary,
        "changes": "\n".join(lines),
        "has_changes": bool(lines),
        "needs_approval": needs_approval(dialog_manager, draft)
        and bool(_APPROVAL_FIELDS & changed or draft.status == BookingStatus.pending),
    }


async def _lost(manager: DialogManager) -> bool:
    """A change with no booking to change ends: the booking was gone when the change began,
    or the draft could not be read (see load_draft)."""
    draft = load_draft(manager)
    if draft.is_change and draft.booking_id is not None and draft.original is not None:
        return False
    reader = reader_of(manager)
    if draft.is_change and draft.booking_id is not None:
        text = error_text(reader, BookingError("not_found"))
    else:
        text = reader.gettext(
            "The change in progress could not be read after an update of the bot. "
            "Please open the booking again from /my."
        )
    await manager.done()
    await say(manager, escape(text, quote=False))
    return True


async def on_change_time(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if not await _lost(manager):
        await goto(manager, BookingSG.date)


async def on_change_room(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if not await _lost(manager):
        await goto(manager, BookingSG.room)


async def on_change_attendees(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if not await _lost(manager):
        await goto(manager, BookingSG.attendees)


async def on_change_layout(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if not await _lost(manager):
        await goto(manager, BookingSG.layout)


async def on_change_services(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if not await _lost(manager):
        await enter_services(manager)


def _changes(manager: DialogManager, changed: set[str]) -> BookingChanges:
    draft = load_draft(manager)
    zone = site_of(manager).zone
    start, end = draft.moment(zone, "start"), draft.moment(zone, "end")
    return BookingChanges(
        start=start if {"day", "start"} & changed else None,
        end=end if {"day", "end"} & changed else None,
        room_id=draft.room_id if "room_id" in changed else None,
        attendees=draft.attendees if "attendees" in changed else None,
        layout=draft.layout if "layout" in changed else None,
        services=(
            {service: dict(values) for service, values in draft.services.items()}
            if "services" in changed
            else None
        ),
    )


async def on_change_confirm(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if await _lost(manager):
        return
    draft = load_draft(manager)
    changed = set(draft.changed_fields())
    if not changed:
        set_error(manager, BookingError("nothing_changed"))
        return
    changes = _changes(manager, changed)
    person = person_of(manager)
    booking_id = draft.booking_id
    assert booking_id is not None  # see _lost
    if draft.series_scope in (SeriesScope.following, SeriesScope.all):
        await change_series(manager, booking_id, changes, SeriesScope(draft.series_scope))
        return
    delivery = delivery_of(manager)
    try:
        async with database_of(manager).transaction() as session:
            outcome = await booking_service_of(manager).change(
                session, booking_id, person.user_id, person.department_id, changes
            )
            await delivery.deliver(session, outcome.notices)
    except BookingError as error:
        if error.code in ("not_found", "not_allowed", "cannot_change", "changed_meanwhile"):
            reader = reader_of(manager)
            await manager.done()
            await say(manager, escape(error_text(reader, error), quote=False))
            return
        await route_error(manager, error)
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
    await say(manager, booking_summary(reader, view, heading=heading))
