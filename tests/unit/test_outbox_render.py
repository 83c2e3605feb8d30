"""Outbox rows are rendered when they are sent: cards show their task as it is then, edits of
one card collapse into one call, merged bursts render each part, files are rows paced like
messages, the sender is woken by a commit, and the sender's lookups read their indexes."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path

import pytest
from aiogram.exceptions import TelegramRetryAfter
from sqlalchemy import select, text

from bot.delivery.notices import NoticeDelivery, params_from_json, params_to_json
from bot.render.weekly import briefing_notices
from bot.services.clock import ManualClock
from bot.services.planning import TaskChange
from bot.services.types import Notice
from bot.site import SiteConfig
from storage import migrate
from storage.database import Database, create_engine
from storage.models import OutboxMessage, Task
from storage.repositories.outbox import OutboxRepository
from tests.databases import USE_POSTGRES
from tests.support.people import AV_GROUP, AV_LEADER, AV_MEMBER, SUPERVISOR
from tests.unit import week_seed
from tests.unit.dispatch_support import Call, Rig, local

DONE_ZH = "✅ 已完成"


@pytest.fixture
def rig(site: SiteConfig, clock: ManualClock, db: Database) -> Rig:
    return Rig(site, clock, db)


async def pushed_av_test(rig: Rig) -> Task:
    """A booking whose AV test has just been pushed: its card waits in the outbox, unsent."""
    await rig.book()
    await rig.at(local(3, 9))
    task = await rig.task("av_test")
    assert task.status == "open"
    return task


def calls_about(rig: Rig, chat_id: int, task: Task) -> list[Call]:
    return [c for c in rig.telegram.calls if c.chat_id == chat_id and f"#{task.id}" in (c.text or "")]


async def test_a_card_done_before_it_was_sent_goes_out_showing_done(rig: Rig) -> None:
    task = await pushed_av_test(rig)
    await rig.press("confirm", task.id, AV_LEADER)
    await rig.workers.send_pending()
    [card] = calls_about(rig, AV_GROUP, task)
    assert card.method == "SendMessage"
    assert DONE_ZH in (card.text or "")
    assert card.markup is None  # no Done / Problem buttons on a task that is done


async def test_edits_queued_while_the_send_waits_leave_one_call(rig: Rig) -> None:
    task = await pushed_av_test(rig)
    await rig.press("report_problem", task.id, AV_MEMBER, "projector missing")
    await rig.press("confirm", task.id, AV_LEADER)
    assert await rig.workers.send_pending() >= 1
    assert [c.method for c in calls_about(rig, AV_GROUP, task)] == ["SendMessage"]
    edits = await rig.outbox(AV_GROUP, kind="edit")
    assert len(edits) == 2 and {row.status for row in edits} == {"applied"}


async def test_an_edit_supersedes_the_waiting_edits_of_the_same_card(rig: Rig) -> None:
    task = await pushed_av_test(rig)
    await rig.workers.send_pending()
    await rig.press("report_problem", task.id, AV_MEMBER, "projector missing")
    await rig.press("confirm", task.id, AV_LEADER)
    await rig.workers.send_pending()
    calls = calls_about(rig, AV_GROUP, task)
    assert [c.method for c in calls] == ["SendMessage", "EditMessageText"]
    assert DONE_ZH in (calls[1].text or "")
    edits = await rig.outbox(AV_GROUP, kind="edit")
    assert sorted(row.status for row in edits) == ["applied", "sent"]


async def test_a_merged_burst_renders_each_part_when_it_is_sent(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    rig = Rig(site, clock, db, group_per_minute=5)
    task = await pushed_av_test(rig)
    async with db.transaction() as session:
        await rig.delivery.deliver(
            session,
            [
                Notice("task_card", AV_GROUP, {"task_id": task.id}, (task.id,), mergeable=True)
                for _ in range(30)
            ],
        )
    await rig.press("confirm", task.id, AV_LEADER)
    await rig.workers.send_pending()
    sent = rig.telegram.sent_to(AV_GROUP)
    merged = [c for c in sent if (c.text or "").startswith("<b>1.</b>")]
    assert merged and len(sent) <= 5
    lines = sum((c.text or "").count(f"#{task.id}") for c in sent)
    assert lines == 31  # the card the tick queued and the thirty, each once
    for call in sent:  # every part showing the task was rendered as it is now: done, no buttons
        parts = re.split(r"(?:^|\n\n)<b>\d+\.</b> ", call.text or "")
        assert all(DONE_ZH in part for part in parts if f"#{task.id}" in part)
        buttons = [
            b.callback_data for row in (call.markup.inline_keyboard if call.markup else []) for b in row
        ]
        assert not [data for data in buttons if (data or "").startswith(f"t:{task.id}:")]
    rows = await rig.outbox(AV_GROUP, kind="send")
    assert {row.status for row in rows} == {"sent", "merged"}
    assert all(row.message_id is not None for row in rows)
    shown = [row for row in rows if (row.params or {}).get("task_id") == task.id]
    assert len(shown) == 31 and all(DONE_ZH in (row.text or "") for row in shown)  # what each showed


# ---------------------------------------------------------------------------- files


async def queue_briefing(rig: Rig) -> None:
    async with rig.db.transaction() as session:
        await week_seed.seed(session, rig.site)
        await rig.delivery.deliver(session, briefing_notices(SUPERVISOR, week_seed.WEEK, "weekly:test"))


async def test_the_weekly_files_are_outbox_rows_paced_like_messages(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    clock.set(week_seed.REPORT_AT)
    rig = Rig(site, clock, db, per_chat_interval_seconds=1.0)
    await queue_briefing(rig)
    assert await rig.workers.send_pending() == 1
    assert [c.method for c in rig.telegram.calls] == ["SendPhoto"]
    assert "2026-W49" in (rig.telegram.calls[0].text or "")  # the caption
    rig.monotonic.advance(0.9)
    assert await rig.workers.send_pending() == 0  # the chat's second not over yet
    rig.monotonic.advance(0.1)
    assert await rig.workers.send_pending() == 1
    assert [c.method for c in rig.telegram.calls] == ["SendPhoto", "SendDocument"]
    rows = await rig.outbox(SUPERVISOR)
    assert [(row.notice, row.status) for row in rows] == [
        ("weekly_chart", "sent"),
        ("weekly_workbook", "sent"),
    ]


@pytest.mark.parametrize("refused", ["SendPhoto", "SendDocument"])
async def test_a_429_on_a_weekly_file_retries_it_and_sends_nothing_twice(
    site: SiteConfig, clock: ManualClock, db: Database, refused: str
) -> None:
    clock.set(week_seed.REPORT_AT)
    rig = Rig(site, clock, db, per_chat_interval_seconds=1.0)
    await queue_briefing(rig)
    if refused == "SendDocument":
        assert await rig.workers.send_pending() == 1  # the chart goes; the 429 comes next
        rig.monotonic.advance(1)
    rig.telegram.fail(SUPERVISOR, lambda m: TelegramRetryAfter(m, "Too Many Requests: retry after 2", 2))
    assert await rig.workers.send_pending() == 0
    rig.monotonic.advance(1.5)
    assert await rig.workers.send_pending() == 0  # the chat waits out its retry_after
    rig.monotonic.advance(1)
    assert await rig.workers.send_pending() == 1
    rig.monotonic.advance(1)
    await rig.workers.send_pending()
    methods = [c.method for c in rig.telegram.calls]
    if refused == "SendPhoto":
        assert methods == ["SendPhoto", "SendPhoto", "SendDocument"]
    else:
        assert methods == ["SendPhoto", "SendDocument", "SendDocument"]  # the chart is not sent again
    assert {row.status for row in await rig.outbox(SUPERVISOR)} == {"sent"}
    assert rig.workers.sender.stats["retry_after"] == 1


# ---------------------------------------------------------------------------- waking, parameters


async def test_queueing_wakes_the_sender_when_the_transaction_commits(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    wake = asyncio.Event()
    rig = Rig(site, clock, db)
    delivery = NoticeDelivery(site, clock, rig.i18n, wake=wake)
    notice = Notice("delivery_failed", SUPERVISOR, {"chat_id": AV_GROUP, "error": "x"})
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await delivery.deliver(session, [notice])
            raise RuntimeError("rolled back")
    assert not wake.is_set()
    async with db.transaction() as session:
        await delivery.deliver(session, [notice])
        assert not wake.is_set()  # before the commit the sender would find nothing
    assert wake.is_set()


def test_notice_parameters_survive_json() -> None:
    moved = TaskChange(
        "av", "av_test", 0, "check", "moved", local(3, 9), local(3, 10), None, local(3, 10, 30)
    )
    params = {
        "booking_id": 7,
        "fields": [
            {"field": "time", "old": (local(3, 10), local(3, 12)), "new": (local(3, 11), local(3, 13))}
        ],
        "tasks": [moved],
    }
    stored = params_to_json(params)
    assert isinstance(stored["tasks"][0], dict)
    back = params_from_json(stored)
    assert back["tasks"] == [moved]
    assert back["fields"][0]["old"] == [local(3, 10), local(3, 12)]
    assert isinstance(back["fields"][0]["old"][0], datetime)


# ---------------------------------------------------------------------------- the sender's queries


async def plan_of(db: Database, query: str) -> str:
    async with db.transaction() as session:
        rows = await session.execute(text(f"EXPLAIN QUERY PLAN {query}"))
        return "\n".join(str(row[-1]) for row in rows.all())


async def test_the_sender_reads_its_rows_through_the_partial_indexes(rig: Rig, db: Database) -> None:
    task = await pushed_av_test(rig)
    await rig.workers.send_pending()
    await rig.press("confirm", task.id, AV_LEADER)
    async with db.transaction() as session:
        repo = OutboxRepository(session)
        [card] = [
            row
            for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "send"))
            if (row.params or {}).get("task_id") == task.id
        ]
        assert [edit.kind for edit in await repo.pending_edits_of([card.id])] == ["edit"]
        chats = await repo.open_chats()
        assert [chat for chat, _ in chats] == [AV_GROUP]
        heads, waiting = await repo.heads(AV_GROUP, 1, count_up_to=801)
        assert [head.kind for head in heads] == ["edit"] and waiting == 1
    if USE_POSTGRES:
        return  # PostgreSQL plans by its statistics: bench/sender.py shows its plans at 100,000 rows
    # SQLite without statistics: the plans must not depend on them
    edits = await plan_of(
        db, "SELECT id FROM outbox WHERE kind = 'edit' AND status = 'pending' AND edit_of_id IN (1, 2)"
    )
    assert "ix_outbox_pending_edits" in edits, edits
    head_plan = await plan_of(
        db,
        "SELECT id FROM outbox WHERE status IN ('pending', 'sending') AND chat_id = -1002 "
        "ORDER BY id LIMIT 50",
    )
    assert "ix_outbox_open" in head_plan and "TEMP B-TREE" not in head_plan, head_plan  # in order, not sorted


# ---------------------------------------------------------------------------- the migration


@pytest.mark.sqlite_only
async def test_a_briefing_waiting_in_the_old_file_queue_moves_to_the_outbox(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await migrate.upgrade(engine, "0005")
        async with engine.begin() as connection:
            waiting = (
                (2201, '{"week": "2026-W49"}'),
                (2301, '{"week": "2026-W49", "photo_sent": true}'),  # its chart went out already
            )
            for chat, params in waiting:
                await connection.execute(
                    text(
                        "INSERT INTO file_deliveries (dedupe_key, chat_id, kind, params, status, attempts, "
                        "not_before, created_at) VALUES (:key, :chat, 'weekly', :params, 'pending', 1, "
                        "'2026-12-04 09:00:00', '2026-12-04 09:00:00')"
                    ),
                    {"key": f"weekly:2026-W49:{chat}", "chat": chat, "params": params},
                )
        await migrate.upgrade(engine)
        async with Database(engine).transaction() as session:
            rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        assert [(row.chat_id, row.notice, row.params, row.dedupe_key) for row in rows] == [
            (2201, "weekly_chart", {"week": "2026-W49"}, "weekly:2026-W49:2201:chart"),
            (2201, "weekly_workbook", {"week": "2026-W49"}, "weekly:2026-W49:2201:workbook"),
            (2301, "weekly_workbook", {"week": "2026-W49"}, "weekly:2026-W49:2301:workbook"),
        ]
        assert {row.status for row in rows} == {"pending"}
    finally:
        await engine.dispose()
