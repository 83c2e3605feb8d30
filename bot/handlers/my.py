"""/my: upcoming bookings, each with its details, cancel (after a confirmation) and change; a
request waiting for approval shows since when and how far it was chased, and can be
withdrawn (after a confirmation; docs/product.md §2); a meeting checked in to, said to run
late or released as a no-show says so (bot/render/checkin.py).

Button data is ``bk:<booking id>:<action>[:<revision>]`` (a meeting of a series: ``sr:``, see
bot/handlers/my_series.py); every press is checked against the
database (who may manage the booking, its status and revision), never trusted.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, StartMode

from bot.delivery.notices import Keyboard, NoticeDelivery
from bot.dialogs.booking.states import CHANGE, BookingSG
from bot.handlers import my_series
from bot.handlers.my_series import series_buttons
from bot.handlers.replies import answer_quietly, markup, refuse_button, show
from bot.render.approvals import approval_state_line
from bot.render.booking import booking_heading, booking_line, booking_summary
from bot.render.checkin import checkin_lines
from bot.render.errors import error_text
from bot.render.series import place_line, place_text
from bot.render.text import Reader, fit_message
from bot.services.approvals import ApprovalState, approval_states
from bot.services.booking import BookingError, BookingService
from bot.services.people import PersonContext
from bot.services.series import SeriesPlace, series_places
from bot.services.types import BookingStatus, BookingView
from bot.services.visibility import Audience, audience_of_person
from bot.site import Role
from bot.telegram.callback_data import MyBookingConfirmData, MyBookingData
from storage.database import Database

LIST_LIMIT = 20
MANAGEABLE = (BookingStatus.pending, BookingStatus.confirmed)
SEES_ALL = (Role.dispatcher, Role.supervisor, Role.manager, Role.admin)


def _data(booking_id: int, action: str, revision: int | None = None) -> str:
    if revision is None:
        return MyBookingData(booking_id=booking_id, action=action).pack()
    return MyBookingConfirmData(booking_id=booking_id, action=action, revision=revision).pack()


def _button(read: Reader, view: BookingView) -> str:
    room = read.site.room(view.room_id)
    name = room.name.get(read.language) if room else view.room_id
    return f"#{view.id} · {read.short_span(view.start, view.end)} · {name}"


def list_view(
    read: Reader,
    person: PersonContext,
    bookings: list[BookingView],
    states: dict[int, ApprovalState] | None = None,
    checkins: dict[int, str] | None = None,
    places: dict[int, SeriesPlace] | None = None,
) -> tuple[str, Keyboard]:
    if not bookings:
        return _("You have no upcoming bookings. Book a room with /book."), []
    heading = _("<b>Upcoming bookings</b>") if person.has(*SEES_ALL) else _("<b>Your upcoming bookings</b>")
    shown = bookings[:LIST_LIMIT]
    audience = audience_of_person(person)
    lines = [heading]
    for view in shown:
        place = (places or {}).get(view.id)
        line = booking_line(read, view, audience)
        lines.append(line + " · " + place_text(place) if place is not None else line)
        state = (states or {}).get(view.id)
        if view.status == BookingStatus.pending and state is not None:
            lines.append("    " + approval_state_line(read, state))
        if view.id in (checkins or {}):
            lines.append("    " + (checkins or {})[view.id])
    if len(bookings) > LIST_LIMIT:
        lines.append(_("… and {count} more.").format(count=len(bookings) - LIST_LIMIT))
    lines.append(_("Press a booking for its details, to change or to cancel it."))
    keyboard = [[{"text": _button(read, view), "callback_data": _data(view.id, "v")}] for view in shown]
    return fit_message("\n".join(lines)), keyboard


def detail_view(
    read: Reader,
    view: BookingView,
    audience: Audience,
    state: ApprovalState | None = None,
    checkin: str | None = None,
    place: SeriesPlace | None = None,
) -> tuple[str, Keyboard]:
    keyboard: Keyboard = []
    if view.status == BookingStatus.pending:
        keyboard.append([{"text": _("↩️ Withdraw the request"), "callback_data": _data(view.id, "w")}])
    if view.status in MANAGEABLE and place is not None:
        keyboard.append(series_buttons(view))  # they ask which meetings first
    elif view.status in MANAGEABLE:
        keyboard.append(
            [
                {"text": _("✏️ Change"), "callback_data": _data(view.id, "e")},
                {"text": _("🚫 Cancel booking"), "callback_data": _data(view.id, "c")},
            ]
        )
    keyboard.append([{"text": _("‹ All my bookings"), "callback_data": _data(view.id, "l")}])
    footer = (
        approval_state_line(read, state)
        if view.status == BookingStatus.pending and state is not None
        else checkin
    )
    heading = booking_heading(read, view)
    if place is not None:
        heading += "\n" + place_line(read, place)
    summary = booking_summary(read, view, heading=heading, footer=footer, audience=audience)
    return summary, keyboard


async def _list(
    db: Database, booking_service: BookingService, person: PersonContext, read: Reader
) -> tuple[list[BookingView], dict[int, ApprovalState], dict[int, str], dict[int, SeriesPlace]]:
    async with db.transaction() as session:
        bookings = await booking_service.upcoming(session, person.user_id, person.department_id)
        pending = [view.id for view in bookings[:LIST_LIMIT] if view.status == BookingStatus.pending]
        states = await approval_states(session, pending)
        checkins = await checkin_lines(read, session, bookings[:LIST_LIMIT])
        places = await series_places(session, bookings[:LIST_LIMIT])
    return bookings, states, checkins, places


async def _detail(
    read: Reader, db: Database, booking_service: BookingService, person: PersonContext, booking_id: int
) -> tuple[str, Keyboard] | None:
    async with db.transaction() as session:
        view = await booking_service.get(session, booking_id)
        states = await approval_states(session, [booking_id])
        checkins = await checkin_lines(read, session, [view]) if view is not None else {}
        places = await series_places(session, [view]) if view is not None else {}
    if view is None:
        return None
    return detail_view(
        read,
        view,
        audience_of_person(person),
        states.get(booking_id),
        checkins.get(booking_id),
        places.get(booking_id),
    )


async def my_bookings(
    message: Message,
    person: PersonContext,
    db: Database,
    booking_service: BookingService,
    read: Reader,
) -> None:
    bookings, states, checkins, places = await _list(db, booking_service, person, read)
    text, keyboard = list_view(read, person, bookings, states, checkins, places)
    await message.answer(text, reply_markup=markup(keyboard))


def _parse(data: str | None) -> tuple[int, str, int | None] | None:
    for shape in (MyBookingData, MyBookingConfirmData):
        try:
            pressed = shape.unpack(data or "")
        except (TypeError, ValueError):
            continue
        revision = pressed.revision if isinstance(pressed, MyBookingConfirmData) else None
        return pressed.booking_id, pressed.action, revision
    return None  # not data the bot wrote: refused by the caller


async def booking_pressed(
    callback: CallbackQuery,
    person: PersonContext,
    db: Database,
    booking_service: BookingService,
    delivery: NoticeDelivery,
    dialog_manager: DialogManager,
    read: Reader,
) -> None:
    parsed = _parse(callback.data)
    if parsed is None:
        await refuse_button(callback)
        return
    booking_id, action, revision = parsed
    if action == "l":
        bookings, states, checkins, places = await _list(db, booking_service, person, read)
        await answer_quietly(callback)
        await show(callback, *list_view(read, person, bookings, states, checkins, places))
        return
    async with db.transaction() as session:
        view = await booking_service.get(session, booking_id)
    if view is None or not booking_service.can_manage(person.user_id, person.department_id, view):
        code = "not_found" if view is None else "not_allowed"
        await answer_quietly(callback, error_text(read, BookingError(code)), alert=True)
        return
    if action == "v":
        detail = await _detail(read, db, booking_service, person, view.id)
        await answer_quietly(callback)
        if detail is not None:
            await show(callback, *detail)
    elif action == "w":
        await _ask_withdraw(callback, read, view, audience_of_person(person))
    elif action == "wy" and revision is not None:
        await _withdraw(callback, read, view, revision, person, db, booking_service, delivery)
    elif action == "c":
        await _ask_cancel(callback, read, view, audience_of_person(person))
    elif action == "y" and revision is not None:
        await _cancel(callback, read, view, revision, person, db, booking_service, delivery)
    elif action == "e":
        if view.status not in MANAGEABLE:
            error = BookingError("cannot_change", status=view.status.value)
            await answer_quietly(callback, error_text(read, error), alert=True)
            return
        await answer_quietly(callback)
        await dialog_manager.start(
            BookingSG.change, data={"mode": CHANGE, "booking_id": view.id}, mode=StartMode.RESET_STACK
        )
    else:
        await answer_quietly(callback, _("This button is no longer valid."))


async def _ask_cancel(callback: CallbackQuery, read: Reader, view: BookingView, audience: Audience) -> None:
    if view.status not in MANAGEABLE:
        error = BookingError("cannot_cancel", status=view.status.value)
        await answer_quietly(callback, error_text(read, error), alert=True)
        return
    await _ask_to_confirm(
        callback,
        read,
        view,
        audience,
        yes=(_("Yes, cancel it"), "y"),
        no=_("No, keep it"),
        question=_("<b>Cancel this booking?</b> The teams will be told."),
    )


async def _ask_to_confirm(
    callback: CallbackQuery,
    read: Reader,
    view: BookingView,
    audience: Audience,
    *,
    yes: tuple[str, str],
    no: str,
    question: str,
) -> None:
    """The booking with ``question`` under it, Yes (``yes``: label and action, carrying the
    revision shown) or No (back to the booking)."""
    label, action = yes
    keyboard: Keyboard = [
        [
            {"text": label, "callback_data": _data(view.id, action, view.revision)},
            {"text": no, "callback_data": _data(view.id, "v")},
        ]
    ]
    text = booking_summary(
        read, view, heading=booking_heading(read, view), footer=question, audience=audience
    )
    await answer_quietly(callback)
    await show(callback, text, keyboard)


async def _cancel(
    callback: CallbackQuery,
    read: Reader,
    view: BookingView,
    revision: int,
    person: PersonContext,
    db: Database,
    booking_service: BookingService,
    delivery: NoticeDelivery,
) -> None:
    try:
        async with db.transaction() as session:
            outcome = await booking_service.cancel(
                session, view.id, person.user_id, person.department_id, revision=revision
            )
            await delivery.deliver(session, outcome.notices)
    except BookingError as error:
        await answer_quietly(callback, error_text(read, error), alert=True)
        if error.code == "changed_meanwhile":
            # the confirmation was about an older version: show the booking as it is now
            detail = await _detail(read, db, booking_service, person, view.id)
            if detail is not None:
                await show(callback, *detail)
        return
    await answer_quietly(callback, _("Booking cancelled."))
    heading = _("🚫 Booking #{number} is cancelled.").format(number=view.id)
    summary = booking_summary(
        read, outcome.booking, heading=heading, with_status=False, audience=audience_of_person(person)
    )
    await show(callback, summary)


async def _ask_withdraw(callback: CallbackQuery, read: Reader, view: BookingView, audience: Audience) -> None:
    if view.status != BookingStatus.pending:
        await answer_quietly(callback, _("This booking is not waiting for approval any more."), alert=True)
        return
    await _ask_to_confirm(
        callback,
        read,
        view,
        audience,
        yes=(_("Yes, withdraw it"), "wy"),
        no=_("No, keep waiting"),
        question=_(
            "<b>Withdraw this request?</b> The approvers are told. A change waiting for approval "
            "is dropped and the booking stays as it was; a new booking is cancelled."
        ),
    )


async def _withdraw(
    callback: CallbackQuery,
    read: Reader,
    view: BookingView,
    revision: int,
    person: PersonContext,
    db: Database,
    booking_service: BookingService,
    delivery: NoticeDelivery,
) -> None:
    try:
        async with db.transaction() as session:
            outcome = await booking_service.withdraw(
                session, view.id, person.user_id, person.department_id, revision
            )
            await delivery.deliver(session, outcome.notices)
    except BookingError as error:
        await answer_quietly(callback, _withdraw_refusal(read, error), alert=True)
        # the confirmation was about an older state: show the booking as it is now
        detail = await _detail(read, db, booking_service, person, view.id)
        if detail is not None:
            await show(callback, *detail)
        return
    await answer_quietly(callback, _("Request withdrawn."))
    if outcome.booking.status == BookingStatus.confirmed:
        heading = _("↩️ The change of booking #{number} is withdrawn; the booking stays as it was:")
    else:
        heading = _("↩️ Your request for booking #{number} is withdrawn.")
    summary = booking_summary(
        read,
        outcome.booking,
        heading=heading.format(number=view.id),
        with_status=outcome.booking.status != BookingStatus.cancelled,
        audience=audience_of_person(person),
    )
    await show(callback, summary)


def _withdraw_refusal(read: Reader, error: BookingError) -> str:
    if error.code == "withdrawn":
        return _("This request was already withdrawn.")
    return error_text(read, error)


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(my_bookings, Command("my"), F.chat.type == "private")
    router.callback_query.register(booking_pressed, F.data.startswith(MyBookingData.__prefix__ + ":"))
    my_series.register(router)  # a meeting of a series: which meetings to change or cancel


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
