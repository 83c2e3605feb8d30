"""The outbox and the sender: order per chat, Telegram's limits, retries, failures, merging."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlalchemy import select

from bot.delivery.merging import MAX_TEXT, MessagePart, merged_text, merged_text_within_limit
from bot.delivery.outbox import MAX_ATTEMPTS
from bot.services.clock import ManualClock
from bot.site import SiteConfig
from storage.database import Database
from storage.models import OutboxMessage, TaskMessage
from storage.repositories.outbox import OutboxRepository, outbox_row
from tests.support.people import SUPERVISOR
from tests.unit.dispatch_support import Rig

GROUP_A, GROUP_B, PERSON = -1001, -1002, 3001


@pytest.fixture
def rig(site: SiteConfig, clock: ManualClock, db: Database) -> Rig:
    return Rig(site, clock, db)


async def put(rig: Rig, chat_id: int, count: int, prefix: str = "m", mergeable: bool = False) -> list[int]:
    ids = []
    async with rig.db.transaction() as session:
        repo = OutboxRepository(session)
        for index in range(count):
            row = await repo.add(
                chat_id=chat_id,
                text=f"{prefix}{index}",
                now=rig.clock.now(),
                reply_markup=[[{"text": "✅", "callback_data": f"t:{index}:d"}]] if mergeable else None,
                mergeable=mergeable,
                merge_text=f"line {prefix}{index}" if mergeable else None,
            )
            assert row is not None
            ids.append(row.id)
    return ids


async def edit(rig: Rig, target: int, text: str, merge_text: str | None = None) -> int:
    async with rig.db.transaction() as session:
        row = await OutboxRepository(session).add(
            chat_id=(await rig.outbox())[0].chat_id,
            text=text,
            now=rig.clock.now(),
            kind="edit",
            edit_of_id=target,
            mergeable=merge_text is not None,
            merge_text=merge_text,
        )
        assert row is not None
        return row.id


def texts(rig: Rig, chat_id: int) -> list[str]:
    return [c.text or "" for c in rig.telegram.sent_to(chat_id)]


async def test_rows_go_out_in_order_per_chat(rig: Rig) -> None:
    await put(rig, GROUP_A, 5, "a")
    await put(rig, PERSON, 3, "p")
    await put(rig, GROUP_A, 2, "z")
    assert await rig.workers.send_pending() == 10
    assert texts(rig, GROUP_A) == ["a0", "a1", "a2", "a3", "a4", "z0", "z1"]
    assert texts(rig, PERSON) == ["p0", "p1", "p2"]
    rows = await rig.outbox()
    assert all(r.status == "sent" and r.message_id for r in rows)


async def test_one_message_per_second_per_chat(site: SiteConfig, clock: ManualClock, db: Database) -> None:
    rig = Rig(site, clock, db, per_chat_interval_seconds=1.0)
    await put(rig, GROUP_A, 3, "a")
    await put(rig, PERSON, 3, "p")
    assert await rig.workers.send_pending() == 2
    rig.monotonic.advance(0.5)
    assert await rig.workers.send_pending() == 0
    rig.monotonic.advance(0.5)
    assert await rig.workers.send_pending() == 2
    rig.monotonic.advance(1.0)
    assert await rig.workers.send_pending() == 2
    assert texts(rig, GROUP_A) == ["a0", "a1", "a2"]


async def test_a_group_gets_at_most_twenty_a_minute(rig: Rig) -> None:
    await put(rig, GROUP_A, 25, "a")
    await put(rig, PERSON, 25, "p")
    rig.workers.sender.pacer.limits = replace(rig.workers.sender.pacer.limits, global_per_second=100)
    assert await rig.workers.send_pending() == 45  # the private chat has no group limit
    assert len(texts(rig, GROUP_A)) == 20
    rig.monotonic.advance(59)
    assert await rig.workers.send_pending() == 0
    rig.monotonic.advance(1.5)
    assert await rig.workers.send_pending() == 5
    assert texts(rig, GROUP_A) == [f"a{i}" for i in range(25)]


async def test_thirty_a_second_overall(site: SiteConfig, clock: ManualClock, db: Database) -> None:
    rig = Rig(site, clock, db, global_per_second=30)
    for person in range(40):
        await put(rig, 5000 + person, 1, "x")
    assert await rig.workers.send_pending() == 30
    rig.monotonic.advance(1.01)
    assert await rig.workers.send_pending() == 10


async def test_a_429_pauses_only_its_chat_and_keeps_its_order(rig: Rig) -> None:
    rig.telegram.fail(GROUP_A, lambda m: TelegramRetryAfter(m, "Too Many Requests: retry after 3", 3))
    await put(rig, GROUP_A, 3, "a")
    await put(rig, GROUP_B, 3, "b")
    assert await rig.workers.send_pending() == 3
    assert texts(rig, GROUP_B) == ["b0", "b1", "b2"]
    assert texts(rig, GROUP_A) == ["a0"]  # the refused attempt
    rig.monotonic.advance(2.9)
    assert await rig.workers.send_pending() == 0
    rig.monotonic.advance(0.2)
    assert await rig.workers.send_pending() == 3
    assert texts(rig, GROUP_A) == ["a0", "a0", "a1", "a2"]
    assert rig.workers.sender.stats["retry_after"] == 1


async def test_server_errors_are_retried_with_backoff(rig: Rig) -> None:
    rig.telegram.fail(
        PERSON,
        lambda m: TelegramServerError(m, "Bad Gateway"),
        lambda m: TelegramServerError(m, "Bad Gateway"),
    )
    await put(rig, PERSON, 2, "p")
    assert await rig.workers.send_pending() == 0
    rig.monotonic.advance(1.0)
    assert await rig.workers.send_pending() == 0  # second failure: now 2 s
    rig.monotonic.advance(1.5)
    assert await rig.workers.send_pending() == 0
    rig.monotonic.advance(0.6)
    assert await rig.workers.send_pending() == 2
    first = (await rig.outbox())[0]
    assert first.attempts == 3 and first.status == "sent"


async def test_a_group_that_removed_the_bot_fails_and_the_supervisor_is_told(rig: Rig) -> None:
    rig.telegram.fail(
        GROUP_A,
        lambda m: TelegramForbiddenError(m, "Forbidden: bot was kicked from the supergroup chat"),
        lambda m: TelegramForbiddenError(m, "Forbidden: bot was kicked from the supergroup chat"),
    )
    await put(rig, GROUP_A, 2, "a")
    await rig.workers.send_pending()
    rows = await rig.outbox(GROUP_A)
    assert [r.status for r in rows] == ["failed", "failed"]
    told = await rig.outbox(SUPERVISOR)
    assert len(told) == 1 and told[0].status == "sent"  # once, not once per message
    assert told[0].text is not None
    assert "会务茶水组" in told[0].text


async def test_not_modified_is_success(rig: Rig) -> None:
    [row] = await put(rig, GROUP_A, 1, "a")
    await rig.workers.send_pending()
    rig.telegram.fail(GROUP_A, lambda m: TelegramBadRequest(m, "Bad Request: message is not modified"))
    await edit(rig, row, "a0")
    assert await rig.workers.send_pending() == 1
    assert [r.status for r in await rig.outbox()] == ["sent", "sent"]


async def test_an_edit_changes_the_message_it_names(rig: Rig) -> None:
    [row] = await put(rig, GROUP_A, 1, "a")
    await rig.workers.send_pending()
    await edit(rig, row, "a0 — done")
    await rig.workers.send_pending()
    call = rig.telegram.calls[-1]
    message_id = (await rig.outbox())[0].message_id
    assert call.method == "EditMessageText" and call.message_id == message_id and call.text == "a0 — done"


async def test_a_burst_to_one_group_is_merged_to_fit_its_budget(rig: Rig) -> None:
    ids = await put(rig, GROUP_A, 60, "t", mergeable=True)
    await rig.workers.send_pending()
    sent = rig.telegram.sent_to(GROUP_A)
    assert len(sent) <= 20
    rows = await rig.outbox(GROUP_A)
    assert all(r.status in ("sent", "merged") for r in rows)
    hosts = [r for r in rows if r.status == "sent"]
    assert len(hosts) == len(sent)
    # every part names its message; every line and button of every part is in one message
    for row in rows:
        assert row.message_id is not None
    body = "\n".join(c.text or "" for c in sent)
    assert all(re.search(rf"\bt{i}\b", body) for i in range(60))
    assert len(hosts) < 20  # a part of the minute is kept for what comes next
    buttons = [b.callback_data for c in sent for r in c.markup.inline_keyboard for b in r]
    assert sorted(buttons) == sorted(f"t:{i}:d" for i in range(60))
    assert all(len(c.text or "") <= MAX_TEXT for c in sent)
    # an edit of one part re-renders the whole merged message
    part = next(r for r in rows if r.status == "merged")
    host = next(r for r in rows if r.id == part.merged_into_id)
    await edit(rig, part.id, "done", merge_text="line DONE")
    rig.monotonic.advance(2)
    await rig.workers.send_pending()
    call = rig.telegram.calls[-1]
    assert call.method == "EditMessageText" and call.message_id == host.message_id
    assert host.text is not None
    assert "line DONE" in (call.text or "") and "line " + host.text in (call.text or "")
    assert ids[0] == rows[0].id


async def test_no_merging_when_the_budget_suffices(rig: Rig) -> None:
    await put(rig, GROUP_A, 5, "t", mergeable=True)
    await rig.workers.send_pending()
    assert texts(rig, GROUP_A) == [f"t{i}" for i in range(5)]


async def test_an_edit_of_a_part_whose_message_waits_for_a_retry_changes_the_waiting_content(
    rig: Rig,
) -> None:
    rig.telegram.fail(GROUP_A, lambda m: TelegramServerError(m, "Bad Gateway"))
    await put(rig, GROUP_A, 40, "t", mergeable=True)
    await rig.workers.send_pending()
    rows = await rig.outbox(GROUP_A)
    first_host = rows[0]
    assert first_host.status == "pending"
    part = next(r for r in rows if r.merged_into_id == first_host.id)
    await edit(rig, part.id, "done", merge_text="line CHANGED")
    rig.monotonic.advance(1.1)
    await rig.workers.send_pending()
    statuses = {r.id: r.status for r in await rig.outbox()}
    edit_row = max(statuses)
    assert statuses[edit_row] == "applied"  # no call was needed
    resent = [c for c in rig.telegram.sent_to(GROUP_A) if "line CHANGED" in (c.text or "")]
    assert len(resent) == 1


async def test_rows_left_in_flight_by_a_dead_sender_go_out_again(rig: Rig, clock: ManualClock) -> None:
    await put(rig, GROUP_A, 1, "a")
    claimed = await rig.workers.sender.outbox.claim()
    assert len(claimed) == 1
    # the process died here: nothing marked. Another sender waits for the lease ...
    assert await rig.workers.sender.outbox.claim() == []
    clock.advance(timedelta(minutes=2))
    rig.monotonic.advance(2)
    again = await rig.workers.sender.outbox.claim()
    assert [d.row_id for d in again] == [claimed[0].row_id]
    # ... and the same instance, restarted, takes it back at once
    assert await rig.workers.sender.outbox.release_own() == 1


def test_merged_text_numbers_the_parts() -> None:
    class Part:
        def __init__(self, text: str) -> None:
            self.merge_text = text

    assert merged_text([Part("a"), Part("b")]) == "<b>1.</b> a\n\n<b>2.</b> b"  # type: ignore[list-item]


class _Part:
    def __init__(self, text: str) -> None:
        self.merge_text: str | None = text


def test_a_merged_edit_that_outgrows_the_limit_keeps_each_part_first_line() -> None:
    """40 parts whose problem lines grew long after they were merged: the message still fits,
    each part keeps its first line and its number, and the short case is left alone."""
    long_reason = "投影仪 &lt;灯泡&gt; 坏了" * 12
    parts: list[MessagePart] = [
        _Part(f"📋 <b>Check 2</b> #{n} · Room {n} 10:00\n⚠️ Problem: {long_reason}") for n in range(1, 41)
    ]
    assert len(merged_text(parts)) > MAX_TEXT
    text = merged_text_within_limit(parts)
    assert len(text) <= MAX_TEXT
    assert [f"<b>{n}.</b> 📋 <b>Check 2</b> #{n} · Room {n} 10:00" for n in range(1, 41)] == text.split("\n")
    short: list[MessagePart] = [_Part("a\nb"), _Part("c")]
    assert merged_text_within_limit(short) == merged_text(short)


async def test_rows_queued_together_get_their_own_ids_in_order(rig: Rig) -> None:
    """add_many: one insert for many rows; each id belongs to its row (SQLite and PostgreSQL),
    a dedupe key seen before or earlier in the same batch writes nothing."""

    await put(rig, GROUP_A, 2, "before")
    async with rig.db.transaction() as session:
        repo = OutboxRepository(session)
        earlier = await repo.add(chat_id=PERSON, text="keyed", now=rig.clock.now(), dedupe_key="k:old")
        assert earlier is not None
        rows = [
            outbox_row(chat_id=GROUP_B, text=f"b{index}", now=rig.clock.now(), dedupe_key=f"k:{index}")
            for index in range(700)  # more than one dedupe lookup chunk
        ]
        rows.insert(3, outbox_row(chat_id=GROUP_B, text="again", now=rig.clock.now(), dedupe_key="k:old"))
        rows.insert(5, outbox_row(chat_id=GROUP_B, text="twice", now=rig.clock.now(), dedupe_key="k:1"))
        rows.append(outbox_row(chat_id=PERSON, text="no key", now=rig.clock.now()))
        ids = await repo.add_many(rows)
    assert ids[3] is None and ids[5] is None
    written = {row.id: row for row in await rig.outbox()}
    for row, row_id in zip(rows, ids, strict=True):
        if row_id is not None:
            assert written[row_id].text == row["text"]
            assert written[row_id].dedupe_key == row["dedupe_key"]
    assert len([row_id for row_id in ids if row_id is not None]) == 701
    assert len(written) == 2 + 1 + 701


async def test_minutes_of_429s_and_a_long_outage_lose_and_reorder_nothing(rig: Rig) -> None:
    """One chat answered 429 (retry after 30 s) for five minutes, then every chat answered 502
    for about ten minutes (15 tries, backing off to a minute) — more attempts than the give-up
    count: after recovery every row is delivered once, in order per chat, and none was failed."""

    def bad_gateway(method: object) -> Exception:
        return TelegramServerError(method, "Bad Gateway")  # type: ignore[arg-type]

    def too_many(method: object) -> Exception:
        return TelegramRetryAfter(method, "Too Many Requests", retry_after=30)  # type: ignore[arg-type]

    rig.telegram.fail(GROUP_A, *[too_many] * 10)
    for chat in (GROUP_A, GROUP_B, PERSON):
        rig.telegram.fail(chat, *[bad_gateway] * 15)
    await put(rig, GROUP_A, 3, "a")
    await put(rig, GROUP_B, 3, "b")
    await put(rig, PERSON, 3, "p")
    sent = 0
    for _ in range(90):  # 30 simulated minutes, a pass every 20 s
        sent += await rig.workers.send_pending()
        rig.monotonic.advance(20)
    assert sent == 9

    def delivered(chat_id: int) -> list[str]:  # what Telegram accepted, by message id
        return [text for (chat, _), text in sorted(rig.telegram.texts.items()) if chat == chat_id]

    assert delivered(GROUP_A) == ["a0", "a1", "a2"]
    assert delivered(GROUP_B) == ["b0", "b1", "b2"]
    assert delivered(PERSON) == ["p0", "p1", "p2"]
    rows = await rig.outbox()
    assert {row.status for row in rows} == {"sent"}
    assert max(row.attempts for row in rows) > MAX_ATTEMPTS
    assert rig.workers.sender.stats["failed"] == 0


async def test_task_cards_queued_again_keep_one_row_and_one_link_each(rig: Rig) -> None:
    """A batch of cards written after a crash may repeat keys an earlier transaction queued:
    those are left out with their links, the new ones are written and linked to their tasks."""
    first = [(11, GROUP_A, "task:11:step:1"), (12, GROUP_A, "task:12:step:1")]
    again = [(12, GROUP_A, "task:12:step:1"), (13, GROUP_B, "task:13:step:1")]
    for cards in (first, again):
        async with rig.db.transaction() as session:
            await OutboxRepository(session).add_task_cards(cards, rig.clock.now(), "zh-hans", "card")

    async with rig.db.read() as session:
        rows = (await session.execute(select(OutboxMessage.id, OutboxMessage.dedupe_key))).all()
        links = (
            await session.execute(
                select(TaskMessage.task_id, TaskMessage.chat_id, TaskMessage.outbox_id, TaskMessage.purpose)
            )
        ).all()
    row_of = {str(key): row_id for row_id, key in rows}
    assert sorted(row_of) == ["task:11:step:1", "task:12:step:1", "task:13:step:1"]
    assert sorted(links) == sorted(
        [
            (11, GROUP_A, row_of["task:11:step:1"], "card"),
            (12, GROUP_A, row_of["task:12:step:1"], "card"),
            (13, GROUP_B, row_of["task:13:step:1"], "card"),
        ]
    )
