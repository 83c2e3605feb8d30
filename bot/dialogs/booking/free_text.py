"""A booking typed in one message: the wizard's draft, filled from ``understand()``.

The wizard runs as usual on this draft, with three differences while ``draft.free`` is set
(bot/dialogs/booking/completion.py): after each answer it goes to the next step whose value is
still missing or does not pass the rules (not to the next step in line); Back goes to the
previous step of the wizard's order, so that every value read can be looked at and changed;
and windows offer the readings of an ambiguous value as buttons.

``draft.free`` (a ``FreeReading``) holds what the message said.
"""

from __future__ import annotations

import contextlib
from typing import Any

from bot.dialogs.booking.draft import BookingDraft, BookingStart, FreeReading
from bot.dialogs.booking.states import NEW
from bot.render.understood import REGISTRATION
from bot.services.booking import MAX_DETAIL, MAX_FIELD, MAX_NOTES, MAX_TITLE, BookingError
from bot.services.parsing import parse_phone
from bot.services.people import PersonContext
from bot.services.strict import clean_text
from bot.services.understanding import Confidence, Understanding
from bot.site import DetailKind, Role, SiteConfig

FREE = "free"


def _hhmm(value: Any) -> str:
    return str(value.strftime("%H:%M"))


def start_data(result: Understanding, site: SiteConfig, person: PersonContext) -> dict[str, Any]:
    """The dialog's start data for a typed request: only what the message states, checked
    against the site; everything else is left for the wizard to ask."""
    dispatcher = Role.dispatcher in person.roles
    read: dict[str, Any] = {}
    how: dict[str, str] = {}

    def take(key: str, value: Any, source: str) -> None:
        read[key] = value
        how[key] = str(result.confidence.get(source, Confidence.stated))

    if result.date is not None:
        take("date", result.date.isoformat(), "date")
    if result.start_time is not None:
        take("start", _hhmm(result.start_time), "start_time")
    if result.end_time is not None:
        take("end", _hhmm(result.end_time), "end_time")
    if result.attendees:
        take("attendees", int(result.attendees), "attendees")
    if result.room_id and site.room(result.room_id) is not None:
        take("room_id", result.room_id, "room_id")
    if result.layout and site.layout(result.layout) is not None:
        take("layout", result.layout, "layout")
    if result.reception_level in (1, 2, 3, 4):
        take("level", int(result.reception_level), "reception_level")
    title = clean_text(result.title or "", MAX_TITLE + 1)
    if title and len(title) <= MAX_TITLE:
        take("title", title, "title")
    if result.confidential is not None:
        take("confidential", bool(result.confidential), "confidential")
    notes = clean_text(result.notes or "", MAX_NOTES + 1)
    if notes and len(notes) <= MAX_NOTES:
        take("notes", notes, "notes")
    if dispatcher and result.department_id and site.department(result.department_id) is not None:
        take("department_id", result.department_id, "department_id")
    name = clean_text(result.contact_name or "", MAX_FIELD)
    if name:
        take("contact_name", name, "contact_name")
    elif not dispatcher and "contact_name" not in result.ambiguous:
        # a requester books for themself unless the message names someone else; a dispatcher
        # takes a call for someone else, so the contact is asked
        read["contact_name"] = clean_text(person.name, MAX_FIELD)
        how["contact_name"] = REGISTRATION
    if result.contact_phone:
        with contextlib.suppress(BookingError):  # not a number the wizard takes: asked
            take("contact_phone", parse_phone(result.contact_phone), "contact_phone")
    if result.recurrence is not None:
        # as the draft stores it (an unset end left out), so that it reads as unchanged
        rule = {key: value for key, value in result.recurrence.to_json().items() if value is not None}
        take("repeat", rule, "recurrence")
    services = _services(result, site)
    if services:
        read["services"] = services
        how["services"] = str(Confidence.stated)

    choices: dict[str, list[str | int]] = {}
    ambiguous = result.ambiguous
    if "date" in ambiguous:
        choices["date"] = [day.isoformat() for day in ambiguous["date"]]
    if "start_time" in ambiguous:
        choices["start"] = [_hhmm(moment) for moment in ambiguous["start_time"]]
    if "end_time" in ambiguous:
        choices["end"] = [_hhmm(moment) for moment in ambiguous["end_time"]]
    if "attendees" in ambiguous:
        choices["attendees"] = [int(count) for count in ambiguous["attendees"]]
    if "room_id" in ambiguous:
        choices["room_id"] = [room for room in ambiguous["room_id"] if site.room(room) is not None]
    if "layout" in ambiguous:
        choices["layout"] = [layout for layout in ambiguous["layout"] if site.layout(layout) is not None]
    if "department_id" in ambiguous and dispatcher:
        choices["department_id"] = [d for d in ambiguous["department_id"] if site.department(d) is not None]
    lengths = ambiguous.get("duration") or ((result.duration,) if result.duration else ())
    minutes = [int(length.total_seconds() // 60) for length in lengths]

    free = FreeReading(
        read=read,
        how=how,
        choices={key: values for key, values in choices.items() if values},
        minutes=[m for m in minutes if m > 0],
        problems=[(p.code, p.field, p.text) for p in result.problems],
        declined=[s for s in result.declined_services if site.service(s) is not None],
        confidential_asked="confidential" in ambiguous,
    )
    department = read.get("department_id") if dispatcher else person.department_id
    return BookingStart(mode=NEW, department_id=department, free=free).model_dump(mode="json")


def _services(result: Understanding, site: SiteConfig) -> dict[str, dict[str, Any]]:
    """The services said, with the details that pass the site's rules (others are asked)."""
    services: dict[str, dict[str, Any]] = {}
    for service in site.services:  # the site's order, as the wizard keeps it
        if service.id not in result.services:
            continue
        said = result.services[service.id] or {}
        kept: dict[str, Any] = {}
        for detail in service.details:
            value = said.get(detail.key)
            if value in (None, ""):
                continue
            if detail.kind == DetailKind.number:
                if isinstance(value, int) and not isinstance(value, bool):
                    low = detail.min if detail.min is not None else 0
                    high = detail.max if detail.max is not None else value
                    if low <= value <= high:
                        kept[detail.key] = value
            else:
                text = clean_text(str(value), MAX_DETAIL + 1)
                if text and len(text) <= MAX_DETAIL:
                    kept[detail.key] = text
        services[service.id] = kept
    return services


# ---- the draft while a typed request is being completed -------------------------------------
def choices_of(draft: BookingDraft, key: str) -> list[str | int]:
    """The readings of an ambiguous value that a window offers as buttons."""
    return list(draft.free.choices.get(key) or []) if draft.free else []


def summary_marks(draft: BookingDraft) -> dict[str, str]:
    """✓ before each summary line whose values are still the ones the message gave, ≈ where
    one of them was a reading (office hours, the room's only layout)."""
    if draft.free is None:
        return {}
    read, how = draft.free.read, draft.free.how
    stored = draft.stored()  # the values as the message's reading holds them
    lines = {
        "time": ("date", "start", "end"),
        "attendees": ("attendees",),
        "room": ("room_id",),
        "layout": ("layout",),
        "level": ("level",),
        "title": ("title",),
        "services": ("services",),
        "unit": ("department_id",),
        "confidential": ("confidential",),
        "contact": ("contact_phone",),
    }
    marks = {}
    for line, keys in lines.items():
        if not all(key in read and how.get(key) != REGISTRATION for key in keys):
            continue
        if any(stored.get(key) != read[key] for key in keys):
            continue
        marks[line] = "≈" if any(how.get(key) in ("assumed", "implied") for key in keys) else "✓"
    return marks
