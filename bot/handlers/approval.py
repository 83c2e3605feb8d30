"""Approvals (docs/product.md §2): Approve / Reject on a pending booking, and /approvals.

Button data is ``apv:<booking id>:<revision>:<a|r>``, on the request, its reminder, its
escalation and the /approvals list alike; ``apl:<page>`` turns the list's pages. Only the
approvers and whoever requests are escalated to (``[approvals] escalate_to``) are heard; a
press on a request that was decided, withdrawn, rejected at its start or changed since
changes nothing and says so. Reject asks for the reason in the private chat (an FSM state)
before anything is stored.
"""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.delivery.notices import Keyboard, NoticeDelivery
from bot.handlers.replies import (
    answer_quietly,
    ask_in_private,
    drop_buttons,
    markup,
    refuse_button,
    show,
)
from bot.render.approvals import PAGE_SIZE, approvals_page, closed_request_text, series_extents
from bot.render.booking import person_name
from bot.render.errors import error_text
from bot.render.text import Reader
from bot.services.approval_chase import waiting_page
from bot.services.approvals import may_decide, may_follow
from bot.services.booking import MAX_NOTES, BookingError, BookingService
from bot.services.people import PersonContext
from bot.services.strict import clean_text
from bot.services.types import BookingStatus
from bot.services.visibility import audience_of_chat
from bot.site import SiteConfig
from bot.telegram.callback_data import ApprovalData, ApprovalsPageData
from storage.database import Database

MAX_PAGE = 10_000


class RejectReason(StatesGroup):
    reason = State()


def _parse(data: str | None) -> tuple[int, int, str] | None:
    try:
        pressed = ApprovalData.unpack(data or "")
    except (TypeError, ValueError):  # not data the bot wrote: refused by the caller
        return None
    return pressed.booking_id, pressed.revision, pressed.decision


def _not_allowed() -> str:
    return _("Only the approver can decide this request.")


def _refusal(read: Reader, error: BookingError) -> str:
    """Why a press on a request changed nothing (codes of the booking service)."""
    return error_text(read, error)


def _from_list(callback: CallbackQuery) -> int | None:
    """The page of /approvals the press came from (its pager is on it), or None: a request message."""
    message = callback.message
    keyboard = getattr(message, "reply_markup", None)
    for row in getattr(keyboard, "inline_keyboard", None) or []:
        for button in row:
            with contextlib.suppress(TypeError, ValueError):
                return ApprovalsPageData.unpack(button.callback_data or "").page
    return None


async def _closed_text(
    read: Reader,
    db: Database,
    site: SiteConfig,
    booking_service: BookingService,
    booking_id: int,
    revision: int,
    chat_id: int,
) -> str | None:
    """The request message as the outbox's edit will show it (so that edit changes nothing)."""
    async with db.read() as session:
        view = await booking_service.get(session, booking_id)
        if view is None:
            return None
        audience = await audience_of_chat(session, site, chat_id)
        return await closed_request_text(read, session, view, revision, audience)


async def _page(
    read: Reader, db: Database, site: SiteConfig, person: PersonContext, page: int
) -> tuple[str, Keyboard]:
    async with db.read() as session:
        waiting, total, page = await waiting_page(session, page, PAGE_SIZE)
        audience = await audience_of_chat(session, site, person.user_id)
        requests = [
            (view, state, await person_name(session, site, view.requester_id)) for view, state in waiting
        ]
        series = await series_extents(read, session, [view for view, _state in waiting])
    return approvals_page(read, requests, page, total, audience, may_decide(site, person.user_id), series)


async def approvals_list(
    message: Message,
    person: PersonContext,
    site: SiteConfig,
    db: Database,
    read: Reader,
) -> None:
    if message.chat.type != "private":
        await ask_in_private(message)
        return
    if not may_follow(site, person.user_id):
        await message.answer(_("/approvals is for the approvers, the supervisor and the manager."))
        return
    text, keyboard = await _page(read, db, site, person, 0)
    await message.answer(text, reply_markup=markup(keyboard))


async def approvals_page_pressed(
    callback: CallbackQuery,
    person: PersonContext,
    site: SiteConfig,
    db: Database,
    read: Reader,
) -> None:
    try:
        page: int | None = ApprovalsPageData.unpack(callback.data or "").page
    except (TypeError, ValueError):
        page = None
    if page is None or page > MAX_PAGE:
        await refuse_button(callback)
        return
    if not may_follow(site, person.user_id):
        await answer_quietly(
            callback, _("/approvals is for the approvers, the supervisor and the manager."), alert=True
        )
        return
    await answer_quietly(callback)
    await show(callback, *await _page(read, db, site, person, page))


async def approval_pressed(
    callback: CallbackQuery,
    person: PersonContext,
    site: SiteConfig,
    db: Database,
    booking_service: BookingService,
    delivery: NoticeDelivery,
    state: FSMContext,
    read: Reader,
) -> None:
    parsed = _parse(callback.data)
    if parsed is None:
        await refuse_button(callback)
        return
    booking_id, revision, decision = parsed
    if not may_decide(site, person.user_id):
        await answer_quietly(callback, _not_allowed(), alert=True)
        return
    page = _from_list(callback)
    if decision == "r":
        await _ask_reason(
            callback, read, db, site, person, booking_service, state, booking_id, revision, page
        )
        return
    try:
        async with db.transaction() as session:
            outcome = await booking_service.decide(
                session, booking_id, person.user_id, approve=True, revision=revision
            )
            await delivery.deliver(session, outcome.notices)
    except BookingError as error:
        await _refused(callback, read, db, site, person, error, page)
        return
    await answer_quietly(callback, _("Approved."))
    await _after_decision(callback, read, db, site, person, booking_service, booking_id, revision, page)


async def _after_decision(
    callback: CallbackQuery,
    read: Reader,
    db: Database,
    site: SiteConfig,
    person: PersonContext,
    booking_service: BookingService,
    booking_id: int,
    revision: int,
    page: int | None,
) -> None:
    """The pressed message shows the outcome: the list page again, or the request, closed."""
    if page is not None:
        await show(callback, *await _page(read, db, site, person, page))
        return
    text = await _closed_text(read, db, site, booking_service, booking_id, revision, person.user_id)
    if text is not None:
        await show(callback, text)


async def _refused(
    callback: CallbackQuery,
    read: Reader,
    db: Database,
    site: SiteConfig,
    person: PersonContext,
    error: BookingError,
    page: int | None,
) -> None:
    await answer_quietly(callback, _refusal(read, error), alert=True)
    if error.code in ("already_decided", "changed_meanwhile", "not_found", "in_past", "withdrawn", "expired"):
        if page is not None:  # the list shows what still waits
            await show(callback, *await _page(read, db, site, person, page))
        else:
            await drop_buttons(callback)  # this request can never be decided any more


async def _ask_reason(
    callback: CallbackQuery,
    read: Reader,
    db: Database,
    site: SiteConfig,
    person: PersonContext,
    booking_service: BookingService,
    state: FSMContext,
    booking_id: int,
    revision: int,
    page: int | None,
) -> None:
    async with db.transaction() as session:
        error = await booking_service.why_not_decidable(session, booking_id, revision)
    if error is not None:
        await _refused(callback, read, db, site, person, error, page)
        return
    message = callback.message
    await state.set_state(RejectReason.reason)
    await state.update_data(
        booking_id=booking_id,
        revision=revision,
        request_chat_id=message.chat.id if message is not None else None,
        request_message_id=message.message_id if message is not None else None,
        list_page=page,
    )
    await answer_quietly(callback)
    if callback.bot is not None and callback.from_user is not None:
        prompt = _("Why is booking #{number} rejected? Type the reason (the requester reads it), or /cancel.")
        await callback.bot.send_message(callback.from_user.id, prompt.format(number=booking_id))


async def reject_reason(
    message: Message,
    bot: Bot,
    person: PersonContext,
    site: SiteConfig,
    db: Database,
    booking_service: BookingService,
    delivery: NoticeDelivery,
    state: FSMContext,
    read: Reader,
) -> None:
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
    if not may_decide(site, person.user_id):
        await state.clear()
        await message.answer(_not_allowed())
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
        await message.answer(_refusal(read, error))
        return
    if outcome.booking.status == BookingStatus.confirmed:  # a change rejected: the booking stands as before
        done = _(
            "The change of booking #{number} is rejected; the booking stays as before. The requester is told."
        )
    else:
        done = _("Booking #{number} is rejected. The requester is told.")
    await message.answer(done.format(number=booking_id))
    chat_id, message_id = data.get("request_chat_id"), data.get("request_message_id")
    if chat_id is None or message_id is None:
        return
    page = data.get("list_page")
    if isinstance(page, int):
        text, keyboard = await _page(read, db, site, person, page)
        reply_markup = markup(keyboard)
    else:
        closed = await _closed_text(read, db, site, booking_service, booking_id, revision, person.user_id)
        if closed is None:
            return
        text, reply_markup = closed, None
    with contextlib.suppress(TelegramBadRequest):
        await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=reply_markup)


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(approvals_list, Command("approvals"))
    router.callback_query.register(
        approvals_page_pressed, F.data.startswith(ApprovalsPageData.__prefix__ + ":")
    )
    router.callback_query.register(approval_pressed, F.data.startswith(ApprovalData.__prefix__ + ":"))
    router.message.register(reject_reason, RejectReason.reason, F.chat.type == "private")


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
