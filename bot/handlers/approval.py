"""The approver's Approve / Reject on a pending booking (class C halls, special layouts).

Button data is ``apv:<booking id>:<revision>:<a|r>``. Only a person with the approver role
is heard; a press on a request that was decided, cancelled or changed since says so. Reject
asks for the reason in the private chat (an FSM state) before anything is stored.
"""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.delivery.notices import NoticeDelivery
from bot.handlers.replies import answer_quietly, drop_buttons, reader, refuse_button, show
from bot.render.booking import approval_request_text
from bot.render.errors import error_text
from bot.render.text import Reader, user_text
from bot.services.booking import MAX_NOTES, BookingError, BookingService
from bot.services.people import PersonContext
from bot.services.strict import clean_text, parse_id
from bot.services.types import BookingStatus
from bot.site import Role, SiteConfig
from storage.database import Database

router = Router(name=__name__)


class RejectReason(StatesGroup):
    reason = State()


def _parse(data: str | None) -> tuple[int, int, str] | None:
    parts = (data or "").split(":")
    if len(parts) != 4 or parts[0] != "apv" or parts[3] not in ("a", "r"):
        return None
    booking_id, revision = parse_id(parts[1]), parse_id(parts[2])
    if booking_id is None or revision is None:
        return None
    return booking_id, revision, parts[3]


async def _decided_text(
    read: Reader, db: Database, booking_service: BookingService, booking_id: int, footer: str
) -> str | None:
    async with db.transaction() as session:
        view = await booking_service.get(session, booking_id)
        if view is None:
            return None
        text = await approval_request_text(read, session, view, pending=False)
    return f"{text}\n\n{footer}"


@router.callback_query(F.data.startswith("apv:"))
async def approval_pressed(
    callback: CallbackQuery,
    person: PersonContext,
    site: SiteConfig,
    i18n: I18n,
    db: Database,
    booking_service: BookingService,
    delivery: NoticeDelivery,
    state: FSMContext,
) -> None:
    read = reader(i18n, site)
    parsed = _parse(callback.data)
    if parsed is None:
        await refuse_button(callback)
        return
    booking_id, revision, decision = parsed
    if Role.approver not in person.roles:
        await answer_quietly(callback, _("Only the approver can decide this request."), alert=True)
        return
    if decision == "r":
        await _ask_reason(callback, read, db, booking_service, state, booking_id, revision)
        return
    try:
        async with db.transaction() as session:
            outcome = await booking_service.decide(
                session, booking_id, person.user_id, approve=True, revision=revision
            )
            await delivery.deliver(session, outcome.notices)
    except BookingError as error:
        await _refused(callback, read, error)
        return
    await answer_quietly(callback, _("Approved."))
    footer = _("✅ Approved by {person}. The requester is told.").format(person=user_text(person.name, 60))
    text = await _decided_text(read, db, booking_service, booking_id, footer)
    if text is not None:
        await show(callback, text)


async def _refused(callback: CallbackQuery, read: Reader, error: BookingError) -> None:
    await answer_quietly(callback, error_text(read, error), alert=True)
    if error.code in ("already_decided", "changed_meanwhile", "not_found", "in_past"):
        await drop_buttons(callback)  # this request can never be decided any more


async def _ask_reason(
    callback: CallbackQuery,
    read: Reader,
    db: Database,
    booking_service: BookingService,
    state: FSMContext,
    booking_id: int,
    revision: int,
) -> None:
    async with db.transaction() as session:
        view = await booking_service.get(session, booking_id)
    if view is None:
        await _refused(callback, read, BookingError("not_found"))
        return
    if view.status != BookingStatus.pending:
        await _refused(callback, read, BookingError("already_decided", status=view.status.value))
        return
    if view.revision != revision:
        await _refused(callback, read, BookingError("changed_meanwhile"))
        return
    message = callback.message
    await state.set_state(RejectReason.reason)
    await state.update_data(
        booking_id=booking_id,
        revision=revision,
        request_chat_id=message.chat.id if message is not None else None,
        request_message_id=message.message_id if message is not None else None,
    )
    await answer_quietly(callback)
    if callback.bot is not None and callback.from_user is not None:
        prompt = _("Why is booking #{number} rejected? Type the reason (the requester reads it), or /cancel.")
        await callback.bot.send_message(callback.from_user.id, prompt.format(number=booking_id))


@router.message(RejectReason.reason, F.chat.type == "private")
async def reject_reason(
    message: Message,
    bot: Bot,
    person: PersonContext,
    site: SiteConfig,
    i18n: I18n,
    db: Database,
    booking_service: BookingService,
    delivery: NoticeDelivery,
    state: FSMContext,
) -> None:
    read = reader(i18n, site)
    if message.text is None or message.text.startswith("/"):
        await message.answer(_("Please type the reason as text, or /cancel."))
        return
    reason = clean_text(message.text, MAX_NOTES + 1, multiline=True)
    if not reason:
        await message.answer(_("Please type the reason as text, or /cancel."))
        return
    if len(reason) > MAX_NOTES:
        error = BookingError("text_too_long", length=len(message.text), limit=MAX_NOTES)
        await message.answer(error_text(read, error))
        return
    if Role.approver not in person.roles:
        await state.clear()
        await message.answer(_("Only the approver can decide this request."))
        return
    data = await state.get_data()
    booking_id, revision = int(data["booking_id"]), int(data["revision"])
    await state.clear()
    try:
        async with db.transaction() as session:
            outcome = await booking_service.decide(
                session, booking_id, person.user_id, approve=False, reason=reason, revision=revision
            )
            await delivery.deliver(session, outcome.notices)
    except BookingError as error:
        await message.answer(error_text(read, error))
        return
    if outcome.booking.status == BookingStatus.confirmed:  # a change rejected: the booking stands as before
        done = _(
            "The change of booking #{number} is rejected; the booking stays as before. The requester is told."
        )
    else:
        done = _("Booking #{number} is rejected. The requester is told.")
    await message.answer(done.format(number=booking_id))
    chat_id, message_id = data.get("request_chat_id"), data.get("request_message_id")
    if chat_id is not None and message_id is not None:
        footer = _("❌ Rejected by {person}. Reason: {reason}").format(
            person=user_text(person.name, 60), reason=user_text(reason, 500)
        )
        text = await _decided_text(read, db, booking_service, booking_id, footer)
        with contextlib.suppress(TelegramBadRequest):
            if text is not None:
                await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=None)
