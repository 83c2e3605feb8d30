"""The steps that size the meeting: attendees, the room's layout, the reception level."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager

from bot.dialogs.booking.checks import button_label
from bot.dialogs.booking.draft import load_draft
from bot.dialogs.booking.free_text import choices_of
from bot.dialogs.booking.navigation import goto, guarded, hub, typed
from bot.dialogs.booking.room_time import continue_or_recheck_room
from bot.dialogs.booking.services import enter_services
from bot.dialogs.booking.states import BookingSG
from bot.dialogs.dependencies import booking_service_of, reader_of, site_of
from bot.services.booking import BookingError, parse_attendees

QUICK_COUNTS = (5, 10, 20, 30, 50, 100)
LEVELS = (1, 2, 3, 4)


# ---- attendees -------------------------------------------------------------------------------------
async def attendees_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    largest = booking_service_of(dialog_manager).largest_capacity()
    # the readings of a typed request, if it gave some
    offered = [int(n) for n in choices_of(load_draft(dialog_manager), "attendees")] or QUICK_COUNTS
    return {"counts": [(str(n), str(n)) for n in offered if n <= largest], "largest": largest}


async def _take_attendees(manager: DialogManager, count: int) -> None:
    largest = booking_service_of(manager).largest_capacity()
    if count > largest:
        raise BookingError("no_room_big_enough", capacity=largest)
    load_draft(manager).attendees = count
    await continue_or_recheck_room(manager, BookingSG.room)


@guarded
async def on_quick_count(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    await _take_attendees(manager, parse_attendees(item))


@typed
async def on_attendees_text(message: Message, manager: DialogManager, text: str) -> None:
    await _take_attendees(manager, parse_attendees(text))


# ---- layout and reception level --------------------------------------------------------------------
async def layout_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    reader = reader_of(dialog_manager)
    site = site_of(dialog_manager)
    draft = load_draft(dialog_manager)
    room = site.room(draft.room_id or "")
    items = []
    readings = choices_of(draft, "layout")
    for layout_id in sorted(room.layouts, key=lambda item: item not in readings) if room else ():
        layout = site.layout(layout_id)
        if layout is None:
            continue
        label = layout.name.get(reader.language)
        if layout.needs_approval:
            label += " · " + reader.gettext("needs approval")
        items.append((layout.id, button_label(label)))
    return {"layouts": items, "room": reader.room_name(room.id) if room else ""}


@guarded
async def on_layout(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    draft = load_draft(manager)
    room = site_of(manager).room(draft.room_id or "")
    if room is None:
        await goto(manager, BookingSG.room)
        return
    if item not in room.layouts:
        raise BookingError("layout_not_supported")
    draft.layout = item
    await goto(manager, hub(draft) or BookingSG.level)


async def level_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"levels": [(str(level), str(level)) for level in LEVELS]}


@guarded
async def on_level(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    level = next((level for level in LEVELS if str(level) == item), None)
    if level is None:
        raise BookingError("bad_level")
    draft = load_draft(manager)
    draft.level = level
    if site_of(manager).services:
        await enter_services(manager)
    else:
        await goto(manager, hub(draft) or BookingSG.title)
