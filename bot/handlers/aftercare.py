"""After the meeting: Item found and Consumables used in the groups, /lost, the fee
confirmation and the feedback in private.

Typed answers (a description, a quantity, a reason, a score) are asked for by ForceReply
questions (bot/handlers/prompts.py): the next message of the person asked, in that chat and
within ten minutes, is the answer, quoted or not. Each question is also stored (``prompts``),
so a reply quoting it is understood after a restart too, and only the person who was asked
can answer it (in a group with privacy mode on, such a reply is the only way the bot hears
the answer). Button data carries ids only (see bot/render/aftercare.py); who may press is
checked on every press.
"""

from __future__ import annotations

import contextlib
import re
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, Message, ReplyParameters
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.delivery.notices import NoticeDelivery
from bot.handlers.prompts import Outcome, PendingPrompt, PendingPrompts, takes_answers
from bot.handlers.prompts import ask as ask_question
from bot.handlers.replies import (
    answer_quietly,
    carries_no_words,
    markup,
    reader,
    refuse_button,
    show,
    text_needed,
)
from bot.render.aftercare import (
    LOST_PAGE,
    catalogue_view,
    error_text,
    fee_text,
    lost_list,
    thanks_keyboard,
    thanks_text,
)
from bot.render.text import Reader
from bot.services.aftercare import AftercareError, AftercareService, PromptView, parse_quantity, parse_score
from bot.services.clock import Clock
from bot.services.dispatch import team_of_chat
from bot.services.people import PersonContext, shown_name
from bot.services.strict import parse_id
from bot.site import SiteConfig, Team
from storage.database import Database

router = Router(name=__name__)

# The ids are read by parse_id (ASCII digits only): data the bot never wrote is refused there.
FOUND = re.compile(r"^lf:n:([^:]{1,16})$")
CONSUMABLES = re.compile(r"^cs:(o|c|i|s):([^:]{1,16})(?::([^:]{1,24}))?$")
FEE = re.compile(r"^fee:(a|d):([^:]{1,16})$")
FEEDBACK = re.compile(r"^fb:([^:]{1,16}):([^:]{1,2})$")
LOST = re.compile(r"^lost:(p|h|ph):([^:]{1,16})$")

LOST_ITEM = "lost_item"
QUANTITY = "quantity"
HANDOVER = "handover"
DISPUTE = "dispute"
SCORE = "score"
COMMENT = "comment"


def _service(site: SiteConfig, clock: Clock) -> AftercareService:
    return AftercareService(site, clock)


def _mention(user_id: int, name: str | None) -> str:
    shown = shown_name(name or "") or "…"  # a Telegram name, cleaned as a stored one is
    return f'<a href="tg://user?id={user_id}">{escape(shown, quote=False)}</a>'


async def _ask(
    bot: Bot,
    db: Database,
    service: AftercareService,
    prompts: PendingPrompts,
    *,
    chat_id: int,
    user_id: int,
    text: str,
    kind: str,
    ref_id: int,
    extra: dict[str, Any] | None = None,
    reply_to: int | None = None,
) -> None:
    """Ask with ForceReply and remember the question (the person's pending prompt, and in the
    database for a reply quoting it), so the answer can be matched to it."""
    sent = await ask_question(
        bot,
        prompts,
        chat_id=chat_id,
        user_id=user_id,
        text=text,
        topic=kind,
        subject={"ref_id": ref_id},
        reply_to=reply_to,
    )
    async with db.transaction() as session:
        await service.ask(
            session,
            chat_id=chat_id,
            message_id=sent.message_id,
            user_id=user_id,
            kind=kind,
            ref_id=ref_id,
            extra=extra,
        )


async def _ask_presser(
    callback: CallbackQuery,
    bot: Bot,
    db: Database,
    service: AftercareService,
    prompts: PendingPrompts,
    hint: str | None,
    *,
    text: str,
    kind: str,
    ref_id: int,
    extra: dict[str, Any] | None = None,
) -> None:
    """Answer the press with ``hint`` and ask the person who pressed, in the button's chat."""
    await answer_quietly(callback, hint)
    await _ask(
        bot,
        db,
        service,
        prompts,
        chat_id=_chat_of(callback),
        user_id=callback.from_user.id,
        text=text,
        kind=kind,
        ref_id=ref_id,
        extra=extra,
    )


async def _group_team(db: Database, site: SiteConfig, chat_id: int) -> Team | None:
    if chat_id > 0:
        return None
    async with db.transaction() as session:
        return await team_of_chat(session, site, chat_id)


def _chat_of(callback: CallbackQuery) -> int:
    """The chat the pressed button is in (the presser's private chat if the message is gone)."""
    message = callback.message
    return message.chat.id if message is not None else callback.from_user.id


async def _refuse(callback: CallbackQuery, read: Reader, error: AftercareError | str) -> None:
    """Answer a press that changes nothing with the reason, as an alert."""
    if isinstance(error, str):
        error = AftercareError(error)
    await answer_quietly(callback, error_text(read, error), alert=True)


async def _answer_refused(
    message: Message,
    prompt: PromptView,
    read: Reader,
    bot: Bot,
    db: Database,
    service: AftercareService,
    prompts: PendingPrompts,
    error: AftercareError,
    question: str | None,
) -> None:
    """Say why an answer was refused: with ``question``, ask it again; without, close the question."""
    why = error_text(read, error)
    if carries_no_words(message):  # a sticker, a voice message, a photo without caption…
        why = text_needed() + "\n" + why
    if question is None:
        async with db.transaction() as session:
            await service.answered(session, prompt.chat_id, prompt.message_id)
        await message.reply(why)
    else:
        await _reask(message, prompt, read, bot, db, service, prompts, why + "\n" + question)


def typed(message: Message) -> str | None:
    """The text (or a photo's caption) of an answer; a command is no answer."""
    text = message.text if message.text is not None else message.caption
    if text is None or text.lstrip().startswith("/"):
        return None
    return text


# ---------------------------------------------------------------------------- Item found


def _found_question(read: Reader, user_id: int, name: str | None, room: str) -> str:
    return (
        _(
            "📝 {name}, describe the item found after the meeting in {room}: reply to this message with a "
            "description, or with a photo that has the description as its caption."
        )
        .replace("{name}", _mention(user_id, name))
        .replace("{room}", room)
    )


@router.callback_query(F.data.regexp(FOUND).as_("match"))
async def item_found_pressed(
    callback: CallbackQuery,
    match: re.Match[str],
    bot: Bot,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    db: Database,
    prompts: PendingPrompts,
) -> None:
    read = reader(i18n, site)
    service = _service(site, clock)
    booking_id = parse_id(match.group(1))
    if booking_id is None:
        await refuse_button(callback)
        return
    chat_id = _chat_of(callback)
    team = await _group_team(db, site, chat_id)
    if not service.may_record(callback.from_user.id, team):
        await _refuse(callback, read, "not_allowed_here")
        return
    async with db.transaction() as session:
        meeting = await service.meeting(session, booking_id)
    if meeting is None:
        await _refuse(callback, read, "meeting_not_found")
        return
    await _ask_presser(
        callback,
        bot,
        db,
        service,
        prompts,
        _("Reply to my question with the description."),
        text=_found_question(
            read, callback.from_user.id, callback.from_user.first_name, read.room_name(meeting.room_id)
        ),
        kind=LOST_ITEM,
        ref_id=booking_id,
        extra={"team_id": team.id if team else None},
    )


async def _lost_item_answer(
    message: Message,
    prompt: PromptView,
    read: Reader,
    bot: Bot,
    db: Database,
    service: AftercareService,
    prompts: PendingPrompts,
    delivery: NoticeDelivery,
) -> None:
    description = typed(message)
    photo = message.photo[-1].file_id if message.photo else prompt.extra.get("photo")
    if not (description or "").strip():
        if message.photo:
            text = _(
                "📝 {name}, thank you for the photo. Now reply to this message with a short description."
            )
        else:
            text = (
                (text_needed() + "\n" if carries_no_words(message) else "")
                + error_text(read, AftercareError("item_no_description"))
                + "\n"
                + _("📝 {name}, reply to this message with a description of the item.")
            )
        await _reask(
            message, prompt, read, bot, db, service, prompts, text, extra={**prompt.extra, "photo": photo}
        )
        return
    try:
        async with db.transaction() as session:
            item, notices = await service.register_item(
                session, prompt.ref_id, prompt.user_id, prompt.extra.get("team_id"), description, photo
            )
            await delivery.deliver(session, notices)
            await service.answered(session, prompt.chat_id, prompt.message_id)
    except AftercareError as error:
        await message.reply(error_text(read, error))
        return
    photo_note = _(" (with a photo)") if item.photo_file_id else _(" (no photo)")
    await message.reply(
        _("🧳 Registered as item #{number}{photo}. The organiser has been told.").format(
            number=item.id, photo=photo_note
        )
    )


async def _reask(
    message: Message,
    prompt: PromptView,
    read: Reader,
    bot: Bot,
    db: Database,
    service: AftercareService,
    prompts: PendingPrompts,
    text: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Ask the same question again (after a bad answer), as a new ForceReply."""
    name = message.from_user.first_name if message.from_user else None
    async with db.transaction() as session:
        await service.answered(session, prompt.chat_id, prompt.message_id)
    await _ask(
        bot,
        db,
        service,
        prompts,
        chat_id=prompt.chat_id,
        user_id=prompt.user_id,
        text=text.replace("{name}", _mention(prompt.user_id, name)),
        kind=prompt.kind,
        ref_id=prompt.ref_id,
        extra=prompt.extra if extra is None else extra,
        reply_to=message.message_id,
    )


# ---------------------------------------------------------------------------- consumables


@router.callback_query(F.data.regexp(CONSUMABLES).as_("match"))
async def consumables_pressed(
    callback: CallbackQuery,
    match: re.Match[str],
    bot: Bot,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    db: Database,
    delivery: NoticeDelivery,
    prompts: PendingPrompts,
) -> None:
    read = reader(i18n, site)
    service = _service(site, clock)
    action, booking_id, argument = match.group(1), parse_id(match.group(2)), match.group(3)
    page = parse_id(argument, 3) if action == "c" and argument else 0
    if booking_id is None or page is None:
        await refuse_button(callback)
        return
    message = callback.message
    chat_id = _chat_of(callback)
    team = await _group_team(db, site, chat_id)
    if not service.may_record(callback.from_user.id, team):
        await _refuse(callback, read, "not_allowed_here")
        return
    async with db.transaction() as session:
        meeting = await service.meeting(session, booking_id)
        lines = await service.consumption(session, booking_id)
        fee = await service.fee_of_booking(session, booking_id)
    if meeting is None:
        await _refuse(callback, read, "meeting_not_found")
        return
    if action in ("o", "c"):
        text, keyboard = catalogue_view(read, meeting, lines, page, sent=fee is not None)
        await answer_quietly(callback)
        if action == "o" and message is not None:
            # a panel of its own: the "meeting ended" card stays for the others
            await bot.send_message(
                chat_id,
                text,
                reply_markup=markup(keyboard),
                reply_parameters=ReplyParameters(
                    message_id=message.message_id, allow_sending_without_reply=True
                ),
            )
        else:
            await show(callback, text, keyboard)
        return
    if action == "i":
        consumable = site.consumable(argument or "")
        if consumable is None:
            await _refuse(callback, read, "unknown_consumable")
            return
        if fee is not None:
            await _refuse(callback, read, "fee_already_sent")
            return
        await _ask_presser(
            callback,
            bot,
            db,
            service,
            prompts,
            _("Reply to my question with the quantity."),
            text=_("📝 {name}: how many {unit} of {item} did the meeting use? Reply with a number.").format(
                name=_mention(callback.from_user.id, callback.from_user.first_name),
                unit=escape(consumable.unit.get(read.language)),
                item=escape(consumable.name.get(read.language)),
            ),
            kind=QUANTITY,
            ref_id=booking_id,
            extra={"consumable_id": consumable.id, "team_id": team.id if team else None},
        )
        return
    # action == "s": send the fee confirmation to the organiser
    try:
        async with db.transaction() as session:
            _sent, notices = await service.send_fee(session, booking_id, callback.from_user.id)
            await delivery.deliver(session, notices)
            lines = await service.consumption(session, booking_id)
    except AftercareError as error:
        await _refuse(callback, read, error)
        return
    await answer_quietly(callback, _("🧾 Sent to the organiser."))
    text, keyboard = catalogue_view(read, meeting, lines, 0, sent=True)
    await show(callback, text, keyboard)


async def _quantity_answer(
    message: Message,
    prompt: PromptView,
    read: Reader,
    bot: Bot,
    db: Database,
    service: AftercareService,
    prompts: PendingPrompts,
) -> None:
    consumable_id = str(prompt.extra.get("consumable_id", ""))
    try:
        quantity = parse_quantity(typed(message))
        async with db.transaction() as session:
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
        await _answer_refused(message, prompt, read, bot, db, service, prompts, error, question)
        return
    assert meeting is not None
    text, keyboard = catalogue_view(read, meeting, lines, 0, sent=False)
    await message.reply(_("✅ Recorded.") + "\n\n" + text, reply_markup=markup(keyboard))


# ---------------------------------------------------------------------------- /lost


def _may_see_lost(service: AftercareService, person: PersonContext) -> bool:
    return service.is_staff(person.user_id)


@router.message(Command("lost"))
async def lost_command(
    message: Message, person: PersonContext, site: SiteConfig, clock: Clock, i18n: I18n, db: Database
) -> None:
    read = reader(i18n, site)
    service = _service(site, clock)
    if not _may_see_lost(service, person):
        await message.answer(error_text(read, AftercareError("not_staff")))
        return
    async with db.transaction() as session:
        items, total = await service.unclaimed(session, 0, LOST_PAGE)
    text, keyboard = lost_list(read, items, total, 0)
    await message.answer(text, reply_markup=markup(keyboard))


@router.callback_query(F.data.regexp(LOST).as_("match"))
async def lost_pressed(
    callback: CallbackQuery,
    match: re.Match[str],
    person: PersonContext,
    bot: Bot,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    db: Database,
    prompts: PendingPrompts,
) -> None:
    read = reader(i18n, site)
    service = _service(site, clock)
    action, number = match.group(1), parse_id(match.group(2))
    if number is None:
        await refuse_button(callback)
        return
    chat_id = _chat_of(callback)
    if action == "ph":
        async with db.transaction() as session:
            item = await service.item(session, number)
            meeting = await service.meeting(session, item.booking_id) if item and item.booking_id else None
        organiser = meeting is not None and meeting.requester_id == person.user_id
        if item is None or not item.photo_file_id:
            await _refuse(callback, read, "item_not_found")
            return
        if not (organiser or _may_see_lost(service, person)):
            await _refuse(callback, read, "not_organiser")
            return
        await answer_quietly(callback)
        await bot.send_photo(
            chat_id, item.photo_file_id, caption=_("🧳 Item #{number}").format(number=item.id)
        )
        return
    if not _may_see_lost(service, person):
        await _refuse(callback, read, "not_staff")
        return
    if action == "p":
        async with db.transaction() as session:
            items, total = await service.unclaimed(session, number, LOST_PAGE)
        await answer_quietly(callback)
        await show(callback, *lost_list(read, items, total, number))
        return
    async with db.transaction() as session:
        item = await service.item(session, number)
    if item is None or item.status != "unclaimed":
        code = "item_not_found" if item is None else "item_closed"
        await _refuse(callback, read, code)
        return
    await _ask_presser(
        callback,
        bot,
        db,
        service,
        prompts,
        _("Reply to my question with the receiver's name."),
        text=_("📝 {name}: who received item #{number}? Reply with their name (and unit).").format(
            name=_mention(callback.from_user.id, callback.from_user.first_name), number=item.id
        ),
        kind=HANDOVER,
        ref_id=item.id,
    )


async def _handover_answer(
    message: Message,
    prompt: PromptView,
    read: Reader,
    bot: Bot,
    db: Database,
    service: AftercareService,
    prompts: PendingPrompts,
) -> None:
    try:
        async with db.transaction() as session:
            item = await service.hand_over(session, prompt.ref_id, prompt.user_id, typed(message))
            await service.answered(session, prompt.chat_id, prompt.message_id)
    except AftercareError as error:
        question = _("📝 {name}: who received the item? Reply with their name.")
        await _answer_refused(
            message,
            prompt,
            read,
            bot,
            db,
            service,
            prompts,
            error,
            question if error.code == "handover_no_name" else None,
        )
        return
    await message.reply(
        _("✅ Item #{number} handed over to {receiver}.").format(
            number=item.id, receiver=escape(item.handed_to or "", quote=False)
        )
    )


# ---------------------------------------------------------------------------- the fee confirmation


@router.callback_query(F.data.regexp(FEE).as_("match"))
async def fee_pressed(
    callback: CallbackQuery,
    match: re.Match[str],
    bot: Bot,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    db: Database,
    delivery: NoticeDelivery,
    prompts: PendingPrompts,
) -> None:
    read = reader(i18n, site)
    service = _service(site, clock)
    action, fee_id = match.group(1), parse_id(match.group(2))
    if fee_id is None:
        await refuse_button(callback)
        return
    user_id = callback.from_user.id
    try:
        if action == "a":
            async with db.transaction() as session:
                fee, notices = await service.decide_fee(session, fee_id, user_id, accept=True)
                await delivery.deliver(session, notices)
                meeting = await service.meeting(session, fee.booking_id)
            await answer_quietly(callback, _("✅ Accepted. Thank you!"))
            await show(callback, fee_text(read, fee, meeting))
            return
        async with db.transaction() as session:
            fee = await service.check_fee_decision(session, fee_id, user_id)
    except AftercareError as error:
        await _refuse(callback, read, error)
        return
    message = callback.message
    await _ask_presser(
        callback,
        bot,
        db,
        service,
        prompts,
        _("Reply to my question with the reason."),
        text=_(
            "📝 Why do you dispute fee confirmation #{number}? Reply to this message with the reason."
        ).format(number=fee.id),
        kind=DISPUTE,
        ref_id=fee.id,
        extra={"message_id": message.message_id if message is not None else None},
    )


async def _dispute_answer(
    message: Message,
    prompt: PromptView,
    read: Reader,
    bot: Bot,
    db: Database,
    service: AftercareService,
    prompts: PendingPrompts,
    delivery: NoticeDelivery,
) -> None:
    try:
        async with db.transaction() as session:
            fee, notices = await service.decide_fee(
                session, prompt.ref_id, prompt.user_id, False, typed(message)
            )
            await delivery.deliver(session, notices)
            await service.answered(session, prompt.chat_id, prompt.message_id)
            meeting = await service.meeting(session, fee.booking_id)
    except AftercareError as error:
        question = _("📝 Why do you dispute the fee? Reply to this message with the reason.")
        await _answer_refused(
            message,
            prompt,
            read,
            bot,
            db,
            service,
            prompts,
            error,
            question if error.code == "dispute_no_reason" else None,
        )
        return
    original = prompt.extra.get("message_id")
    if original:
        with contextlib.suppress(TelegramAPIError):
            await bot.edit_message_text(
                fee_text(read, fee, meeting),
                chat_id=prompt.chat_id,
                message_id=int(original),
                reply_markup=None,
            )
    await message.reply(_("❓ Your objection was sent to the supervisor, who will contact you."))


# ---------------------------------------------------------------------------- feedback


@router.callback_query(F.data.regexp(FEEDBACK).as_("match"))
async def feedback_pressed(
    callback: CallbackQuery,
    match: re.Match[str],
    bot: Bot,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    db: Database,
    delivery: NoticeDelivery,
    prompts: PendingPrompts,
) -> None:
    read = reader(i18n, site)
    service = _service(site, clock)
    booking_id, action = parse_id(match.group(1)), match.group(2)
    if booking_id is None:
        await refuse_button(callback)
        return
    score = parse_id(action, 2)
    if score is None and action not in ("t", "c"):
        await refuse_button(callback)
        return
    user_id = callback.from_user.id
    message = callback.message
    try:
        if score is not None:
            async with db.transaction() as session:
                view, notices = await service.rate(session, booking_id, user_id, score)
                await delivery.deliver(session, notices)
            await answer_quietly(callback, _("Thank you!"))
            await show(
                callback,
                thanks_text(read, view.score or 0, view.comment),
                thanks_keyboard(read, booking_id, None),
            )
            return
        async with db.transaction() as session:
            view = await service.check_rater(session, booking_id, user_id)
        if action == "t":
            if view.score is not None:
                raise AftercareError("already_rated")
            text, kind = (
                _(
                    "📝 Reply to this message with a score from 1 to 5 and, if you like, a comment "
                    "(for example “4 good tea service”)."
                ),
                SCORE,
            )
        else:
            if view.score is None:
                raise AftercareError("not_rated")
            if view.comment:
                raise AftercareError("already_commented")
            text, kind = _("📝 Reply to this message with your comment."), COMMENT
    except AftercareError as error:
        await _refuse(callback, read, error)
        return
    await _ask_presser(
        callback,
        bot,
        db,
        service,
        prompts,
        None,
        text=text,
        kind=kind,
        ref_id=booking_id,
        extra={"message_id": message.message_id if message is not None else None},
    )


async def _feedback_answer(
    message: Message,
    prompt: PromptView,
    read: Reader,
    bot: Bot,
    db: Database,
    service: AftercareService,
    prompts: PendingPrompts,
    delivery: NoticeDelivery,
) -> None:
    try:
        async with db.transaction() as session:
            if prompt.kind == SCORE:
                score, comment = parse_score(typed(message))
                view, notices = await service.rate(session, prompt.ref_id, prompt.user_id, score, comment)
            else:
                view, notices = await service.comment(session, prompt.ref_id, prompt.user_id, typed(message))
            await delivery.deliver(session, notices)
            await service.answered(session, prompt.chat_id, prompt.message_id)
    except AftercareError as error:
        question = (
            _("📝 Reply to this message with a score from 1 to 5, and a comment if you like.")
            if prompt.kind == SCORE
            else _("📝 Reply to this message with your comment.")
        )
        retry = error.code in ("score_not_number", "digits_only", "score_out_of_range", "comment_empty")
        await _answer_refused(
            message, prompt, read, bot, db, service, prompts, error, question if retry else None
        )
        return
    original = prompt.extra.get("message_id")
    if original:
        with contextlib.suppress(TelegramAPIError):
            await bot.edit_message_text(
                thanks_text(read, view.score or 0, view.comment),
                chat_id=prompt.chat_id,
                message_id=int(original),
                reply_markup=markup(thanks_keyboard(read, prompt.ref_id, view.comment)),
            )
    await message.reply(thanks_text(read, view.score or 0, view.comment))


# ---------------------------------------------------------------------------- answers to questions


class PromptReply(Filter):
    """A reply to one of the after-care questions, found in the database."""

    async def __call__(
        self, message: Message, bot: Bot, db: Database, site: SiteConfig, clock: Clock
    ) -> bool | dict[str, Any]:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or replied.from_user.id != bot.id:
            return False
        async with db.transaction() as session:
            prompt = await _service(site, clock).prompt(session, message.chat.id, replied.message_id)
        if prompt is None:
            return False
        return {"prompt": prompt}


async def _answer(
    message: Message,
    prompt: PromptView,
    read: Reader,
    bot: Bot,
    db: Database,
    service: AftercareService,
    prompts: PendingPrompts,
    delivery: NoticeDelivery,
) -> None:
    """``message`` answers ``prompt`` (asked to its author)."""
    if prompt.kind == LOST_ITEM:
        await _lost_item_answer(message, prompt, read, bot, db, service, prompts, delivery)
    elif prompt.kind == QUANTITY:
        await _quantity_answer(message, prompt, read, bot, db, service, prompts)
    elif prompt.kind == HANDOVER:
        await _handover_answer(message, prompt, read, bot, db, service, prompts)
    elif prompt.kind == DISPUTE:
        await _dispute_answer(message, prompt, read, bot, db, service, prompts, delivery)
    elif prompt.kind in (SCORE, COMMENT):
        await _feedback_answer(message, prompt, read, bot, db, service, prompts, delivery)


@router.message(PromptReply())
async def prompt_answered(
    message: Message,
    prompt: PromptView,
    bot: Bot,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    db: Database,
    delivery: NoticeDelivery,
    prompts: PendingPrompts,
) -> None:
    """A reply quoting one of the questions (a pending prompt or an older one)."""
    if message.from_user is None or message.from_user.id != prompt.user_id:
        await message.reply(
            _("This question was asked to someone else: press the button yourself to answer.")
        )
        return
    await _answer(message, prompt, reader(i18n, site), bot, db, _service(site, clock), prompts, delivery)
    # answered, or asked again as a new question (then the newer one is the pending prompt)
    await prompts.forget(message.chat.id, message.from_user.id, prompt.message_id)


@takes_answers(LOST_ITEM, QUANTITY, HANDOVER, DISPUTE, SCORE, COMMENT)
async def take_typed_answer(
    message: Message,
    pending_prompt: PendingPrompt,
    bot: Bot,
    site: SiteConfig,
    clock: Clock,
    i18n: I18n,
    db: Database,
    delivery: NoticeDelivery,
    prompts: PendingPrompts,
) -> Outcome:
    """The next message of the person asked, not quoting the question: the answer all the same."""
    service = _service(site, clock)
    async with db.transaction() as session:
        prompt = await service.prompt(session, message.chat.id, pending_prompt.question_id)
    if prompt is None or message.from_user is None or message.from_user.id != prompt.user_id:
        return Outcome.GONE  # answered meanwhile by quoting it, or forgotten
    await _answer(message, prompt, reader(i18n, site), bot, db, service, prompts, delivery)
    return Outcome.ANSWERED
