"""/my on a meeting of a recurring series (docs/product.md §2): its Change and Cancel ask which
meetings first — this one, this and following, or the whole series — then cancel them, or
open the change dialog for them (bot/dialogs/booking/change.py applies it to each).

Button data is ``sr:<booking>:<c|e>`` (ask) and ``sr:<booking>:<c|e>:<o|f|a>:<revision>``
(the meetings chosen, for the revision shown); every press is checked against the database.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, StartMode

from bot.delivery.notices import Keyboard, NoticeDelivery
from bot.dialogs.booking.states import CHANGE, BookingSG
from bot.handlers.replies import answer_quietly, refuse_button, show
from bot.render.booking import booking_heading, booking_summary
from bot.render.errors import error_text
from bot.render.series import outcomes_text, place_line
from bot.render.text import Reader
from bot.services.booking import BookingError, BookingService
from bot.services.people import PersonContext
from bot.services.series import SeriesPlace, SeriesScope, SeriesService
from bot.services.types import BookingStatus, BookingView
from bot.services.visibility import audience_of_person
from bot.telegram.callback_data import MyBookingData, SeriesAskData, SeriesScopeData, family_filter
from storage.database import Database

MANAGEABLE = (BookingStatus.pending, BookingStatus.confirmed)
SCOPES = {"o": SeriesScope.one, "f": SeriesScope.following, "a": SeriesScope.all}


def series_buttons(view: BookingView) -> list[dict[str, str]]:
    """Change and Cancel of a meeting of a series: both ask which meetings first."""
    return [
        {"text": _("✏️ Change"), "callback_data": SeriesAskData(booking_id=view.id, action="e").pack()},
        {
            "text": _("🚫 Cancel booking"),
            "callback_data": SeriesAskData(booking_id=view.id, action="c").pack(),
        },
    ]


async def series_ask(
    callback: CallbackQuery,
    callback_data: SeriesAskData,
    person: PersonContext,
    db: Database,
    booking_service: BookingService,
    series_service: SeriesService,
    read: Reader,
) -> None:
    """Which meetings: this one, this and following, the whole series (or back)."""
    loaded = await _load(
        callback, read, person, db, booking_service, series_service, callback_data.booking_id
    )
    if loaded is None:
        return
    view, place = loaded
    if view.status not in MANAGEABLE:
        code = "cannot_cancel" if callback_data.action == "c" else "cannot_change"
        await answer_quietly(
            callback, error_text(read, BookingError(code, status=view.status.value)), alert=True
        )
        return
    await answer_quietly(callback)
    await show(callback, *scope_question(read, person, view, place, callback_data.action))


def scope_question(
    read: Reader, person: PersonContext, view: BookingView, place: SeriesPlace | None, action: str
) -> tuple[str, Keyboard]:
    def button(label: str, scope: str) -> dict[str, str]:
        data = SeriesScopeData.model_validate(
            {"booking_id": view.id, "action": action, "scope": scope, "revision": view.revision}
        )
        return {"text": label, "callback_data": data.pack()}

    question = (
        _(
            "<b>Cancel which meetings?</b> Only meetings not yet started are cancelled; "
            "the teams will be told."
        )
        if action == "c"
        else _(
            "<b>Change which meetings?</b> Each meeting is changed the same way; one that "
            "cannot take the change stays as it was."
        )
    )
    heading = booking_heading(read, view)
    if place is not None:
        heading += "\n" + place_line(read, place)
    text = booking_summary(read, view, heading=heading, footer=question, audience=audience_of_person(person))
    keyboard: Keyboard = [
        [button(_("Only this meeting"), "o")],
        [button(_("This and the following meetings"), "f")],
        [button(_("The whole series"), "a")],
        [{"text": _("‹ Back"), "callback_data": MyBookingData(booking_id=view.id, action="v").pack()}],
    ]
    return text, keyboard


async def series_scope(
    callback: CallbackQuery,
    callback_data: SeriesScopeData,
    person: PersonContext,
    db: Database,
    booking_service: BookingService,
    series_service: SeriesService,
    delivery: NoticeDelivery,
    dialog_manager: DialogManager,
    read: Reader,
) -> None:
    loaded = await _load(
        callback, read, person, db, booking_service, series_service, callback_data.booking_id
    )
    if loaded is None:
        return
    view, place = loaded
    if view.revision != callback_data.revision:
        # the question was about an older version: ask again about the booking as it is now
        await answer_quietly(callback, error_text(read, BookingError("changed_meanwhile")), alert=True)
        await show(callback, *scope_question(read, person, view, place, callback_data.action))
        return
    scope = SCOPES[callback_data.scope]
    if callback_data.action == "e":
        if view.status not in MANAGEABLE:
            error = BookingError("cannot_change", status=view.status.value)
            await answer_quietly(callback, error_text(read, error), alert=True)
            return
        await answer_quietly(callback)
        await dialog_manager.start(
            BookingSG.change,
            data={"mode": CHANGE, "booking_id": view.id, "series_scope": scope.value},
            mode=StartMode.RESET_STACK,
        )
        return
    try:
        async with db.transaction() as session:
            outcomes = await series_service.cancel(
                session, view.id, person.user_id, scope, department_id=person.department_id
            )
            for outcome in outcomes:
                await delivery.deliver(session, outcome.notices)
    except BookingError as error:
        await answer_quietly(callback, error_text(read, error), alert=True)
        return
    await answer_quietly(callback, _("Booking cancelled."))
    await show(callback, outcomes_text(read, audience_of_person(person), outcomes, cancelled=True))


async def _load(
    callback: CallbackQuery,
    read: Reader,
    person: PersonContext,
    db: Database,
    booking_service: BookingService,
    series_service: SeriesService,
    booking_id: int,
) -> tuple[BookingView, SeriesPlace | None] | None:
    """The meeting and its place, or None after telling why it cannot be managed."""
    async with db.transaction() as session:
        view = await booking_service.get(session, booking_id)
        places = await series_service.places(session, [view]) if view is not None else {}
    if view is None or not booking_service.can_manage(person.user_id, person.department_id, view):
        code = "not_found" if view is None else "not_allowed"
        await answer_quietly(callback, error_text(read, BookingError(code)), alert=True)
        return None
    return view, places.get(view.id)


async def series_data_refused(callback: CallbackQuery) -> None:
    """``sr:`` data the bot never wrote."""
    await refuse_button(callback)


def register(router: Router) -> None:
    """Register this module's handlers on ``router`` (called by bot/handlers/my.py)."""
    router.callback_query.register(series_ask, SeriesAskData.filter())
    router.callback_query.register(series_scope, SeriesScopeData.filter())
    router.callback_query.register(series_data_refused, family_filter(SeriesAskData, SeriesScopeData))
