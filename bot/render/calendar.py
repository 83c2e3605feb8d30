"""A room's calendar in words: its name, location and each event's summary and description."""

from __future__ import annotations

from bot.render.text import Reader
from bot.services.calendar import CalendarEntry, Wording
from bot.site import Room


def calendar_wording(read: Reader, room: Room) -> Wording:
    """How a room's calendar (``/ics`` and the HTTP feed) words its events, in ``read``'s language."""
    _ = read.gettext

    def describe(entry: CalendarEntry) -> tuple[str, str]:
        state = _("awaiting approval") if entry.status == "pending" else ""
        if entry.title is None:
            summary = _("Booked")
            description = _("{count} people").format(count=entry.attendees)
        else:
            department = read.site.department(entry.department_id or "")
            unit = department.name.get(read.language) if department else (entry.department_id or "")
            summary = entry.title
            description = _("{unit}, {count} people").format(unit=unit, count=entry.attendees)
        if state:
            summary = f"{summary} ({state})"
        return summary, description

    location = room.name.get(read.language)
    if room.building:
        location = f"{location}, {room.building} {room.floor}F"
    return Wording(
        calendar_name=_("{room} — bookings").format(room=room.name.get(read.language)),
        location=location,
        describe=describe,
    )
