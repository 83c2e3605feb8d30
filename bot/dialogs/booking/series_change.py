"""The change dialog on a meeting of a recurring series, when /my was told "this and
following" or "the whole series": the change made to this meeting is applied to each meeting
of that scope (bot/services/series.py), and the person reads which took it and which stayed
as they were, and why."""

from __future__ import annotations

from html import escape

from aiogram_dialog import DialogManager

from bot.dialogs.booking.confirmation import route_error
from bot.dialogs.booking.navigation import say
from bot.dialogs.dependencies import database_of, delivery_of, person_of, reader_of, series_service_of
from bot.render.errors import error_text
from bot.render.series import outcomes_text
from bot.services.booking import BookingChanges, BookingError
from bot.services.series import SeriesScope
from bot.services.visibility import audience_of_person


async def change_series(
    manager: DialogManager, booking_id: int, changes: BookingChanges, scope: SeriesScope
) -> None:
    person = person_of(manager)
    delivery = delivery_of(manager)
    try:
        async with database_of(manager).transaction() as session:
            outcomes = await series_service_of(manager).change(
                session, booking_id, person.user_id, changes, scope, department_id=person.department_id
            )
            for outcome in outcomes:
                await delivery.deliver(session, outcome.notices)
    except BookingError as error:
        if error.code in ("not_found", "not_allowed", "cannot_change", "changed_meanwhile"):
            await manager.done()
            await say(manager, escape(error_text(reader_of(manager), error), quote=False))
            return
        await route_error(manager, error)
        return
    reader = reader_of(manager)
    await manager.done()
    await say(manager, outcomes_text(reader, audience_of_person(person), outcomes, cancelled=False))
