"""The booking wizard's ``Dialog``: its windows, declared in the order of the steps.

What each step does lives with its topic: room_time (department, date, start, end, room),
people_layout (attendees, layout, level), services (services and their details), contact
(title, contact, phone, confidential, notes), confirmation (the summary), change (the change
menu); navigation holds Back, Cancel and what every window shows on top.
"""

from __future__ import annotations

from aiogram_dialog import Dialog
from aiogram_dialog.widgets.kbd import Button, Column, Group, Multiselect, Row
from aiogram_dialog.widgets.text import Format

from bot.dialogs.booking.change import (
    change_getter,
    on_change_attendees,
    on_change_confirm,
    on_change_layout,
    on_change_room,
    on_change_services,
    on_change_time,
)
from bot.dialogs.booking.confirmation import on_confirm, summary_getter
from bot.dialogs.booking.contact import (
    keep_getter,
    keeper,
    on_confidential_no,
    on_confidential_yes,
    on_contact,
    on_my_name,
    on_no_notes,
    on_notes,
    on_phone,
    on_title,
    to_confidential,
    to_contact,
    to_phone,
    to_summary,
)
from bot.dialogs.booking.navigation import choice, common_getter, screen, step
from bot.dialogs.booking.people_layout import (
    attendees_getter,
    layout_getter,
    level_getter,
    on_attendees_text,
    on_layout,
    on_level,
    on_quick_count,
)
from bot.dialogs.booking.repeat import (
    fix_getter,
    on_fix,
    on_fix_done,
    on_fix_meeting,
    on_repeat,
    on_repeat_count,
    on_repeat_end_text,
    on_repeat_open,
    on_series_room,
    repeat_end_getter,
    repeat_getter,
    series_room_getter,
)
from bot.dialogs.booking.room_time import (
    date_getter,
    department_getter,
    end_getter,
    on_date,
    on_date_choice,
    on_date_text,
    on_department,
    on_end_text,
    on_end_time,
    on_room,
    on_start_text,
    on_start_time,
    room_getter,
    start_getter,
)
from bot.dialogs.booking.services import (
    detail_getter,
    on_detail_default,
    on_detail_keep,
    on_detail_skip,
    on_detail_text,
    on_services_done,
    services_getter,
)
from bot.dialogs.booking.start import on_start
from bot.dialogs.booking.states import BookingSG
from bot.dialogs.widgets import SiteCalendar, Tr


def build_booking_dialog() -> Dialog:
    """The wizard's windows in the order of its steps, with the change menu last."""
    return Dialog(
        step(
            screen(Tr("Which department is this booking for?")),
            Column(choice("department", "departments", on_department)),
            state=BookingSG.department,
            getter=department_getter,
        ),
        step(
            screen(
                Tr(
                    "📅 Which day is the meeting? Choose it on the calendar, or type a date such as 2026-12-03."  # noqa: E501
                )
            ),
            Column(
                choice("date_choice", "date_choices", on_date_choice),
                when="date_choices",
            ),
            SiteCalendar(id="calendar", on_click=on_date),
            state=BookingSG.date,
            getter=date_getter,
            on_text=on_date_text,
        ),
        step(
            screen(
                Tr("🕘 {day}: when does the meeting start? Choose a time, or type one such as 9:30 or 1430.")
            ),
            Group(
                choice("start", "times", on_start_time),
                width=4,
            ),
            state=BookingSG.start,
            getter=start_getter,
            on_text=on_start_text,
        ),
        step(
            screen(Tr("🕔 It starts at {start}. When does it end? Choose, or type a time such as 11:30.")),
            Group(
                choice("end", "ends", on_end_time),
                width=2,
            ),
            state=BookingSG.end,
            getter=end_getter,
            on_text=on_end_text,
        ),
        step(
            screen(Tr("👥 How many people will attend? Type the number (the largest room holds {largest}).")),
            Group(
                choice("count", "counts", on_quick_count),
                width=6,
            ),
            state=BookingSG.attendees,
            getter=attendees_getter,
            on_text=on_attendees_text,
        ),
        step(
            screen(
                Tr("🏢 Rooms free on {when} for {count} people:", when="has_rooms"),
                Tr(
                    "No room is free on {when} for {count} people. Go back to choose another time or number.",
                    when="no_rooms",
                ),
                Format("{notes}", when="notes"),
            ),
            Column(choice("room", "rooms", on_room)),
            state=BookingSG.room,
            getter=room_getter,
        ),
        step(
            screen(Tr("🪑 How should {room} be set up?")),
            Column(choice("layout", "layouts", on_layout)),
            state=BookingSG.layout,
            getter=layout_getter,
        ),
        step(
            screen(
                Tr(
                    "⭐ Reception level? Levels 1 and 2: the teams are on site 90 minutes before the start; "
                    "levels 3 and 4: 30 minutes before."
                )
            ),
            Row(choice("level", "levels", on_level)),
            state=BookingSG.level,
            getter=level_getter,
        ),
        step(
            screen(Tr("🧾 Which services do you need? Tap to tick them, then press Done.")),
            Group(
                Multiselect(
                    Format("✅ {item[1]}"),
                    Format("▫️ {item[1]}"),
                    id="services",
                    item_id_getter=lambda item: item[0],
                    items="services",
                ),
                width=2,
            ),
            Button(Tr("Done ›"), id="services_done", on_click=on_services_done),
            state=BookingSG.services,
            getter=services_getter,
        ),
        step(
            screen(
                Format("<b>{service}</b> — {label}"),
                Format("{hint}"),
                Tr("Now: {current}", when="current"),
            ),
            Row(
                Button(
                    Tr("Keep “{current_button}”"),
                    id="detail_keep",
                    on_click=on_detail_keep,
                    when="current_button",
                ),
                Button(
                    Tr("Use {default}"), id="detail_default", on_click=on_detail_default, when="has_default"
                ),
                Button(Tr("Skip"), id="detail_skip", on_click=on_detail_skip, when="skip"),
            ),
            state=BookingSG.detail,
            getter=detail_getter,
            on_text=on_detail_text,
        ),
        step(
            screen(Tr("✏️ Type the title of the meeting (at most {title_limit} characters).")),
            Button(Tr("Keep “{current}”"), id="keep", on_click=keeper(to_contact), when="current"),
            state=BookingSG.title,
            getter=keep_getter(lambda draft: draft.title),
            on_text=on_title,
        ),
        step(
            screen(Tr("👤 Who is the contact person? Type a name, or use yours.")),
            Button(Format("👤 {my_name}"), id="my_name", on_click=on_my_name),
            Button(Tr("Keep “{current}”"), id="keep", on_click=keeper(to_phone), when="current"),
            state=BookingSG.contact,
            getter=keep_getter(lambda draft: draft.contact_name),
            on_text=on_contact,
        ),
        step(
            screen(Tr("📞 Type the contact phone number.")),
            Button(Tr("Keep “{current}”"), id="keep", on_click=keeper(to_confidential), when="current"),
            state=BookingSG.phone,
            getter=keep_getter(lambda draft: draft.contact_phone),
            on_text=on_phone,
        ),
        step(
            screen(
                Tr(
                    "🔒 Is the meeting confidential? Staff teams then see the room, time and tasks, "
                    "but not the title, organising unit or notes."
                )
            ),
            Row(
                Button(Tr("Yes, confidential"), id="confidential_yes", on_click=on_confidential_yes),
                Button(Tr("No"), id="confidential_no", on_click=on_confidential_no),
            ),
            state=BookingSG.confidential,
        ),
        step(
            screen(Tr("🗒 Any notes for the service centre? Type them, or press “No notes”.")),
            Button(Tr("No notes"), id="no_notes", on_click=on_no_notes),
            Button(Tr("Keep “{current}”"), id="keep", on_click=keeper(to_summary), when="current"),
            state=BookingSG.notes,
            getter=keep_getter(lambda draft: draft.notes),
            on_text=on_notes,
        ),
        step(
            Format("⚠️ {error}", when="error"),
            Tr("<b>Please check your booking:</b>"),
            Format("{summary}"),
            Format("\n{series}", when="series"),
            Format("{series_problems}", when="series_problems"),
            Tr("✓ read from your message · ≈ my reading of it, please check", when="marked"),
            Tr(
                "This room or layout needs the approver's consent: the booking will wait for approval.",
                when="needs_approval",
            ),
            Button(Tr("✅ Confirm"), id="confirm", on_click=on_confirm, when="plain_confirm"),
            Button(
                Tr("✅ Book the {free_count} free ones, skip the rest"),
                id="confirm_free",
                on_click=on_confirm,
                when="has_problems",
            ),
            Button(
                Tr("🏢 Pick another room for those"), id="series_fix", on_click=on_fix, when="has_problems"
            ),
            Button(Tr("🔁 Repeat…"), id="repeat", on_click=on_repeat_open),
            state=BookingSG.summary,
            getter=summary_getter,
        ),
        step(
            screen(Tr("🔁 How often does the meeting repeat?")),
            Column(choice("frequency", "frequencies", on_repeat)),
            state=BookingSG.repeat,
            getter=repeat_getter,
        ),
        step(
            screen(
                Tr(
                    "🔁 {rule}: until when? Type the date of the last meeting (such as 2027-03-31) "
                    "or the number of meetings (such as 10)."
                )
            ),
            Group(choice("repeat_count", "counts", on_repeat_count), width=4),
            state=BookingSG.repeat_end,
            getter=repeat_end_getter,
            on_text=on_repeat_end_text,
        ),
        step(
            screen(
                Tr("🏢 Choose a meeting to book it in another room, then press Done."),
                Format("{more}", when="more"),
            ),
            Column(choice("series_meeting", "meetings", on_fix_meeting)),
            Button(Tr("Done ›"), id="series_fix_done", on_click=on_fix_done),
            state=BookingSG.series_fix,
            getter=fix_getter,
        ),
        step(
            screen(
                Format("⚠️ {why}", when="why"),
                Tr("🏢 Rooms free on {when}:", when="rooms"),
                Tr("No other room is free on {when}: this meeting will be skipped.", when="no_rooms"),
            ),
            Column(choice("series_room", "rooms", on_series_room)),
            state=BookingSG.series_room,
            getter=series_room_getter,
        ),
        step(
            Format("⚠️ {error}", when="error"),
            Tr("<b>Change booking #{number}</b>"),
            Format("{summary}"),
            Tr("<b>Your changes:</b>", when="has_changes"),
            Format("{changes}", when="has_changes"),
            Tr("After this change the booking needs the approver's consent again.", when="needs_approval"),
            Tr("What would you like to change?"),
            Row(
                Button(Tr("🕘 Time"), id="change_time", on_click=on_change_time),
                Button(Tr("🏢 Room"), id="change_room", on_click=on_change_room),
            ),
            Row(
                Button(Tr("👥 Attendees"), id="change_count", on_click=on_change_attendees),
                Button(Tr("🪑 Layout"), id="change_layout", on_click=on_change_layout),
            ),
            Button(Tr("🧾 Services"), id="change_services", on_click=on_change_services),
            Button(
                Tr("✅ Save the changes"), id="change_save", on_click=on_change_confirm, when="has_changes"
            ),
            state=BookingSG.change,
            getter=change_getter,
        ),
        on_start=on_start,
        getter=common_getter,
    )
