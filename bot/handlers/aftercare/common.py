"""What the after-care handlers share: their one router, what a handler works with for an
update (:class:`AftercareContext`), and the typed-answer questions they ask.

A question is asked with ForceReply (bot/handlers/prompts.py) and also stored in the database
(``AftercareService.ask``), so a reply quoting it is understood after a restart too. Each topic
module registers the function that takes the answers to its questions with :func:`answers_to`;
bot/handlers/aftercare/prompts.py matches an answer to its question and calls it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.delivery.notices import NoticeDelivery
from bot.handlers.prompts import PendingPrompts
from bot.handlers.prompts import ask as ask_question
from bot.handlers.replies import answer_quietly, carries_no_words, text_needed
from bot.render.aftercare import error_text
from bot.render.text import Reader
from bot.services.aftercare import AftercareError, AftercareService, MeetingRef, PromptView
from bot.services.dispatch import team_of_chat
from bot.services.people import shown_name
from bot.site import SiteConfig, Team
from storage.database import Database

# What a stored question asks (``AftercareService.ask``'s kind, the pending prompt's topic).
LOST_ITEM = "lost_item"
QUANTITY = "quantity"
HANDOVER = "handover"
DISPUTE = "dispute"
SCORE = "score"
COMMENT = "comment"


@dataclass(frozen=True)
class AftercareContext:
    """What an after-care handler works with for one update, in the update's language."""

    bot: Bot
    db: Database
    site: SiteConfig
    service: AftercareService
    prompts: PendingPrompts
    delivery: NoticeDelivery
    read: Reader

    async def meeting(self, booking_id: int) -> MeetingRef | None:
        async with self.db.transaction() as session:
            return await self.service.meeting(session, booking_id)

    async def group_team(self, chat_id: int) -> Team | None:
        """The team whose group ``chat_id`` is (None in a private chat)."""
        if chat_id > 0:
            return None
        async with self.db.transaction() as session:
            return await team_of_chat(session, self.site, chat_id)

    async def answered(self, prompt: PromptView) -> None:
        """The question is closed: answered, refused for good, or asked again."""
        async with self.db.transaction() as session:
            await self.service.answered(session, prompt.chat_id, prompt.message_id)

    async def refuse(self, callback: CallbackQuery, error: AftercareError | str) -> None:
        """Answer a press that changes nothing with the reason, as an alert."""
        if isinstance(error, str):
            error = AftercareError(error)
        await answer_quietly(callback, error_text(self.read, error), alert=True)

    async def ask(
        self,
        *,
        chat_id: int,
        user_id: int,
        text: str,
        kind: str,
        ref_id: int,
        extra: dict[str, Any] | None = None,
        reply_to: int | None = None,
    ) -> None:
        """Ask with ForceReply and remember the question (the person's pending prompt, and in
        the database for a reply quoting it), so the answer can be matched to it."""
        sent = await ask_question(
            self.bot,
            self.prompts,
            chat_id=chat_id,
            user_id=user_id,
            text=text,
            topic=kind,
            subject={"ref_id": ref_id},
            reply_to=reply_to,
        )
        async with self.db.transaction() as session:
            await self.service.ask(
                session,
                chat_id=chat_id,
                message_id=sent.message_id,
                user_id=user_id,
                kind=kind,
                ref_id=ref_id,
                extra=extra,
            )

    async def ask_presser(
        self,
        callback: CallbackQuery,
        hint: str | None,
        *,
        text: str,
        kind: str,
        ref_id: int,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Answer the press with ``hint`` and ask the person who pressed, in the button's chat."""
        await answer_quietly(callback, hint)
        await self.ask(
            chat_id=chat_of(callback),
            user_id=callback.from_user.id,
            text=text,
            kind=kind,
            ref_id=ref_id,
            extra=extra,
        )

    async def reask(
        self, message: Message, prompt: PromptView, text: str, extra: dict[str, Any] | None = None
    ) -> None:
        """Ask the same question again (after a bad answer), as a new ForceReply."""
        name = message.from_user.first_name if message.from_user else None
        await self.answered(prompt)
        await self.ask(
            chat_id=prompt.chat_id,
            user_id=prompt.user_id,
            text=text.replace("{name}", mention(prompt.user_id, name)),
            kind=prompt.kind,
            ref_id=prompt.ref_id,
            extra=prompt.extra if extra is None else extra,
            reply_to=message.message_id,
        )

    async def answer_refused(
        self, message: Message, prompt: PromptView, error: AftercareError, question: str | None
    ) -> None:
        """Say why an answer was refused: with ``question``, ask it again; without, close the
        question."""
        why = error_text(self.read, error)
        if carries_no_words(message):  # a sticker, a voice message, a photo without caption…
            why = text_needed() + "\n" + why
        if question is None:
            await self.answered(prompt)
            await message.reply(why)
        else:
            await self.reask(message, prompt, why + "\n" + question)


class ProvideAftercareContext(BaseMiddleware):
    """An inner middleware of the after-care router: the handler that matched gets ``care``."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["care"] = AftercareContext(
            data["bot"],
            data["db"],
            data["site"],
            data["aftercare_service"],
            data["prompts"],
            data["delivery"],
            data["read"],
        )
        return await handler(event, data)


def provide_context(router: Router) -> None:
    """Every after-care handler on ``router`` gets ``care``."""
    router.message.middleware(ProvideAftercareContext())
    router.callback_query.middleware(ProvideAftercareContext())


def mention(user_id: int, name: str | None) -> str:
    shown = shown_name(name or "") or "…"  # a Telegram name, cleaned as a stored one is
    return f'<a href="tg://user?id={user_id}">{escape(shown, quote=False)}</a>'


def chat_of(callback: CallbackQuery) -> int:
    """The chat the pressed button is in (the presser's private chat if the message is gone)."""
    message = callback.message
    return message.chat.id if message is not None else callback.from_user.id


def typed(message: Message) -> str | None:
    """The text (or a photo's caption) of an answer; a command is no answer."""
    text = message.text if message.text is not None else message.caption
    if text is None or text.lstrip().startswith("/"):
        return None
    return text


# ---------------------------------------------------------------------------- taking the answers

Answer = Callable[[Message, PromptView, AftercareContext], Awaitable[None]]
"""Takes ``message`` as the answer to ``prompt``, asked to the message's author."""
_answers: dict[str, Answer] = {}


def answers_to(*kinds: str) -> Callable[[Answer], Answer]:
    """Register the function that takes the answers to questions of ``kinds``."""

    def register(answer: Answer) -> Answer:
        for kind in kinds:
            _answers[kind] = answer
        return answer

    return register


def answer_of(kind: str) -> Answer | None:
    return _answers.get(kind)
