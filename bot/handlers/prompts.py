"""Questions a button asks, answered by the asker's next message: quoted or not.

A button that needs words or a photo (Problem → Other, Item found, a consumable's quantity,
a fee dispute, a score, a comment…) asks with :func:`ask`: a ForceReply message (``selective``,
so only the person asked is put into reply mode) and one *pending prompt* for that person in
that chat: what is asked (its topic), about what (its subject), which message asked it, and
when. For :data:`PROMPT_LIFETIME` the person's next message in that chat is the answer, whether
or not it quotes the question: staff on phones rarely quote. A newer question replaces the
record; a new press or a command cancels it (:class:`CancelPendingPrompt`); an answer clears it.

A reply that quotes a question is matched to that question by the module that asked it, as
before (the after-care questions are stored in the database, so such a reply still works after
a restart or days later); this router comes after those modules' routers, so it takes only
what they did not. In a private chat a pending question is never answered with "I did not
understand": this router comes before the booking dialog and the fallback.

The record lives in the dispatcher's FSM storage under a destiny of its own (MemoryStorage for
one process, RedisStorage shared by every instance), never in this process's memory, and it
does not touch the booking dialog's state. Its time is the injected clock's.

In groups Telegram shows the bot a plain message only when the bot may read every message
(privacy mode off, or the bot an admin: /bind checks and says what to change, see
bot/handlers/bind.py). Otherwise the quoted reply, which ForceReply invites, is the way in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from aiogram import BaseMiddleware, Bot, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.filters import Filter
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import CallbackQuery, ForceReply, Message, ReplyParameters, TelegramObject

from bot.services.clock import Clock

PROMPT_LIFETIME = timedelta(minutes=10)
"""How long a plain message is still taken as the answer to the question asked last."""
PROMPT_DESTINY = "typed_answer"
"""The FSM storage's destiny for the pending prompt: apart from the dialogs' state."""


@dataclass(frozen=True)
class PendingPrompt:
    topic: str
    """What is asked: a problem's reason, an item's description, a quantity…"""
    subject: dict[str, Any]
    """About what: ids only (a task, a meeting, a fee), JSON-safe."""
    question_id: int
    """The message that asked it (a quoted reply to it is the answer too)."""
    asked_at: datetime


class Outcome(Enum):
    """What a message did to the pending prompt it was taken for."""

    ANSWERED = "answered"
    """Answered (or refused for good, or asked again as a new question): the record goes."""
    WAITING = "waiting"
    """Not an answer yet (a photo without its caption, say): the same question stays open."""
    GONE = "gone"
    """The question's subject is gone: the record goes and the message goes on to the others."""


class PendingPrompts:
    """The pending prompt of each person in each chat, in the dispatcher's FSM storage."""

    def __init__(self, storage: BaseStorage, clock: Clock, bot_id: int) -> None:
        self.storage = storage
        self.clock = clock
        self.bot_id = bot_id

    def _key(self, chat_id: int, user_id: int) -> StorageKey:
        return StorageKey(bot_id=self.bot_id, chat_id=chat_id, user_id=user_id, destiny=PROMPT_DESTINY)

    async def remember(
        self, chat_id: int, user_id: int, *, topic: str, subject: dict[str, Any], question_id: int
    ) -> None:
        """``user_id`` was just asked ``topic`` about ``subject`` by message ``question_id``."""
        record = {
            "topic": topic,
            "subject": subject,
            "question_id": question_id,
            "asked_at": self.clock.now().isoformat(),
        }
        await self.storage.set_data(self._key(chat_id, user_id), record)

    async def pending(self, chat_id: int, user_id: int) -> PendingPrompt | None:
        """The question awaiting ``user_id``'s answer in ``chat_id``; None once it has expired."""
        key = self._key(chat_id, user_id)
        record = await self.storage.get_data(key)
        if not record:
            return None
        try:
            prompt = PendingPrompt(
                topic=str(record["topic"]),
                subject=dict(record.get("subject") or {}),
                question_id=int(record["question_id"]),
                asked_at=datetime.fromisoformat(str(record["asked_at"])),
            )
        except (KeyError, TypeError, ValueError):  # written by another version: not understood
            await self.storage.set_data(key, {})
            return None
        if self.clock.now() - prompt.asked_at > PROMPT_LIFETIME:
            await self.storage.set_data(key, {})
            return None
        return prompt

    async def forget(self, chat_id: int, user_id: int, question_id: int | None = None) -> None:
        """Drop the pending prompt; with ``question_id``, only if it is still that question (an
        answer that asked again has left a newer one)."""
        key = self._key(chat_id, user_id)
        if question_id is not None:
            record = await self.storage.get_data(key)
            if not record or record.get("question_id") != question_id:
                return
        await self.storage.set_data(key, {})


async def ask(
    bot: Bot,
    prompts: PendingPrompts,
    *,
    chat_id: int,
    user_id: int,
    text: str,
    topic: str,
    subject: dict[str, Any],
    placeholder: str | None = None,
    reply_to: int | None = None,
) -> Message:
    """Ask ``user_id`` in ``chat_id`` and remember the question as their pending prompt.

    The text should mention the person asked (a ``tg://user`` link), so that in a group
    ``selective`` puts only them into reply mode."""
    parameters = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
    sent = await bot.send_message(
        chat_id,
        text,
        reply_markup=ForceReply(force_reply=True, selective=True, input_field_placeholder=placeholder),
        reply_parameters=parameters,
    )
    await prompts.remember(chat_id, user_id, topic=topic, subject=subject, question_id=sent.message_id)
    return sent


def is_command(message: Message) -> bool:
    return (message.text or "").startswith("/")


class CancelPendingPrompt(BaseMiddleware):
    """A new press or a command cancels the person's pending prompt in that chat.

    An outer middleware on the dispatcher's messages and presses: it runs before any handler,
    so the press that asks a new question (which then remembers it) cancels the old one first.
    """

    def __init__(self, prompts: PendingPrompts) -> None:
        self.prompts = prompts

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, CallbackQuery):
            message = event.message
            chat_id = message.chat.id if message is not None else event.from_user.id
            await self.prompts.forget(chat_id, event.from_user.id)
        elif isinstance(event, Message) and event.from_user is not None and is_command(event):
            await self.prompts.forget(event.chat.id, event.from_user.id)
        return await handler(event, data)


# ---------------------------------------------------------------------------- taking the answer

Taker = TypeVar("Taker", bound=Callable[..., Awaitable[Outcome]])
_takers: dict[str, CallableObject] = {}


def takes_answers(*topics: str) -> Callable[[Taker], Taker]:
    """Register the function that takes an unquoted answer to questions of ``topics``.

    It is called like a handler (the message, ``pending_prompt`` and whatever the dispatcher
    injects that it names) and says what became of the question (:class:`Outcome`)."""

    def register(taker: Taker) -> Taker:
        for topic in topics:
            _takers[topic] = CallableObject(taker)
        return taker

    return register


class AnswersPendingPrompt(Filter):
    """A message (not a command) of someone with a pending prompt in this chat."""

    async def __call__(self, message: Message, prompts: PendingPrompts) -> bool | dict[str, Any]:
        if message.from_user is None or is_command(message):
            return False
        found = await prompts.pending(message.chat.id, message.from_user.id)
        return False if found is None else {"pending_prompt": found}


async def pending_prompt_answered(
    message: Message, pending_prompt: PendingPrompt, prompts: PendingPrompts, **data: Any
) -> None:
    assert message.from_user is not None  # AnswersPendingPrompt
    taker = _takers.get(pending_prompt.topic)
    outcome = Outcome.GONE
    if taker is not None:
        outcome = await taker.call(message, pending_prompt=pending_prompt, prompts=prompts, **data)
    if outcome is Outcome.WAITING:
        return
    await prompts.forget(message.chat.id, message.from_user.id, pending_prompt.question_id)
    if outcome is Outcome.GONE:
        raise SkipHandler  # not an answer after all: the dialog or the fallback reads it


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.message.register(pending_prompt_answered, AnswersPendingPrompt())


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
