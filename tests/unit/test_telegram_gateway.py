"""The sender's gateway over aiogram (bot/telegram/gateway.py): aiogram's exceptions become the
kinds the sender tells apart, and its calls are marked so the handlers' 429 retry lets them by."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage, TelegramMethod

from bot.delivery.gateway import (
    BadRequest,
    ChatMigrated,
    ChatUnreachable,
    OtherSendError,
    RetryLater,
    SendError,
    TelegramUnavailable,
)
from bot.telegram.gateway import TelegramGateway, send_error
from bot.telegram.retry import OUTBOX_CALL, RetryAfterForHandlers

METHOD = SendMessage(chat_id=1, text="x")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (TelegramRetryAfter(METHOD, "Too Many Requests: retry after 7", 7), RetryLater),
        (TelegramMigrateToChat(METHOD, "group upgraded", -1001), ChatMigrated),
        (TelegramBadRequest(METHOD, "Bad Request: chat not found"), BadRequest),
        (TelegramForbiddenError(METHOD, "Forbidden: bot was blocked by the user"), ChatUnreachable),
        (TelegramNotFound(METHOD, "Not Found"), ChatUnreachable),
        (TelegramServerError(METHOD, "Bad Gateway"), TelegramUnavailable),
        (TelegramNetworkError(METHOD, "Request timeout error"), TelegramUnavailable),
        (TelegramConflictError(METHOD, "Conflict: terminated by other getUpdates"), OtherSendError),
    ],
)
def test_each_telegram_error_becomes_the_kind_the_sender_tells_apart(
    error: TelegramAPIError, kind: type[SendError]
) -> None:
    mapped = send_error(error)
    assert type(mapped) is kind
    assert mapped.message == error.message  # Telegram's description, as the sender matches it
    assert str(mapped) == str(error)  # aiogram's wording, as the log and the row record it
    if isinstance(mapped, RetryLater):
        assert mapped.retry_after == 7
    if isinstance(mapped, ChatMigrated):
        assert mapped.new_chat_id == -1001


class AlwaysTooMany(BaseSession):
    """Answers every call with a 429, noting whether it was marked as the sender's."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.marked: list[bool] = []

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:  # noqa: ASYNC109
        self.calls += 1
        self.marked.append(OUTBOX_CALL.get())
        raise TelegramRetryAfter(method, "Too Many Requests: retry after 1", 1)

    async def stream_content(
        self, *args: Any, **kwargs: Any
    ) -> AsyncGenerator[bytes, None]:  # pragma: no cover
        raise NotImplementedError
        yield b""  # an async generator, as the method it overrides

    async def close(self) -> None:
        pass


async def test_a_429_reaches_the_sender_at_once_and_unmarks_the_task_after() -> None:
    session = AlwaysTooMany()
    session.middleware(RetryAfterForHandlers())
    gateway = TelegramGateway(Bot("123456789:TEST-token-for-unit-tests-only", session=session))
    with pytest.raises(RetryLater):
        await gateway.send_message(42, "hello", [[{"text": "ok", "callback_data": "x"}]], request_timeout=5)
    assert session.calls == 1  # not waited out and made again, as a handler's reply would be
    assert session.marked == [True]
    assert OUTBOX_CALL.get() is False  # a handler's call in the same task is retried again
