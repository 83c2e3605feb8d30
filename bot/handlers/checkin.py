"""Check-in (docs/product.md §2): Check in / We are running late on a meeting's prompt, and the
``checkin-<booking>`` deep link of a door display's QR code (bot/handlers/start.py calls
:func:`check_in_by_link`). Whoever may not check in is told so and nothing changes. A press
that moves the check-in on edits the prompts the others got (through the outbox, in the same
transaction) to say who did it."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot.delivery.notices import NoticeDelivery
from bot.handlers.replies import answer_quietly, refuse_button, show
from bot.render.booking import person_name
from bot.render.checkin import checkin_answer, checkin_keyboard
from bot.render.text import Reader
from bot.services.checkin import CheckInAnswer, CheckInService
from bot.services.people import PersonContext
from bot.site import SiteConfig
from bot.telegram.callback_data import CheckInData, family_filter
from storage.database import Database


async def _check_in(
    db: Database,
    site: SiteConfig,
    checkin_service: CheckInService,
    delivery: NoticeDelivery,
    read: Reader,
    person: PersonContext,
    booking_id: int,
    late: bool,
    answered_in: int | None,
) -> tuple[CheckInAnswer, str]:
    async with db.transaction() as session:
        answer = await checkin_service.check_in(
            session, booking_id, person.user_id, person.department_id, late, answered_in
        )
        if answer.prompt_edits:
            await delivery.deliver_many(
                session,
                [(edit.notice, {"kind": "edit", "edit_of_id": edit.edit_of}) for edit in answer.prompt_edits],
            )
        name = await person_name(session, site, answer.by) if answer.by is not None else None
    return answer, checkin_answer(read, answer, name)


async def checkin_pressed(
    callback: CallbackQuery,
    callback_data: CheckInData,
    person: PersonContext,
    site: SiteConfig,
    db: Database,
    checkin_service: CheckInService,
    delivery: NoticeDelivery,
    read: Reader,
) -> None:
    # the answer is shown on the prompt pressed: the outbox edits only the others'
    answer, text = await _check_in(
        db,
        site,
        checkin_service,
        delivery,
        read,
        person,
        callback_data.booking_id,
        callback_data.action == "l",
        answered_in=person.user_id,
    )
    if answer.code in ("not_allowed", "too_early"):
        await answer_quietly(callback, text, alert=True)  # the prompt stays as it was
        return
    await answer_quietly(callback, text)
    # running late: the Check in button stays for when they arrive
    running_late = answer.code in ("late", "already_late")
    await show(callback, text, checkin_keyboard(read, answer.booking_id) if running_late else None)


async def check_in_by_link(
    message: Message,
    booking_id: int,
    person: PersonContext,
    site: SiteConfig,
    db: Database,
    checkin_service: CheckInService,
    delivery: NoticeDelivery,
    read: Reader,
) -> None:
    """``/start checkin-<booking>``: a door display's QR code checks in like the button (the
    person's own prompt, if they got one, is edited too)."""
    _answer, text = await _check_in(
        db, site, checkin_service, delivery, read, person, booking_id, late=False, answered_in=None
    )
    await message.answer(text)


async def checkin_data_refused(callback: CallbackQuery) -> None:
    """``ci:`` data the bot never wrote."""
    await refuse_button(callback)


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.callback_query.register(checkin_pressed, CheckInData.filter())
    router.callback_query.register(checkin_data_refused, family_filter(CheckInData))


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
