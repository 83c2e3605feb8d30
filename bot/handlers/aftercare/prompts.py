"""The typed answers to the after-care questions (an item's description, a quantity, the
receiver of an item, a dispute's reason, a score, a comment).

Each question is asked with ForceReply and stored (bot/handlers/aftercare/common.py): the next
message of the person asked, in that chat and within ten minutes, is the answer, quoted or not
(:func:`take_typed_answer`, called by bot/handlers/prompts.py); a reply quoting a stored
question is its answer at any time, also after a restart (:func:`prompt_answered`). Only the
person who was asked can answer it (in a group with privacy mode on, such a reply is the only
way the bot hears the answer). The topic modules take the answers they asked for
(:func:`bot.handlers.aftercare.common.answers_to`).
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Filter
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.delivery.notices import NoticeDelivery

# The topic modules register their handlers first: a command quoting a question (/lost) is the
# command, not an answer, and they register the functions that take the answers.
from bot.handlers.aftercare.common import (
    COMMENT,
    DISPUTE,
    HANDOVER,
    LOST_ITEM,
    QUANTITY,
    SCORE,
    AftercareContext,
    answer_of,
)
from bot.handlers.prompts import Outcome, PendingPrompt, PendingPrompts, takes_answers
from bot.render.text import Reader
from bot.services.aftercare import AftercareService, PromptView
from bot.site import SiteConfig
from storage.database import Database


class PromptReply(Filter):
    """A reply to one of the after-care questions, found in the database."""

    async def __call__(
        self, message: Message, bot: Bot, db: Database, aftercare_service: AftercareService
    ) -> bool | dict[str, Any]:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or replied.from_user.id != bot.id:
            return False
        async with db.transaction() as session:
            prompt = await aftercare_service.prompt(session, message.chat.id, replied.message_id)
        if prompt is None:
            return False
        return {"prompt": prompt}


async def _answer(message: Message, prompt: PromptView, care: AftercareContext) -> None:
    """``message`` answers ``prompt`` (asked to its author)."""
    answer = answer_of(prompt.kind)
    if answer is not None:
        await answer(message, prompt, care)


async def prompt_answered(
    message: Message, prompt: PromptView, care: AftercareContext, prompts: PendingPrompts
) -> None:
    """A reply quoting one of the questions (a pending prompt or an older one)."""
    if message.from_user is None or message.from_user.id != prompt.user_id:
        await message.reply(
            _("This question was asked to someone else: press the button yourself to answer.")
        )
        return
    await _answer(message, prompt, care)
    # answered, or asked again as a new question (then the newer one is the pending prompt)
    await prompts.forget(message.chat.id, message.from_user.id, prompt.message_id)


@takes_answers(LOST_ITEM, QUANTITY, HANDOVER, DISPUTE, SCORE, COMMENT)
async def take_typed_answer(
    message: Message,
    pending_prompt: PendingPrompt,
    bot: Bot,
    site: SiteConfig,
    db: Database,
    delivery: NoticeDelivery,
    prompts: PendingPrompts,
    aftercare_service: AftercareService,
    read: Reader,
) -> Outcome:
    """The next message of the person asked, not quoting the question: the answer all the same."""
    care = AftercareContext(bot, db, site, aftercare_service, prompts, delivery, read)
    async with db.transaction() as session:
        prompt = await care.service.prompt(session, message.chat.id, pending_prompt.question_id)
    if prompt is None or message.from_user is None or message.from_user.id != prompt.user_id:
        return Outcome.GONE  # answered meanwhile by quoting it, or forgotten
    await _answer(message, prompt, care)
    return Outcome.ANSWERED


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(prompt_answered, PromptReply())
