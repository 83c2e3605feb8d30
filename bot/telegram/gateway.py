"""The outbox sender's Bot API calls (bot/delivery/gateway.py's :class:`MessageGateway`).

Each call is marked with :data:`~bot.telegram.retry.OUTBOX_CALL`, so a 429 reaches the sender,
which reschedules the row, rather than being waited out like a handler's own reply. aiogram's
exceptions become the sender's (:class:`~bot.delivery.gateway.SendError` and its kinds), with
Telegram's description as ``message`` and aiogram's wording as ``str()``; anything else (a
timeout, a bug) goes through as it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Literal, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from bot.delivery.gateway import (
    BadRequest,
    ChatMigrated,
    ChatUnreachable,
    Keyboard,
    OtherSendError,
    RetryLater,
    SendError,
    TelegramUnavailable,
)
from bot.telegram.retry import OUTBOX_CALL

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
T = TypeVar("T")


def inline_markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(**button) for button in row] for row in keyboard]
    )


def send_error(error: TelegramAPIError) -> SendError:
    """aiogram's exception as the sender's, of the kind the sender tells apart."""
    text = str(error)
    if isinstance(error, TelegramRetryAfter):
        return RetryLater(error.message, error.retry_after, text)
    if isinstance(error, TelegramMigrateToChat):
        return ChatMigrated(error.message, error.migrate_to_chat_id, text)
    if isinstance(error, TelegramBadRequest):
        return BadRequest(error.message, text)
    if isinstance(error, TelegramForbiddenError | TelegramNotFound):
        return ChatUnreachable(error.message, text)
    if isinstance(error, TelegramServerError | TelegramNetworkError):
        return TelegramUnavailable(error.message, text)
    return OtherSendError(error.message, text)


@contextmanager
def _outbox_call() -> Iterator[None]:
    token = OUTBOX_CALL.set(True)
    try:
        yield
    finally:
        OUTBOX_CALL.reset(token)


class TelegramGateway:
    """The sender's calls through an aiogram :class:`Bot`."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        with _outbox_call():
            try:
                return await call()
            except TelegramAPIError as error:
                raise send_error(error) from error

    async def send_message(
        self, chat_id: int, text: str, keyboard: Keyboard | None, request_timeout: int
    ) -> int:
        message = await self._call(
            lambda: self.bot.send_message(
                chat_id=chat_id,
                text=text,
                reply_markup=inline_markup(keyboard),
                link_preview_options=NO_PREVIEW,
                request_timeout=request_timeout,
            )
        )
        return message.message_id

    async def send_file(
        self,
        chat_id: int,
        method: Literal["photo", "document"],
        content: bytes,
        name: str,
        caption: str | None,
        keyboard: Keyboard | None,
        request_timeout: int,
    ) -> int:
        upload = BufferedInputFile(content, name)
        markup = inline_markup(keyboard)
        if method == "photo":
            message = await self._call(
                lambda: self.bot.send_photo(
                    chat_id=chat_id,
                    photo=upload,
                    caption=caption,
                    reply_markup=markup,
                    request_timeout=request_timeout,
                )
            )
        else:
            message = await self._call(
                lambda: self.bot.send_document(
                    chat_id=chat_id,
                    document=upload,
                    caption=caption,
                    reply_markup=markup,
                    request_timeout=request_timeout,
                )
            )
        return message.message_id

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None, request_timeout: int
    ) -> None:
        await self._call(
            lambda: self.bot.edit_message_text(
                chat_id=chat_id,
                message_id=message_id,
                text=text,
                reply_markup=inline_markup(keyboard),
                link_preview_options=NO_PREVIEW,
                request_timeout=request_timeout,
            )
        )
