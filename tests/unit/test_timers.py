"""The tick at scale: the claim reads its index, a batch is stepped with a few statements
whatever its size, and the tick loop sleeps until the next timer or an earlier one planned.

Both databases (HUIWU_TEST_DATABASE=postgres runs them on PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

from bot.services.clock import ManualClock, OffsetClock
from bot.site import SiteConfig
from storage.database import Database, refresh_statistics
from storage.models import Task, TaskEvent, TaskMessage
from storage.repositories.tasks import TaskRepository
from tests.databases import USE_POSTGRES
from tests.unit.dispatch_support import Rig, local


@pytest.fixture
def rig(site: SiteConfig, clock: ManualClock, db: Database) -> Rig:
    return Rig(site, clock, db)


async def clone_tasks(rig: Rig, pushes: list[datetime], **values: Any) -> None:
    """Copies of the booking's AV test task, one per push time, waiting to be pushed."""
    async with rig.db.transaction() as session:
        model = (
            await session.scalars(select(Task).where(Task.template_id == "av_test").order_by(Task.id))
        ).first()
        assert model is not None
        base = {c.key: getattr(model, c.key) for c in Task.__table__.columns if c.key != "id"}
        taken = await session.scalar(
            select(func.max(Task.occurrence)).where(Task.booking_id == model.booking_id)
        )
    rows = [
        base
        | {
            "occurrence": (taken or 0) + 1 + number,
            "push_at": push,
            "next_at": push,
            "due_at": push + timedelta(days=1),
            "planned_due_at": push + timedelta(days=1),
            "expires_at": push + timedelta(days=2),
            "status": "planned",
            "stage": 0,
            "steps": 0,
        }
        | values
        for number, push in enumerate(pushes)
    ]
    for first in range(0, len(rows), 5000):
        async with rig.db.transaction() as session:
            await session.execute(insert(Task), rows[first : first + 5000])


@contextmanager
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent to the database in the block (an executemany counts once)."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def plan_of(db: Database, statement: str, parameters: Any) -> str:
    async with db.engine.connect() as connection:
        explain = "EXPLAIN " if USE_POSTGRES else "EXPLAIN QUERY PLAN "
        rows = await connection.exec_driver_sql(explain + statement, parameters)
        return "\n".join(str(row[-1]) for row in rows)


async def claim_plan(rig: Rig, now: datetime) -> str:
    with statements(rig.db) as seen:
        async with rig.db.transaction() as session:
            await TaskRepository(session).claim_due(now, 200)
    (claim,) = [(s, p) for s, p in seen if "FROM tasks" in s and "ORDER BY" in s]
    return await plan_of(rig.db, *claim)


def sorts(plan: str) -> bool:
    """Whether the plan sorts the rows it read (SQLite: a temporary B-tree; PostgreSQL: a Sort
    node, an incremental one included) instead of reading them in the index's order."""
    return "TEMP B-TREE" in plan or "Sort" in plan


async def test_the_claim_reads_the_timer_index_in_order(rig: Rig) -> None:
    """20,000 tasks, most of them finished: the claim reads the due ones from ix_tasks_timer
    in its order. Without statistics SQLite would take ix_tasks_status (every open task read
    and sorted) for a claim that filtered on the status; with statistics that say few tasks
    are open, it would take it too. Neither may happen."""
    await rig.book()
    now = local(3, 9)
    await clone_tasks(rig, [now - timedelta(minutes=5) + timedelta(seconds=i) for i in range(400)])
    await clone_tasks(
        rig,
        [now - timedelta(days=1, seconds=i) for i in range(20_000)],
        status="done",
        next_at=None,
    )
    await clone_tasks(rig, [now + timedelta(hours=1, seconds=i) for i in range(2_000)])
    if not USE_POSTGRES:  # none for the tasks yet: the migrations analysed an empty table
        first = await claim_plan(rig, now)
        assert "ix_tasks_timer" in first and not sorts(first), first
    async with rig.db.engine.begin() as connection:
        await refresh_statistics(connection)
    analysed = await claim_plan(rig, now)
    assert "ix_tasks_timer" in analysed and not sorts(analysed), analysed


async def test_a_batch_takes_a_few_statements_whatever_its_size(rig: Rig) -> None:
    """The claim, the chats, one UPDATE, one INSERT of events, one of the pushed cards and one
    of their links (and the transaction's BEGIN): the same statements for a batch of 30 as for
    a batch of 300, and no task loaded as an ORM object."""
    await rig.book()
    base = local(3, 9)
    await clone_tasks(rig, [base - timedelta(minutes=20, seconds=i) for i in range(330)])
    rig.clock.set(base)
    counts = []
    for limit in (30, 300):
        with statements(rig.db) as seen:
            async with rig.db.transaction() as session:
                result = await rig.workers.timers.tick(session, limit=limit)
                assert result.claimed == limit and result.steps >= limit
                assert not [row for row in session.identity_map.values() if isinstance(row, Task)]
        counts.append(len(seen))
    assert counts[0] == counts[1] <= 7, counts


async def test_a_catch_up_in_one_batch_equals_one_task_at_a_time(
    site: SiteConfig, clock: ManualClock, db: Database, tmp_path: Any
) -> None:
    """A downtime across pushes, reminders and both chain steps: stepped 500 at a time or one
    at a time, every task ends in the same state with the same events, shown in the same
    chats for the same purposes."""
    from storage.database import create_engine
    from tests.databases import database_url_for

    async def run(database: Database, limit: int) -> tuple[list[Any], list[Any], list[Any]]:
        rig = Rig(site, clock, database)
        clock.set(local(2, 9))
        await rig.book()
        await rig.book(room="r102", start=local(3, 14), hours=1)
        await clone_tasks(rig, [local(3, 8, 30) + timedelta(seconds=7 * i) for i in range(100)])
        # pushed before the downtime: the reminder and both chain steps, or the last step only
        reminders = [local(3, 9, 10) + timedelta(seconds=3 * i) for i in range(100)]
        await clone_tasks(rig, reminders, status="open", steps=1, due_at=local(3, 9, 10))
        last = [local(3, 9, 50) + timedelta(seconds=i) for i in range(50)]
        await clone_tasks(rig, last, status="open", stage=2, steps=3, due_at=local(3, 9))
        clock.set(local(3, 9, 55))
        while True:
            async with database.transaction() as session:
                result = await rig.workers.timers.tick(session, limit=limit)
                from bot.delivery.queue import queue

                await queue(session, rig.delivery, result.outgoing)
            if result.claimed < limit:
                break
        async with database.transaction() as session:
            tasks = (
                await session.execute(
                    select(
                        Task.id, Task.status, Task.stage, Task.steps, Task.next_at, Task.due_at, Task.late
                    ).order_by(Task.id)
                )
            ).all()
            events = (
                await session.execute(
                    select(TaskEvent.task_id, TaskEvent.kind, TaskEvent.detail).order_by(
                        TaskEvent.task_id, TaskEvent.id
                    )
                )
            ).all()
            # which message shows which task (alerts of one meeting share a message when they
            # come in one batch, so the rows themselves depend on the batch)
            shown = (
                await session.execute(
                    select(TaskMessage.task_id, TaskMessage.chat_id, TaskMessage.purpose).order_by(
                        TaskMessage.task_id, TaskMessage.chat_id, TaskMessage.purpose
                    )
                )
            ).all()
        return list(tasks), list(events), list(shown)

    async with database_url_for(tmp_path, "second") as url:
        second = Database(create_engine(url))
        if not USE_POSTGRES:
            from storage import migrate

            await migrate.upgrade(second.engine)
        try:
            batched = await run(db, 500)
            one_by_one = await run(second, 1)
        finally:
            await second.dispose()
    assert len(batched[0]) > 250 and len(batched[1]) > 450
    assert batched == one_by_one


# ---- the tick loop ----------------------------------------------------------------------------


async def wait_for(condition: Any, seconds: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        if await condition():
            return time.perf_counter() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {seconds} s")


async def test_the_loop_wakes_when_a_booking_plans_a_timer_due_now(site: SiteConfig, db: Database) -> None:
    """Asleep with nothing to do (up to 30 s here), the loop is woken by the booking's commit:
    the check whose push time passed before the booking was made goes out at once."""
    clock = OffsetClock()
    clock.set(local(3, 9, 5))
    rig = Rig(site, clock, db, tick_seconds=30.0)  # type: ignore[arg-type]
    loop = asyncio.create_task(rig.workers.tick_loop())
    try:
        await asyncio.sleep(0.3)  # the first tick found nothing and sleeps
        await rig.book(start=local(3, 10, 10), hours=1)

        async def pushed() -> bool:
            return (await rig.task("check_1")).status == "open"

        assert await wait_for(pushed, 5.0) < 5.0
    finally:
        await rig.workers.stop()
        await loop


async def test_the_loop_sleeps_until_the_next_timer(site: SiteConfig, db: Database) -> None:
    """The AV test is pushed at its second, not at the loop's next look 30 s later."""
    clock = OffsetClock()
    clock.set(local(3, 9) - timedelta(milliseconds=1300))
    rig = Rig(site, clock, db, tick_seconds=30.0)  # type: ignore[arg-type]
    await rig.book()
    loop = asyncio.create_task(rig.workers.tick_loop())
    try:

        async def pushed() -> bool:
            return (await rig.task("av_test")).pushed_at is not None

        await wait_for(pushed, 6.0)
        task = await rig.task("av_test")
        assert task.pushed_at is not None and timedelta(0) <= task.pushed_at - task.push_at < timedelta(
            seconds=1
        )
        assert not task.late
    finally:
        await rig.workers.stop()
        await loop


async def test_with_a_manual_clock_the_loop_keeps_its_interval(rig: Rig) -> None:
    await rig.book()
    assert await rig.workers.until_next_timer() == rig.settings.tick_seconds


async def test_the_sleep_is_bounded_and_follows_the_earliest_timer(site: SiteConfig, db: Database) -> None:
    clock = OffsetClock()
    clock.set(local(3, 9) - timedelta(seconds=3))
    rig = Rig(site, clock, db, tick_seconds=5.0)  # type: ignore[arg-type]
    assert await rig.workers.until_next_timer() == 5.0  # no timer at all
    await rig.book()
    await rig.workers.tick_once()  # the tasks whose push time passed (none due before 08:00 here)
    async with db.read() as session:
        earliest = await TaskRepository(session).earliest_timer()
        due = await session.scalar(select(func.min(Task.next_at)))
    assert earliest == due
    wait = await rig.workers.until_next_timer()
    assert 2.0 < wait <= 3.1  # 09:00 is 3 s away
    clock.set(local(3, 8, 50))
    assert await rig.workers.until_next_timer() == 5.0


async def test_a_backlog_is_caught_up_once_per_task_by_parallel_loops_on_postgresql(
    rig: Rig, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a downtime the tick catches up in batches: on PostgreSQL in two transactions at
    once (each claim skips the other's locked rows), on SQLite in one. Either way each task is
    pushed exactly once and shown by exactly one card."""
    import bot.workers as workers_module

    monkeypatch.setattr(workers_module, "TICK_BATCH", 10)
    monkeypatch.setattr(workers_module, "CATCH_UP_BATCH", 20)
    clock.set(local(2, 9))
    await rig.book()
    await clone_tasks(rig, [local(3, 8, 30) + timedelta(seconds=i) for i in range(400)])
    running = 0
    most = 0
    tick_batch = rig.workers._tick_batch

    async def counted(limit: int) -> tuple[int, int]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            return await tick_batch(limit)
        finally:
            running -= 1

    monkeypatch.setattr(rig.workers, "_tick_batch", counted)
    clock.set(local(3, 8, 45))
    steps = await rig.workers.tick_once()

    async def per_task(column: Any, condition: Any) -> list[Any]:
        """(task id, rows) of a table's rows meeting ``condition``, per task."""
        async with rig.db.transaction() as session:
            query = select(column, func.count()).where(condition).group_by(column)
            return list((await session.execute(query)).all())

    pushed = await per_task(TaskEvent.task_id, TaskEvent.kind == "pushed")
    cards = await per_task(TaskMessage.task_id, TaskMessage.purpose == "card")
    async with rig.db.transaction() as session:
        overdue = await session.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.status == "planned", Task.push_at <= clock.now())
        )
    assert most == (2 if USE_POSTGRES else 1)
    assert len(pushed) >= 400 and all(count == 1 for _, count in pushed)
    assert steps == len(pushed)
    assert all(count == 1 for _, count in cards) and len(cards) >= 400
    assert overdue == 0
