"""The pending prompt of a person in a chat (bot/handlers/prompts.py): kept in the FSM storage
the dispatcher uses — so that with Redis every instance sees it — timed by the injected clock,
one per person and chat, cancelled by a press or a command."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Chat, Message, User

from bot.handlers.prompts import PROMPT_DESTINY, PROMPT_LIFETIME, CancelPendingPrompt, PendingPrompts
from bot.services.clock import ManualClock
from bot.telegram.runtime import build_fsm
from tests.support.harness import harness_settings

BOT_ID, GROUP, ANNA, BEN = 42, -100, 7, 8
START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def prompts(clock: ManualClock) -> PendingPrompts:
    return PendingPrompts(MemoryStorage(), clock, BOT_ID)


async def test_the_answer_is_awaited_for_ten_minutes(prompts: PendingPrompts, clock: ManualClock) -> None:
    await prompts.remember(GROUP, ANNA, topic="problem_reason", subject={"task_id": 5}, question_id=11)
    clock.advance(PROMPT_LIFETIME)
    pending = await prompts.pending(GROUP, ANNA)
    assert pending is not None
    assert (pending.topic, pending.subject, pending.question_id) == ("problem_reason", {"task_id": 5}, 11)
    assert pending.asked_at == START
    clock.advance(timedelta(seconds=1))
    assert await prompts.pending(GROUP, ANNA) is None
    assert await prompts.storage.get_data(prompts._key(GROUP, ANNA)) == {}  # expired: gone


async def test_one_pending_prompt_per_person_and_chat(prompts: PendingPrompts) -> None:
    await prompts.remember(GROUP, ANNA, topic="quantity", subject={"ref_id": 1}, question_id=11)
    await prompts.remember(GROUP, ANNA, topic="lost_item", subject={"ref_id": 2}, question_id=12)
    await prompts.remember(ANNA, ANNA, topic="comment", subject={"ref_id": 3}, question_id=13)
    pending = await prompts.pending(GROUP, ANNA)
    assert pending is not None and (pending.topic, pending.question_id) == ("lost_item", 12)  # the newer
    assert (await prompts.pending(ANNA, ANNA)).topic == "comment"  # type: ignore[union-attr]
    assert await prompts.pending(GROUP, BEN) is None

    await prompts.forget(GROUP, ANNA, question_id=11)  # an older question: nothing to forget
    assert await prompts.pending(GROUP, ANNA) is not None
    await prompts.forget(GROUP, ANNA, question_id=12)
    assert await prompts.pending(GROUP, ANNA) is None
    assert await prompts.pending(ANNA, ANNA) is not None


async def test_the_record_stays_apart_from_the_dialog_state(prompts: PendingPrompts) -> None:
    await prompts.remember(GROUP, ANNA, topic="comment", subject={}, question_id=11)
    default = StorageKey(bot_id=BOT_ID, chat_id=GROUP, user_id=ANNA)
    assert await prompts.storage.get_data(default) == {}
    assert await prompts.storage.get_state(default) is None
    stored = await prompts.storage.get_data(StorageKey(BOT_ID, GROUP, ANNA, destiny=PROMPT_DESTINY))
    assert stored["question_id"] == 11 and stored["asked_at"] == START.isoformat()


async def test_a_record_it_cannot_read_is_dropped(prompts: PendingPrompts) -> None:
    key = prompts._key(GROUP, ANNA)
    await prompts.storage.set_data(key, {"topic": "comment", "question_id": "x", "asked_at": "soon"})
    assert await prompts.pending(GROUP, ANNA) is None
    assert await prompts.storage.get_data(key) == {}


def _user(user_id: int) -> User:
    return User(id=user_id, is_bot=False, first_name="Anna")


def _message(chat_id: int, user_id: int, text: str) -> Message:
    chat = Chat(id=chat_id, type="private" if chat_id > 0 else "supergroup")
    return Message(message_id=99, date=START, chat=chat, from_user=_user(user_id), text=text)


async def test_a_press_or_a_command_cancels_it(prompts: PendingPrompts) -> None:
    cancel = CancelPendingPrompt(prompts)
    seen: list[Any] = []

    async def handler(event: Any, data: dict[str, Any]) -> None:
        seen.append(event)

    async def asked() -> None:
        await prompts.remember(GROUP, ANNA, topic="problem_reason", subject={"task_id": 5}, question_id=11)

    await asked()
    await cancel(handler, _message(GROUP, ANNA, "the projector is broken"), {})
    assert await prompts.pending(GROUP, ANNA) is not None  # a plain message is the answer's to take
    await cancel(handler, _message(GROUP, BEN, "/mytasks"), {})
    assert await prompts.pending(GROUP, ANNA) is not None  # someone else's command
    await cancel(handler, _message(ANNA, ANNA, "/help"), {})
    assert await prompts.pending(GROUP, ANNA) is not None  # a command in another chat
    await cancel(handler, _message(GROUP, ANNA, "/mytasks"), {})
    assert await prompts.pending(GROUP, ANNA) is None

    await asked()
    press = CallbackQuery(
        id="1", from_user=_user(ANNA), chat_instance="c", data="t:5:d", message=_message(GROUP, 1, "card")
    )
    await cancel(handler, press, {})
    assert await prompts.pending(GROUP, ANNA) is None
    assert len(seen) == 5  # every update went on to the handlers


@pytest.fixture
async def two_instances(clock: ManualClock) -> AsyncIterator[tuple[PendingPrompts, PendingPrompts]]:
    """Two instances' FSM storages as the composition root builds them with Redis."""
    redis = pytest.importorskip("redis.asyncio")
    probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await probe.ping()
    except Exception as error:
        await probe.aclose()
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error})")
    prefix = f"huiwu-test-{uuid.uuid4().hex[:12]}"
    settings = harness_settings(
        "sqlite+aiosqlite://", "http://127.0.0.1:9", redis_url=REDIS_URL, redis_prefix=prefix
    )
    storages: list[BaseStorage] = [build_fsm(settings)[0], build_fsm(settings)[0]]
    try:
        yield PendingPrompts(storages[0], clock, BOT_ID), PendingPrompts(storages[1], clock, BOT_ID)
    finally:
        keys = [key async for key in probe.scan_iter(match=f"{prefix}:*")]
        if keys:
            await probe.delete(*keys)
        await probe.aclose()
        for storage in storages:
            await storage.close()


async def test_every_instance_sees_it_through_redis(
    two_instances: tuple[PendingPrompts, PendingPrompts], clock: ManualClock
) -> None:
    asking, answering = two_instances
    await asking.remember(GROUP, ANNA, topic="problem_reason", subject={"task_id": 5}, question_id=11)
    pending = await answering.pending(GROUP, ANNA)
    assert pending is not None and pending.subject == {"task_id": 5} and pending.asked_at == START
    await answering.forget(GROUP, ANNA, question_id=11)
    assert await asking.pending(GROUP, ANNA) is None
