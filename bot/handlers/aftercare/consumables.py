"""Consumables and fees: Consumables used on the "meeting ended" card opens a panel of the
catalogue in the team's group (a quantity per item, then the fee confirmation sent to the
organiser), who accepts the fee or disputes it with a reason, in private."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from html import escape

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, ReplyParameters
from aiogram.utils.i18n import gettext as _

from bot.handlers.aftercare.common import (
    DISPUTE,
    QUANTITY,
    AftercareContext,
    answers_to,
    chat_of,
    mention,
    typed,
)
from bot.handlers.replies import answer_quietly, markup, show
from bot.render.aftercare import catalogue_view, fee_text
from bot.services.aftercare import (
    AftercareError,
    ConsumptionLine,
    FeeView,
    MeetingRef,
    PromptView,
    parse_quantity,
)
from bot.site import Team
from bot.telegram.callback_data import ConsumableItemData, ConsumablesData, ConsumablesPageData, FeeData

# ---------------------------------------------------------------------------- consumables


@dataclass(frozen=True)
class _Panel:
    """A meeting's consumables as a press in a team's group finds them."""

    team: Team | None
    meeting: MeetingRef
    lines: list[ConsumptionLine]
    fee: FeeView | None


async def _panel(callback: CallbackQuery, care: AftercareContext, booking_id: int) -> _Panel | None:
    """The panel's state, or None when the press was refused (and answered so)."""
    team = await care.group_team(chat_of(callback))
    if not care.service.may_record(callback.from_user.id, team):
        await care.refuse(callback, "not_allowed_here")
        return None
    async with care.db.transaction() as session:
        meeting = await care.service.meeting(session, booking_id)
        lines = await care.service.consumption(session, booking_id)
        fee = await care.service.fee_of_booking(session, booking_id)
    if meeting is None:
        await care.refuse(callback, "meeting_not_found")
        return None
    return _Panel(team, meeting, lines, fee)


async def consumables_pressed(
    callback: CallbackQuery, callback_data: ConsumablesData, care: AftercareContext
) -> None:
    """o: open the panel, as a message of its own; s: send the fee confirmation to the organiser."""
    booking_id = callback_data.booking_id
    panel = await _panel(callback, care, booking_id)
    if panel is None:
        return
    message = callback.message
    if callback_data.action == "o":
        text, keyboard = catalogue_view(care.read, panel.meeting, panel.lines, 0, sent=panel.fee is not None)
        await answer_quietly(callback)
        if message is None:
            await show(callback, text, keyboard)
            return
        # a panel of its own: the "meeting ended" card stays for the others
        await care.bot.send_message(
            chat_of(callback),
            text,
            reply_markup=markup(keyboard),
            reply_parameters=ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True),
        )
        return
    try:
        async with care.db.transaction() as session:
            _sent, notices = await care.service.send_fee(session, booking_id, callback.from_user.id)
            await care.delivery.deliver(session, notices)
            lines = await care.service.consumption(session, booking_id)
    except AftercareError as error:
        await care.refuse(callback, error)
        return
    await answer_quietly(callback, _("🧾 Sent to the organiser."))
    text, keyboard = catalogue_view(care.read, panel.meeting, lines, 0, sent=True)
    await show(callback, text, keyboard)


async def consumables_page_pressed(
    callback: CallbackQuery, callback_data: ConsumablesPageData, care: AftercareContext
) -> None:
    panel = await _panel(callback, care, callback_data.booking_id)
    if panel is None:
        return
    sent = panel.fee is not None
    text, keyboard = catalogue_view(care.read, panel.meeting, panel.lines, callback_data.page, sent=sent)
    await answer_quietly(callback)
    await show(callback, text, keyboard)


async def consumable_pressed(
    callback: CallbackQuery, callback_data: ConsumableItemData, care: AftercareContext
) -> None:
    """One item of the catalogue: the presser is asked the quantity."""
    panel = await _panel(callback, care, callback_data.booking_id)
    if panel is None:
        return
    consumable = care.site.consumable(callback_data.consumable_id)
    if consumable is None:
        await care.refuse(callback, "unknown_consumable")
        return
    if panel.fee is not None:
        await care.refuse(callback, "fee_already_sent")
        return
    language = care.read.language
    await care.ask_presser(
        callback,
        _("Reply to my question with the quantity."),
        text=_("📝 {name}: how many {unit} of {item} did the meeting use? Reply with a number.").format(
            name=mention(callback.from_user.id, callback.from_user.first_name),
            unit=escape(consumable.unit.get(language)),
            item=escape(consumable.name.get(language)),
        ),
        kind=QUANTITY,
        ref_id=callback_data.booking_id,
        extra={"consumable_id": consumable.id, "team_id": panel.team.id if panel.team else None},
    )


@answers_to(QUANTITY)
async def quantity_answer(message: Message, prompt: PromptView, care: AftercareContext) -> None:
    read, service = care.read, care.service
    consumable_id = str(prompt.extra.get("consumable_id", ""))
    try:
        quantity = parse_quantity(typed(message))
        async with care.db.transaction() as session:
            lines = await service.record(
                session, prompt.ref_id, consumable_id, quantity, prompt.extra.get("team_id"), prompt.user_id
            )
            meeting = await service.meeting(session, prompt.ref_id)
            await service.answered(session, prompt.chat_id, prompt.message_id)
    except AftercareError as error:
        question = None
        if error.code not in ("fee_already_sent", "meeting_not_found", "unknown_consumable"):
            consumable = read.site.consumable(consumable_id)
            item = escape(consumable.name.get(read.language)) if consumable else ""
            question = _("📝 {name}: how many of {item}? Reply with a whole number.").replace("{item}", item)
        await care.answer_refused(message, prompt, error, question)
        return
    assert meeting is not None
    text, keyboard = catalogue_view(read, meeting, lines, 0, sent=False)
    await message.reply(_("✅ Recorded.") + "\n\n" + text, reply_markup=markup(keyboard))


# ---------------------------------------------------------------------------- the fee confirmation


async def fee_pressed(callback: CallbackQuery, callback_data: FeeData, care: AftercareContext) -> None:
    """a: the organiser accepts the fee; d: disputes it, and is asked the reason."""
    fee_id, user_id = callback_data.fee_id, callback.from_user.id
    try:
        if callback_data.action == "a":
            async with care.db.transaction() as session:
                fee, notices = await care.service.decide_fee(session, fee_id, user_id, accept=True)
                await care.delivery.deliver(session, notices)
                meeting = await care.service.meeting(session, fee.booking_id)
            await answer_quietly(callback, _("✅ Accepted. Thank you!"))
            await show(callback, fee_text(care.read, fee, meeting))
            return
        async with care.db.transaction() as session:
            fee = await care.service.check_fee_decision(session, fee_id, user_id)
    except AftercareError as error:
        await care.refuse(callback, error)
        return
    message = callback.message
    await care.ask_presser(
        callback,
        _("Reply to my question with the reason."),
        text=_(
            "📝 Why do you dispute fee confirmation #{number}? Reply to this message with the reason."
        ).format(number=fee.id),
        kind=DISPUTE,
        ref_id=fee.id,
        extra={"message_id": message.message_id if message is not None else None},
    )


@answers_to(DISPUTE)
async def dispute_answer(message: Message, prompt: PromptView, care: AftercareContext) -> None:
    service = care.service
    try:
        async with care.db.transaction() as session:
            fee, notices = await service.decide_fee(
                session, prompt.ref_id, prompt.user_id, False, typed(message)
            )
            await care.delivery.deliver(session, notices)
            await service.answered(session, prompt.chat_id, prompt.message_id)
            meeting = await service.meeting(session, fee.booking_id)
    except AftercareError as error:
        question = _("📝 Why do you dispute the fee? Reply to this message with the reason.")
        await care.answer_refused(
            message, prompt, error, question if error.code == "dispute_no_reason" else None
        )
        return
    original = prompt.extra.get("message_id")
    if original:
        with contextlib.suppress(TelegramAPIError):
            await care.bot.edit_message_text(
                fee_text(care.read, fee, meeting),
                chat_id=prompt.chat_id,
                message_id=int(original),
                reply_markup=None,
            )
    await message.reply(_("❓ Your objection was sent to the supervisor, who will contact you."))


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.callback_query.register(consumables_pressed, ConsumablesData.filter())
    router.callback_query.register(consumables_page_pressed, ConsumablesPageData.filter())
    router.callback_query.register(consumable_pressed, ConsumableItemData.filter())
    router.callback_query.register(fee_pressed, FeeData.filter())
