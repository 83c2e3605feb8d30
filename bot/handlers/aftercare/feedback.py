"""Feedback in private: the organiser rates the service with a button (or types a score and a
comment), and may add a comment afterwards."""

from __future__ import annotations

import contextlib

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.aftercare.common import COMMENT, SCORE, AftercareContext, answers_to, typed
from bot.handlers.replies import answer_quietly, markup, show
from bot.render.aftercare import thanks_keyboard, thanks_text
from bot.services.aftercare import AftercareError, PromptView, parse_score
from bot.telegram.callback_data import FeedbackData, ScoreData


async def score_pressed(callback: CallbackQuery, callback_data: ScoreData, care: AftercareContext) -> None:
    booking_id = callback_data.booking_id
    try:
        async with care.db.transaction() as session:
            view, notices = await care.service.rate(
                session, booking_id, callback.from_user.id, callback_data.score
            )
            await care.delivery.deliver(session, notices)
    except AftercareError as error:
        await care.refuse(callback, error)
        return
    await answer_quietly(callback, _("Thank you!"))
    await show(
        callback,
        thanks_text(care.read, view.score or 0, view.comment),
        thanks_keyboard(care.read, booking_id, None),
    )


async def feedback_pressed(
    callback: CallbackQuery, callback_data: FeedbackData, care: AftercareContext
) -> None:
    """t: type a score (and a comment); c: add a comment to the score given."""
    booking_id = callback_data.booking_id
    message = callback.message
    try:
        async with care.db.transaction() as session:
            view = await care.service.check_rater(session, booking_id, callback.from_user.id)
        if callback_data.action == "t":
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
        await care.refuse(callback, error)
        return
    await care.ask_presser(
        callback,
        None,
        text=text,
        kind=kind,
        ref_id=booking_id,
        extra={"message_id": message.message_id if message is not None else None},
    )


@answers_to(SCORE, COMMENT)
async def feedback_answer(message: Message, prompt: PromptView, care: AftercareContext) -> None:
    service = care.service
    try:
        async with care.db.transaction() as session:
            if prompt.kind == SCORE:
                score, comment = parse_score(typed(message))
                view, notices = await service.rate(session, prompt.ref_id, prompt.user_id, score, comment)
            else:
                view, notices = await service.comment(session, prompt.ref_id, prompt.user_id, typed(message))
            await care.delivery.deliver(session, notices)
            await service.answered(session, prompt.chat_id, prompt.message_id)
    except AftercareError as error:
        question = (
            _("📝 Reply to this message with a score from 1 to 5, and a comment if you like.")
            if prompt.kind == SCORE
            else _("📝 Reply to this message with your comment.")
        )
        retry = error.code in ("score_not_number", "digits_only", "score_out_of_range", "comment_empty")
        await care.answer_refused(message, prompt, error, question if retry else None)
        return
    original = prompt.extra.get("message_id")
    if original:
        with contextlib.suppress(TelegramAPIError):
            await care.bot.edit_message_text(
                thanks_text(care.read, view.score or 0, view.comment),
                chat_id=prompt.chat_id,
                message_id=int(original),
                reply_markup=markup(thanks_keyboard(care.read, prompt.ref_id, view.comment)),
            )
    await message.reply(thanks_text(care.read, view.score or 0, view.comment))


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.callback_query.register(score_pressed, ScoreData.filter())
    router.callback_query.register(feedback_pressed, FeedbackData.filter())
