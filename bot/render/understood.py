"""What the bot read in a booking typed as one message, in the reader's language.

The booking dialog fills its draft from ``understand()``; these texts tell the person what
was read (✓ stated, ≈ assumed or implied), what could not be used and why, what will still
be asked, and what a request the bot understands looks like.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from html import escape
from typing import Any

from bot.render.repeat import repeat_text
from bot.render.text import Reader, user_text
from bot.site import DetailKind

STATED, GUESSED = "✓", "≈"
REGISTRATION = "registration"  # a value taken from the person's registration, not the message
# The draft keys the first message lists, in the order of the booking summary.
_SHOWN = (
    "department_id",
    "date",
    "attendees",
    "room_id",
    "layout",
    "level",
    "title",
    "confidential",
    "contact",
)


def mark(how: str | None) -> str:
    """✓ for what was said in so many words; ≈ for a reading (office hours, the only layout)."""
    return GUESSED if how in ("assumed", "implied") else STATED


def example_request(reader: Reader) -> str:
    """A request the engine reads completely, with the site's own room and service names (plain)."""
    _ = reader.gettext
    site = reader.site
    rooms = sorted(site.rooms, key=lambda room: (room.room_class, room.capacity))
    room = next((r for r in rooms if r.capacity >= 12), rooms[0])
    service = next((s for s in site.services if not any(d.required for d in s.details)), None)
    if service is None:
        return _("tomorrow 2-4pm, {room}, 12 people").format(room=room.name.get(reader.language))
    return _("tomorrow 2-4pm, {room}, 12 people, with {service}").format(
        room=room.name.get(reader.language), service=service.name.get(reader.language)
    )


def example_line(reader: Reader) -> str:
    _ = reader.gettext
    return _("A request I understand looks like this: <i>{example}</i>").format(
        example=escape(example_request(reader), quote=False)
    )


def nothing_understood_text(reader: Reader) -> str:
    """For a message that reads like a booking request but has nothing the bot can use."""
    _ = reader.gettext
    return "\n\n".join(
        (
            _(
                "I could not find anything I can book from in your message: "
                "no date, time, room or number of people that I can read."
            ),
            _("Write the whole request in one message, for example:\n<i>{example}</i>").format(
                example=escape(example_request(reader), quote=False)
            ),
            _("Or send /book and I will ask you step by step."),
        )
    )


def problem_text(reader: Reader, code: str, field: str, said: str) -> str:
    """One thing the bot could not take from the message, said plainly."""
    _ = reader.gettext
    quoted = user_text(said, 80)
    if code == "over_capacity":
        return _("The room you named holds at most {capacity} people.").format(capacity=quoted)
    if code == "layout_not_in_room":
        return _("The room you named cannot be set up as “{layout}”.").format(layout=reader.layout_name(said))
    if code == "level_out_of_range":
        return _("The reception level must be 1, 2, 3 or 4 (you wrote {level}).").format(level=quoted)
    if code == "detail_out_of_range":
        parts = field.split(".")
        service = reader.site.service(parts[1]) if len(parts) == 3 else None
        name = escape(service.name.get(reader.language)) if service else escape(field)
        return _("{service}: {value} is more or less than can be provided.").format(
            service=name, value=quoted
        )
    if code == "two_counts" and field.startswith("services."):
        parts = field.split(".")
        return _("{service}: you gave two different numbers.").format(service=reader.service_name(parts[1]))
    messages = {
        "end_before_start": _("The end you wrote is before the start, so I took neither time."),
        "duration_conflict": _("The end time and the length you gave do not match, so I took no end time."),
        "bad_duration": _("I cannot use the length you gave for the meeting."),
        "bad_time": _("That is not a time of day I can use."),
        "am_or_pm": _("Morning or evening? I did not guess."),
        "two_times": _("You gave more than one time."),
        "two_dates": _("You gave more than one date."),
        "date_weekday_mismatch": _("The date and the weekday do not match."),
        "date_passed": _("That day has already passed this year."),
        "no_such_date": _("That date does not exist. Please check the day and the month."),
        "in_past": _("That time has already passed."),
        "too_far": _("Rooms can be booked at most one year ahead."),
        "several_days": _("One booking is for one day: please book each day on its own."),
        "recurring": _(
            "A booking can repeat weekly, every two weeks, monthly on a weekday or every working day, "
            "not this way: please say one of those, or choose “Repeat” before confirming."
        ),
        "two_counts": _("You gave more than one number of attendees."),
        "count_range": _("You gave a range of attendees; I need one number."),
        "count_vague": _("I need an exact number of attendees."),
        "two_rooms": _("You named more than one room."),
        "unknown_room": _("I do not know that room."),
        "two_levels": _("You gave more than one reception level."),
        "two_layouts": _("You gave more than one layout."),
        "two_departments": _("You named more than one department."),
        "two_phones": _("You gave more than one phone number."),
        "two_contacts": _("You gave more than one contact person."),
        "contradiction": _("You said both confidential and not confidential."),
    }
    text = messages.get(code, _("Part of your message is unclear."))
    if said and code not in ("count_range",):
        text = f"“{quoted}”{'：' if reader.zh else ': '}{text}"
    return text


def step_name(reader: Reader, step: str) -> str:
    """A question still to be asked, as a noun for the list "I still need: …"."""
    _ = reader.gettext
    names = {
        "department": _("the department"),
        "date": _("the date"),
        "start": _("the start time"),
        "end": _("the end time"),
        "attendees": _("the number of attendees"),
        "room": _("the room"),
        "layout": _("the layout"),
        "level": _("the reception level"),
        "title": _("the title"),
        "contact": _("the contact person"),
        "phone": _("the contact phone"),
        "confidential": _("whether it is confidential"),
    }
    if step.startswith("services."):
        parts = step.split(".")
        service = reader.site.service(parts[1]) if len(parts) == 3 else None
        detail = next((d for d in service.details if d.key == parts[2]), None) if service else None
        return escape(detail.label.get(reader.language)) if detail else escape(step)
    return names.get(step, escape(step))


def _when(reader: Reader, values: Mapping[str, Any]) -> str:
    day = date.fromisoformat(values["date"]) if values.get("date") else None
    start, end = values.get("start"), values.get("end")
    text = reader.day(day) if day else ""
    if start and end:
        text = f"{text} {start}–{end}".strip()
    elif start:
        text = (text + " " if text else "") + reader.gettext("from {start}").format(start=start)
    elif end:
        text = (text + " " if text else "") + reader.gettext("until {end}").format(end=end)
    return text


def _services_text(reader: Reader, services: Mapping[str, Mapping[str, Any]]) -> str:
    parts = []
    for service_id, details in services.items():
        service = reader.site.service(service_id)
        shown = []
        for detail in service.details if service else ():
            value = details.get(detail.key)
            if value in (None, ""):
                continue
            label = escape(detail.label.get(reader.language))
            text = str(value) if detail.kind == DetailKind.number else user_text(str(value), 100)
            shown.append(f"{label}: {text}")
        name = reader.service_name(service_id)
        if shown:
            name += f"（{'；'.join(shown)}）" if reader.zh else f" ({'; '.join(shown)})"
        parts.append(name)
    return ("；" if reader.zh else "; ").join(parts)


def understood_text(
    reader: Reader,
    *,
    values: Mapping[str, Any],
    how: Mapping[str, str],
    declined: Sequence[str] = (),
    problems: Sequence[Sequence[str]] = (),
    notes: Sequence[str] = (),
    asks: Sequence[str] = (),
) -> str:
    """The first answer to a typed request: what was read, what not, what comes next.

    ``values`` are the draft's values taken from the message (draft keys), ``how`` says for
    each how it was read ("stated", "assumed", "implied", "registration"); ``problems`` are
    (code, field, text) triples from ``understand``; ``notes`` are rule refusals already
    written out (escaped); ``asks`` are the steps still to ask, in order.
    """
    _ = reader.gettext
    lines: list[str] = []

    def add(key: str, text: str) -> None:
        lines.append(f"{mark(how.get(key))} {text}")

    for key in _SHOWN:
        if key == "contact":
            name, phone = values.get("contact_name"), values.get("contact_phone")
            if not name and not phone:
                continue
            if name and phone:
                text = _("Contact: {name}, {phone}").format(
                    name=user_text(name, 60), phone=user_text(phone, 60)
                )
            else:
                text = _("Contact: {name}").format(name=user_text(name or phone, 60))
            from_registration = bool(name) and how.get("contact_name") == REGISTRATION
            space = "" if reader.zh else " "
            if phone:
                suffix = space + _("(name from your registration)") if from_registration else ""
                add("contact_phone", text + suffix)
            elif from_registration:
                lines.append(f"• {text}{space}" + _("(from your registration)"))
            else:
                add("contact_name", text)
            continue
        if key == "date":
            if values.get("date") or values.get("start") or values.get("end"):
                guessed = any(how.get(k) in ("assumed", "implied") for k in ("date", "start", "end"))
                lines.append(
                    f"{GUESSED if guessed else STATED} "
                    + _("Time: {when}").format(when=_when(reader, values))
                )
            continue
        value = values.get(key)
        if value in (None, ""):
            continue
        if key == "department_id":
            add(key, _("Organising unit: {unit}").format(unit=reader.department_name(value)))
        elif key == "attendees":
            add(key, _("Attendees: {count}").format(count=value))
        elif key == "room_id":
            add(key, _("Room: {room}").format(room=reader.room_name(value)))
        elif key == "layout":
            text = _("Layout: {layout}").format(layout=reader.layout_name(value))
            if how.get(key) == "implied":
                text += ("" if reader.zh else " ") + _("(the room's only layout)")
            add(key, text)
        elif key == "level":
            add(key, _("Reception level: {level}").format(level=value))
        elif key == "title":
            add(key, _("Title: {title}").format(title=f"<b>{user_text(value, 120)}</b>"))
        elif key == "confidential" and how.get(key):
            add(key, _("Confidential: {answer}").format(answer=_("yes") if value else _("no")))
    if values.get("services"):
        add("services", _("Services: {names}").format(names=_services_text(reader, values["services"])))
    if values.get("repeat") and values.get("date"):
        add("repeat", _("Repeats: {rule}").format(rule=repeat_text(reader, values["repeat"], values["date"])))
    if declined:
        names = (
            "、".join(reader.service_name(s) for s in declined)
            if reader.zh
            else ", ".join(reader.service_name(s) for s in declined)
        )
        lines.append("✗ " + _("Not wanted: {names}").format(names=names))

    parts: list[str] = []
    if lines:
        heading = _("📝 <b>From your message I understood:</b>")
        parts.append("\n".join([heading, *lines]))
        if any(line.startswith(GUESSED) for line in lines):
            parts.append(
                _("≈ marks my reading of what you wrote (for example 2 o'clock as 14:00): please check it.")
            )
    trouble = [problem_text(reader, *problem) for problem in problems] + list(notes)
    if trouble:
        parts.append("\n".join(f"⚠️ {text}" for text in trouble))
    if problems:
        parts.append(example_line(reader))
    if asks:
        asked = [step_name(reader, step) for step in asks]
        parts.append(
            _("I still need {things}. I will ask one by one; nothing is booked until you confirm.").format(
                things=("、" if reader.zh else ", ").join(asked)
            )
        )
    else:
        parts.append(_("That is everything I need: please check the booking below and confirm it."))
    return "\n\n".join(parts)
