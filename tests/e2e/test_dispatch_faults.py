"""Delivery under faults, through the emulator with Telegram's limits on: a 429 pauses only its
chat, server errors and timeouts are retried, per-chat order holds and nothing is lost."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import OutboxMessage
from tests.support.harness import EXAMPLE_SITE, Harness, running_bot
from tests.unit.dispatch_support import request

SERVICE, AV, SECURITY, CLEANING = -1001, -1002, -1003, -1004
JSON = dict[str, Any]


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(
        tmp_path,
        rate_limits=True,
        per_chat_interval_seconds=1.0,
        send_timeout_seconds=1.0,
        log_level="INFO",
    ) as running:
        yield running


async def book_three(h: Harness) -> None:
    data = h.app.dispatcher.workflow_data
    async with h.app.db.transaction() as session:
        for room, hour in (("r101", 10), ("r102", 10), ("r301", 14)):
            outcome = await data["booking_service"].create(
                session, request(room=room, start=h.at(2, hour), services={"tea": {}})
            )
            await data["delivery"].deliver(session, outcome.notices)


async def outbox(h: Harness) -> list[OutboxMessage]:
    async with h.app.db.transaction() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def first_lines(messages: list[JSON]) -> list[str]:
    return [(m.get("text") or "").split("\n")[0] for m in messages]


def plain(text: str) -> str:
    """What a reader sees of an HTML text (what the emulator stores)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def delivered(h: Harness, within: float = 40.0) -> None:
    """Wait (real time: the sender's pacing and retries are in seconds) until the outbox is done."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        rows = await outbox(h)
        if rows and all(r.status in ("sent", "merged", "applied", "failed") for r in rows):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the outbox was not delivered in time")


async def test_faults_delay_but_never_lose_or_reorder(h: Harness) -> None:
    await book_three(h)
    await h.emu.fail_with_retry_after(3, method="sendMessage", chat_id=AV)
    await h.emu.fail_with_server_error(502, method="sendMessage", chat_id=SERVICE, count=2)
    await h.emu.hang(3.0, method="sendMessage", chat_id=SECURITY)
    loop = asyncio.get_running_loop()
    started = loop.time()
    h.clock.set(h.at(2, 9))  # −60 min of the 10:00 meetings: several tasks per group at once
    await h.app.workers.tick_once()
    # the cleaning group is not held up by the AV group's 429
    await h.emu.wait_for_message(CLEANING, "二级检查", timeout=5)
    assert loop.time() - started < 2.5
    av_now = await h.emu.bot_messages(AV)
    assert av_now == []  # still waiting for its retry_after
    await delivered(h)
    rows = await outbox(h)
    assert all(r.status != "failed" for r in rows)
    for chat in (SERVICE, AV, SECURITY, CLEANING):
        sent = [r for r in rows if r.chat_id == chat and r.kind == "send" and r.status == "sent"]
        shown = first_lines(await h.emu.bot_messages(chat))
        expected = [plain(r.text or "").split("\n")[0] for r in sent]
        # at least once each, in the outbox's order (a timed-out call the server did perform
        # could add a duplicate; Telegram has no idempotency key)
        deduplicated = list(dict.fromkeys(shown))
        assert deduplicated == expected, chat
    stats = await h.emu.stats()
    assert stats["rate_limited"] == 0  # the sender's own pacing never tripped a limit
    assert h.app.workers.sender.stats["retry_after"] == 1
    assert h.app.workers.sender.stats["retried"] >= 3


async def test_a_kicked_group_fails_and_the_supervisor_is_told(h: Harness) -> None:
    await book_three(h)
    await h.emu.remove_bot_from_group(AV)
    h.clock.set(h.at(2, 9))
    await h.app.workers.tick_once()
    await delivered(h)
    rows = await outbox(h)
    assert {r.status for r in rows if r.chat_id == AV} == {"failed"}
    told = await h.emu.wait_for_message(2201, "无法向", timeout=10, since=0)
    assert "技术保障组" in told["text"]
    assert len([m for m in await h.emu.bot_messages(2201) if "无法向" in (m.get("text") or "")]) == 1
    assert all(r.status == "sent" for r in rows if r.chat_id == SERVICE)


MEETINGS = 30


def crowded_site(tmp_path: Path) -> Path:
    """The example site with enough class-A rooms for 30 meetings at the same hour."""
    rooms = "".join(
        f"""
[[rooms]]
id = "x{number:02d}"
name = {{ zh = "{number}号洽谈室", en = "Talk room {number}" }}
class = "A"
capacity = 20
layouts = ["discussion"]
"""
        for number in range(1, MEETINGS + 1)
    )
    path = tmp_path / "crowded.toml"
    path.write_text(EXAMPLE_SITE.read_text(encoding="utf-8") + rooms, encoding="utf-8")
    return path


async def test_a_burst_is_merged_and_reaches_the_groups_within_a_minute(tmp_path: Path) -> None:
    """30 meetings at the same hour: each group's tasks come merged, inside Telegram's limits."""
    async with running_bot(
        tmp_path, site_path=crowded_site(tmp_path), rate_limits=True, per_chat_interval_seconds=1.0
    ) as h:
        data = h.app.dispatcher.workflow_data
        async with h.app.db.transaction() as session:
            for number in range(1, MEETINGS + 1):
                outcome = await data["booking_service"].create(
                    session,
                    request(
                        room=f"x{number:02d}", start=h.at(2, 10), layout="discussion", services={"tea": {}}
                    ),
                )
                await data["delivery"].deliver(session, outcome.notices)
        loop = asyncio.get_running_loop()
        h.clock.set(h.at(2, 9))  # −60 min: checks, tests, unlocking and tea for all 30 at once
        started = loop.time()
        await h.app.workers.tick_once()
        await delivered(h, within=90)
        elapsed = loop.time() - started
        rows = await outbox(h)
        assert elapsed < 60
        assert all(r.status in ("sent", "merged", "applied") for r in rows)
        assert any(r.status == "merged" for r in rows)
        stats = await h.emu.stats()
        assert stats["rate_limited"] == 0
        for chat in (SERVICE, AV, SECURITY, CLEANING):
            cards = [r for r in rows if r.chat_id == chat and r.kind == "send"]
            assert len(cards) >= MEETINGS
            messages = await h.emu.bot_messages(chat)
            assert len(messages) <= 20
            text = "\n".join(m.get("text") or "" for m in messages)
            for row in cards:
                assert row.text is not None
                card_id = re.search(r"#(\d+)", row.text)
                assert card_id and re.search(rf"#{card_id.group(1)}(?!\d)", text)
