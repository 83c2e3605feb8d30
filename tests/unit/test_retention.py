"""Bounded storage: finished records older than the site's ``[retention]`` go, in batches;
everything newer, and every row still to be sent, stays. Both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select

from bot.jobs.retention import prune
from bot.services.clock import ManualClock
from bot.services.retention import LARGEST, SMALLEST, BatchSize
from bot.site import Retention, SiteConfig
from storage.database import Database
from storage.models import OutboxMessage, ProcessedUpdate, Task, TaskEvent, TaskMessage
from tests.unit.dispatch_support import Rig, local

NOW = local(20, 12)
FINISHED = ("sent", "merged", "applied", "failed", "dropped")


@pytest.fixture
def rig(site: SiteConfig, clock: ManualClock, db: Database) -> Rig:
    return Rig(site, clock, db)


async def outbox_rows(db: Database, count: int, created: datetime, statuses: tuple[str, ...]) -> list[int]:
    values = [
        {
            "chat_id": -1001 - number % 3,
            "kind": "send",
            "text": f"row {number}",
            "status": statuses[number % len(statuses)],
            "attempts": 1,
            "not_before": created,
            "created_at": created + timedelta(seconds=number),
        }
        for number in range(count)
    ]
    async with db.transaction() as session:
        before = await session.scalar(select(func.max(OutboxMessage.id))) or 0
        await session.execute(insert(OutboxMessage), values)
        return list(
            (
                await session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.id > before).order_by(OutboxMessage.id)
                )
            ).all()
        )


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_old_finished_records_go_and_the_rest_stays(rig: Rig) -> None:
    db = rig.db
    await rig.book()
    async with db.transaction() as session:
        task_id = await session.scalar(select(func.min(Task.id)))
        # events are numbered in the order of their times: the booking's own (today) would
        # come before the old ones written below
        await session.execute(delete(TaskEvent))
    assert task_id is not None
    # a year ago and more: finished rows and a few never sent; then the last ten days
    old = await outbox_rows(db, 730, NOW - timedelta(days=40), FINISHED)
    stuck = await outbox_rows(db, 5, NOW - timedelta(days=39), ("pending",))
    recent = await outbox_rows(db, 120, NOW - timedelta(days=10), FINISHED)
    async with db.transaction() as session:
        await session.execute(
            insert(TaskMessage),
            [
                {"task_id": task_id, "chat_id": -1001, "outbox_id": row_id, "purpose": "card"}
                for row_id in (old[:3] + recent[:2] + stuck[:1])
            ],
        )
        await session.execute(
            insert(ProcessedUpdate),
            [{"update_id": 10_000 + n, "at": NOW - timedelta(days=31, minutes=n)} for n in range(600)]
            + [{"update_id": 20_000 + n, "at": NOW - timedelta(days=29, minutes=n)} for n in range(40)],
        )
        await session.execute(
            insert(TaskEvent),
            [
                {
                    "task_id": task_id,
                    "kind": "pushed",
                    "at": NOW - timedelta(days=500, minutes=n),
                    "detail": {},
                }
                for n in range(450)
            ]
            + [
                {"task_id": task_id, "kind": "done", "at": NOW - timedelta(days=100, minutes=n), "detail": {}}
                for n in range(60)
            ],
        )
    events_before = await count(db, TaskEvent)

    report = await prune(db, Retention(), NOW, pause=0.0, size=BatchSize(rows=100, smallest=100, largest=100))

    assert report.outbox == 730 and report.processed_updates == 600 and report.task_events == 450
    assert report.finished and report.batches >= 8 + 6 + 5  # in batches of 100, not one statement
    left = await count(db, OutboxMessage)
    assert left == 5 + 120
    assert await count(db, OutboxMessage, OutboxMessage.id.in_(stuck)) == 5
    assert await count(db, OutboxMessage, OutboxMessage.id.in_(recent)) == 120
    # the links to removed rows went with them; the others stay
    assert await count(db, TaskMessage, TaskMessage.outbox_id.in_(old)) == 0
    assert await count(db, TaskMessage, TaskMessage.outbox_id.in_(recent + stuck)) == 3
    assert await count(db, ProcessedUpdate) == 40
    assert await count(db, ProcessedUpdate, ProcessedUpdate.update_id >= 20_000) == 40
    assert await count(db, TaskEvent) == events_before - 450
    assert await count(db, TaskEvent, TaskEvent.at < NOW - timedelta(days=400)) == 0

    again = await prune(db, Retention(), NOW, pause=0.0)
    assert again.removed == 0


async def test_the_site_sets_each_retention(rig: Rig) -> None:
    db = rig.db
    await outbox_rows(db, 50, NOW - timedelta(days=8), ("sent",))
    await outbox_rows(db, 50, NOW - timedelta(days=6), ("sent",))
    async with db.transaction() as session:
        await session.execute(
            insert(ProcessedUpdate),
            [{"update_id": n, "at": NOW - timedelta(days=3, minutes=n)} for n in range(30)],
        )
    retention = Retention(outbox_days=7, processed_updates_days=2)
    report = await prune(db, retention, NOW, pause=0.0)
    assert (report.outbox, report.processed_updates) == (50, 30)
    assert await count(db, OutboxMessage) == 50


async def test_a_run_stops_at_its_budget_and_the_next_goes_on(rig: Rig) -> None:
    db = rig.db
    await outbox_rows(db, 300, NOW - timedelta(days=60), ("sent",))
    stopped = await prune(db, Retention(), NOW, pause=0.0, budget=0.0)
    assert not stopped.finished and stopped.removed == 0
    assert (await prune(db, Retention(), NOW, pause=0.0)).outbox == 300


def test_a_slow_batch_halves_the_next_and_a_quick_one_doubles_it() -> None:
    size = BatchSize(rows=400, target=0.02)
    assert size.after(0.05) == 200
    assert size.after(0.021) == 100
    assert size.after(0.01) == 100  # between a third of the target and the target: kept
    assert size.after(0.001) == 200
    for _ in range(20):
        size.after(1.0)
    assert size.rows == SMALLEST
    for _ in range(20):
        size.after(0.0)
    assert size.rows == LARGEST


def test_retention_defaults_and_bounds() -> None:
    retention = Retention()
    assert (retention.outbox_days, retention.processed_updates_days, retention.task_events_days) == (
        30,
        30,
        400,
    )
    with pytest.raises(ValueError):
        Retention(processed_updates_days=1)  # Telegram redelivers for a day: two at least
    with pytest.raises(ValueError):
        Retention(task_events_days=7)  # the reports read a month
