"""The booking wizard (/book) and its change mode (/my → Change).

New booking: [department, for dispatchers] → date → start → end → attendees → free rooms →
layout → reception level → services → each service's details → title → contact → phone →
confidential → notes → summary → confirm. Change mode opens on a menu (time, room,
attendees, layout, services) whose steps reuse the same windows and come back to it.

Every value is checked with the booking service's rules as it is entered; the final word is
BookingService.create/change inside one transaction. The wizard fills one typed draft
(draft.py), kept in the dialog data as JSON.

Phone bookings: a dispatcher first picks the department. The booking belongs to that
department (its members see it in /my and may change or cancel it), the dispatcher is both
the requester and the one who booked it (so approval outcomes come back to the dispatcher,
who took the call), and the contact name and phone typed in the dialog say who the organiser
is. Telegram gives no reliable way to name a department member who may never have talked to
the bot, so the dispatcher is the only requester the bot can be sure to reach.
"""

from __future__ import annotations

from bot.dialogs.booking.dialog import build_booking_dialog
from bot.dialogs.booking.states import CHANGE, NEW, BookingSG

__all__ = ["CHANGE", "NEW", "BookingSG", "build_booking_dialog"]
