"""The room's door display in words, in one language: what the page and its JSON show.

Plain text only: the page escapes every value where it puts it (bot/ops/door_display.py on the
server, ``textContent`` in the browser), since titles are typed by people.
"""

from __future__ import annotations

from typing import Any

from bot.render.text import Reader
from bot.services.door_display import DoorMeeting, DoorState

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
"""Each language named in itself, for the switch (the same words whichever language is shown)."""


def refusal_text(read: Reader) -> str:
    _ = read.gettext
    return _("This door display link is not valid. Ask the site's administrator for the room's link.")


def _meeting(read: Reader, meeting: DoorMeeting) -> dict[str, Any]:
    _ = read.gettext
    department = read.site.department(meeting.department_id) if meeting.department_id else None
    unit = department.name.get(read.language) if department else ""
    return {
        "time": read.when_span(meeting.start, meeting.end),
        "title": meeting.title if meeting.title is not None else _("Booked"),
        "unit": unit,
        "booked_only": meeting.title is None,
        "note": _("awaiting approval") if meeting.pending else "",
    }


def door_view(read: Reader, state: DoorState) -> dict[str, Any]:
    """Everything the page shows, as plain strings (the JSON the page polls, and the first paint)."""
    _ = read.gettext
    read = read.at(state.now)
    local = read.local(state.now)
    if state.current is not None:
        assert state.busy_until is not None
        status = _("In use until {time}").format(time=read.when(state.busy_until))
    elif state.free_until is not None:
        status = _("Free until {time}").format(time=read.time(state.free_until))
    else:
        status = _("Free for the rest of the day")
    other = "en" if read.language == "zh" else "zh"
    return {
        "language": read.language,
        "title": _("{room} — door display").format(room=state.room.name.get(read.language)),
        "room": state.room.name.get(read.language),
        "date": read.day(local.date()),
        "time": f"{local:%H:%M}",
        "state": "busy" if state.current is not None else "free",
        "status": status,
        "now_label": _("Now"),
        "now": _meeting(read, state.current) if state.current is not None else None,
        "later_label": _("Later today"),
        "later": [_meeting(read, meeting) for meeting in state.later],
        "later_empty": _("No more meetings today"),
        "qr_caption": _("Scan to check in") if state.checkin is not None else _("Scan to book this room"),
        "qr_link": state.link,
        "offline": _("Connection lost, trying again…"),
        "switch_to": other,
        "switch_label": LANGUAGE_NAMES[other],
    }
