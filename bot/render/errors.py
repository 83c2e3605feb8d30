"""Every BookingError code as a sentence in the reader's language."""

from __future__ import annotations

from datetime import datetime

from bot.render.text import Reader
from bot.services.booking import MAX_ATTENDEES, BookingError


def status_name(reader: Reader, status: str) -> str:
    _ = reader.gettext
    names = {
        "pending": _("waiting for approval"),
        "confirmed": _("confirmed"),
        "in_progress": _("in progress"),
        "finished": _("finished"),
        "rejected": _("rejected"),
        "cancelled": _("cancelled"),
        "no_show": _("released (nobody checked in)"),
    }
    return names.get(str(status), str(status))


def error_text(reader: Reader, error: BookingError) -> str:
    """The message for a refused request; never raises, whatever the parameters hold."""
    _ = reader.gettext
    params = error.params
    code = error.code
    if code == "too_early":
        earliest = params.get("earliest")
        room_class = str(params.get("room_class", ""))
        notice_minutes = (
            reader.site.room_classes[room_class].min_notice_minutes
            if room_class in reader.site.room_classes
            else 0
        )
        when = reader.when(earliest) if isinstance(earliest, datetime) else "?"
        return _(
            "That is too soon: class {room_class} rooms must be booked {notice} ahead. "
            "The earliest possible start is {earliest}."
        ).format(room_class=room_class, notice=reader.duration(notice_minutes), earliest=when)
    if code in ("already_decided", "cannot_cancel", "cannot_change"):
        status = status_name(reader, str(params.get("status", "")))
        messages = {
            "already_decided": _("This request was already decided (it is {status} now)."),
            "cannot_cancel": _("This booking can no longer be cancelled (it is {status})."),
            "cannot_change": _("This booking can no longer be changed (it is {status})."),
        }
        return messages[code].format(status=status)
    simple = {
        "attendees_not_number": _("Please type the number of attendees as a whole number, for example 12."),
        "attendees_too_few": _("The number of attendees must be at least 1."),
        "end_before_start": _("The end time must be after the start time."),
        "in_past": _("That time has already passed. Please choose a later time."),
        "past_date": _("That day is in the past. Please choose today or a later day."),
        "too_far": _("Rooms can be booked at most one year ahead."),
        "unknown_room": _("That room is not available. Please choose one from the list."),
        "room_not_free": _("That room is no longer free at this time. Please choose another one."),
        "layout_not_supported": _("That room cannot be set up in this layout. Please choose another layout."),
        "bad_level": _("The reception level must be 1, 2, 3 or 4."),
        "unknown_department": _("That department is not known."),
        "unknown_service": _("That service item is not offered. Please choose from the list."),
        "title_missing": _("Please type a title for the meeting."),
        "slot_taken": _("Sorry, someone else has just booked that room for this time."),
        "not_found": _("That booking does not exist."),
        "not_allowed": _("You are not allowed to do that."),
        "nothing_changed": _("Nothing has been changed yet."),
        "changed_meanwhile": _("The booking was changed in the meantime. Please look at it again."),
        "withdrawn": _("The requester withdrew this request: there is nothing to decide any more."),
        "expired": _("This request was still waiting at its start and was rejected by itself."),
        "withdraw_lost": _(
            "The booking's old time can no longer be kept (taken meanwhile, or past), so the change "
            "cannot be withdrawn. Cancel the booking, or wait for the approver."
        ),
        "bad_time": _("Please type a time such as 9:00, 14:30 or 0930."),
        "bad_date": _("Please choose a day on the calendar, or type a date such as 2026-12-03."),
        "no_such_date": _("That date does not exist. Please check the day and the month."),
        "bad_phone": _(
            "Please type a phone number in digits, for example 010-6512 3456 or +86 138 0000 0000."
        ),
        "bad_number": _("Please type a whole number."),
        "text_empty": _("Please type some text."),
        "text_needed": _(
            "Please type some text: photos, stickers, voice messages and files cannot be read here."
        ),
        "digits_only": _("Please type the number with the digits 0–9, for example 12."),
        "use_buttons": _("Please use the buttons below, or type /cancel to stop."),
    }
    if code in simple:
        return simple[code]
    if code == "attendees_absurd":
        return _("More than {maximum} attendees is not possible. Please check the number.").format(
            maximum=params.get("maximum", MAX_ATTENDEES)
        )
    if code == "too_long":
        hours = params.get("hours", 16)
        return _("A booking can last at most {hours} hours.").format(hours=hours)
    if code == "over_capacity":
        return _("That room holds at most {capacity} people.").format(capacity=params.get("capacity", "?"))
    if code == "no_room_big_enough":
        return _("No room is big enough: the largest holds {capacity} people.").format(
            capacity=params.get("capacity", "?")
        )
    if code == "series_count_invalid":
        return _("A series has at least one meeting. Please type a number of 1 or more.")
    if code == "series_end_before_start":
        return _(
            "The series cannot end on {until}: its first meeting is on {start}. Please type a later date."
        ).format(start=params.get("start", "?"), until=params.get("until", "?"))
    if code == "series_too_long":
        return _(
            "A series can run at most {days} days and have at most {occurrences} meetings. "
            "Please type an earlier end or a smaller number."
        ).format(days=params.get("days", "?"), occurrences=params.get("occurrences", "?"))
    if code == "series_end_unreadable":
        return _(
            "Please type the date of the last meeting, such as 2027-03-31, "
            "or the number of meetings, such as 10."
        )
    if code == "series_nothing_booked":
        return _("None of the meetings of the series could be booked. Please choose another time or room.")
    if code == "number_out_of_range":
        return _("Please type a number from {minimum} to {maximum}.").format(
            minimum=params.get("minimum", 0), maximum=params.get("maximum", "∞")
        )
    if code == "text_too_long":
        return _("That is too long ({length} characters). Please keep it within {limit} characters.").format(
            length=params.get("length", "?"), limit=params.get("limit", "?")
        )
    return _("Something went wrong. Please try again.")
