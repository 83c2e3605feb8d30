"""The booking rules as the wizard applies them to its draft, step by step.

The final word is BookingService.create/change inside one transaction; these checks only
spare the person a refusal at the end by asking again where a value no longer fits.
"""

from __future__ import annotations

from datetime import timedelta

from aiogram_dialog import DialogManager

from bot.dialogs.booking.draft import BookingDraft
from bot.dialogs.dependencies import booking_service_of, clock_of, database_of, site_of
from bot.render.text import shorten
from bot.services.booking import BookingError, check_times
from bot.services.types import RoomOffer
from bot.site import ServiceDetail, ServiceItem


def button_label(text: str, limit: int = 40) -> str:
    """Plain text for a button (buttons are not HTML): one line, short."""
    return shorten(" ".join(text.split()), limit)


async def free_offers(manager: DialogManager, draft: BookingDraft) -> list[RoomOffer]:
    """The rooms free for the draft's time and count (change mode: its own booking aside)."""
    zone = site_of(manager).zone
    start, end = draft.moment(zone, "start"), draft.moment(zone, "end")
    if start is None or end is None:
        return []
    async with database_of(manager).transaction() as session:
        return await booking_service_of(manager).free_rooms(
            session,
            start,
            end,
            draft.attendees or 1,
            exclude_booking_id=draft.booking_id if draft.is_change else None,
        )


def notice_met(manager: DialogManager, draft: BookingDraft, room_class: str) -> bool:
    start = draft.moment(site_of(manager).zone, "start")
    notice = site_of(manager).room_classes[room_class].min_notice
    return start is not None and start >= clock_of(manager).now() + notice


def least_notice(manager: DialogManager) -> tuple[str, timedelta]:
    """The room class with the shortest notice, and that notice: the earliest start possible."""
    site = site_of(manager)
    used = {room.room_class for room in site.rooms}
    room_class = min(used, key=lambda name: site.room_classes[name].min_notice)
    return room_class, site.room_classes[room_class].min_notice


async def room_problem(manager: DialogManager, draft: BookingDraft) -> BookingError | None:
    """Why the draft's room does not suit the draft's time and count, if it does not."""
    site = site_of(manager)
    room = site.room(draft.room_id or "")
    start, end = draft.moment(site.zone, "start"), draft.moment(site.zone, "end")
    if room is None or start is None or end is None:
        return BookingError("unknown_room")
    try:
        check_times(site, room, start, end, clock_of(manager).now())
    except BookingError as error:
        return error
    if (draft.attendees or 0) > room.capacity:
        return BookingError("over_capacity", capacity=room.capacity)
    if room.id not in {offer.room_id for offer in await free_offers(manager, draft)}:
        return BookingError("room_not_free")
    return None


def needs_approval(manager: DialogManager, draft: BookingDraft) -> bool:
    """The draft's room class or layout waits for the approver's consent."""
    site = site_of(manager)
    room = site.room(draft.room_id or "")
    layout = site.layout(draft.layout or "")
    if room is None:
        return False
    return site.room_class_of(room).needs_approval or bool(layout and layout.needs_approval)


def required_details(manager: DialogManager, draft: BookingDraft) -> list[tuple[str, str]]:
    """The required details of the chosen services that have no value yet."""
    site = site_of(manager)
    queue = []
    for service_id, values in draft.services.items():
        service = site.service(service_id)
        for detail in service.details if service else ():
            if detail.required and values.get(detail.key) in (None, ""):
                queue.append((service_id, detail.key))
    return queue


def detail_queue(manager: DialogManager, draft: BookingDraft) -> list[tuple[str, str]]:
    """Every detail of the chosen services, in the order they are asked."""
    site = site_of(manager)
    queue = []
    for service_id in draft.services:
        service = site.service(service_id)
        if service is not None:
            queue += [(service.id, detail.key) for detail in service.details]
    return queue


def current_detail(manager: DialogManager, draft: BookingDraft) -> tuple[ServiceItem, ServiceDetail] | None:
    """The service and detail the detail step asks about now, if the queue still names one."""
    queue, position = draft.detail_queue, draft.detail_pos
    if not 0 <= position < len(queue):
        return None
    service_id, key = queue[position]
    service = site_of(manager).service(service_id)
    if service is None:
        return None
    detail = next((d for d in service.details if d.key == key), None)
    return (service, detail) if detail is not None else None
