"""What the sender needs of Telegram: three calls and the answers it tells apart.

The sender (bot/delivery/sender.py) decides what to do with each answer; it makes its calls
through a :class:`MessageGateway`, so that delivery knows nothing of aiogram. The running bot's
gateway is :class:`bot.telegram.gateway.TelegramGateway`: it makes the Bot API calls and turns
aiogram's exceptions into the ones below. Anything else it raises (a timeout, a bug) reaches
the sender as it was.
"""

from __future__ import annotations

from typing import Literal, Protocol

from bot.delivery.merging import Keyboard


class MessageGateway(Protocol):
    async def send_message(
        self, chat_id: int, text: str, keyboard: Keyboard | None, request_timeout: int
    ) -> int:
        """Send a text message without a link preview; its message id."""
        ...

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
        """Send a picture or a document with its caption; its message id."""
        ...

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None, request_timeout: int
    ) -> None:
        """Replace a message's text (no link preview) and keyboard."""
        ...


class SendError(Exception):
    """Telegram answered a call with an error. ``message`` is Telegram's description;
    ``str()`` of the error is how the log and the outbox row record it."""

    def __init__(self, message: str, text: str | None = None) -> None:
        super().__init__(text if text is not None else message)
        self.message = message


class RetryLater(SendError):
    """429 Too Many Requests: the chat may be written to again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float, text: str | None = None) -> None:
        super().__init__(message, text)
        self.retry_after = retry_after


class ChatMigrated(SendError):
    """The group became a supergroup: its new chat id."""

    def __init__(self, message: str, new_chat_id: int, text: str | None = None) -> None:
        super().__init__(message, text)
        self.new_chat_id = new_chat_id


class BadRequest(SendError):
    """400: the call was refused as it was (a chat not found, a message not modified …)."""


class ChatUnreachable(SendError):
    """403 or 404: the bot was removed from the chat or blocked, or the chat does not exist."""


class TelegramUnavailable(SendError):
    """A 5xx answer or a network error: Telegram or the way to it is down for now."""


class OtherSendError(SendError):
    """Any other error answer (401, 409 …): nothing the message itself did."""
