"""Tasks, their events and messages, and the groups bound to teams. Add and flush only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, ChatBinding, OutboxMessage, Task, TaskEvent, TaskMessage

TIMED_STATUSES = ("planned", "open", "problem")
"""Statuses whose ``next_at`` the tick follows."""


class TaskRepository:
    def __init__(self, session: AsyncSession, *, defer_events: bool = False) -> None:
        """``defer_events``: :meth:`event` collects the events, :meth:`write_events` writes
        them with one statement (the tick records one or more per task)."""
        self.session = session
        self.deferred: list[dict[str, Any]] | None = [] if defer_events else None

    async def get(self, task_id: int, *, for_update: bool = False) -> Task | None:
        # with_for_update=False (not None) would make get() skip the identity map and query
        return await self.session.get(
            Task, task_id, with_for_update=True if for_update else None, populate_existing=for_update
        )

    async def with_bookings(self, task_ids: Iterable[int]) -> list[Task | Booking]:
        """These tasks and their bookings, loaded in two queries; the caller holds the list
        so that later ``session.get`` calls for them are answered from the identity map."""
        ids = sorted(set(task_ids))
        tasks: list[Task] = []
        for first in range(0, len(ids), 500):
            tasks += (
                await self.session.scalars(select(Task).where(Task.id.in_(ids[first : first + 500])))
            ).all()
        booking_ids = sorted({task.booking_id for task in tasks})
        bookings: list[Booking] = []
        for first in range(0, len(booking_ids), 500):
            chunk = booking_ids[first : first + 500]
            bookings += (await self.session.scalars(select(Booking).where(Booking.id.in_(chunk)))).all()
        return [*tasks, *bookings]

    async def for_booking(self, booking_id: int) -> Sequence[Task]:
        query = select(Task).where(Task.booking_id == booking_id).order_by(Task.push_at, Task.id)
        return (await self.session.scalars(query)).all()

    async def add(self, task: Task) -> Task:
        self.session.add(task)
        await self.session.flush()
        return task

    async def claim_due(self, now: datetime, owner: str, lease: timedelta, limit: int) -> list[int]:
        """Take the tasks whose timer is due, so no other instance handles them at the same time.

        SQLite (every transaction is BEGIN IMMEDIATE there) uses a conditional UPDATE …
        RETURNING; PostgreSQL locks the rows with FOR UPDATE SKIP LOCKED so a second
        instance passes over them instead of waiting. Either way the lease is written, and
        the caller handles the rows and clears the lease in the same transaction.
        """
        due = (
            select(Task.id)
            .where(
                Task.next_at <= now,
                Task.status.in_(TIMED_STATUSES),
                (Task.lease_until.is_(None)) | (Task.lease_until <= now),
            )
            .order_by(Task.next_at, Task.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            ids = list((await self.session.scalars(due.with_for_update(skip_locked=True))).all())
            if ids:
                await self.session.execute(
                    update(Task)
                    .where(Task.id.in_(ids))
                    .values(lease_until=now + lease, leased_by=owner)
                    .execution_options(synchronize_session=False)
                )
            return ids
        result = await self.session.execute(
            update(Task)
            .where(Task.id.in_(due))
            .values(lease_until=now + lease, leased_by=owner)
            .returning(Task.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(result.scalars().all())

    async def by_ids(self, ids: Sequence[int]) -> list[Task]:
        if not ids:
            return []
        rows = await self.session.scalars(
            select(Task)
            .where(Task.id.in_(ids))
            .order_by(Task.next_at, Task.id)
            .execution_options(populate_existing=True)
        )
        return list(rows.all())

    async def event(
        self, task: Task, kind: str, at: datetime, actor_id: int | None = None, **detail: Any
    ) -> None:
        values = {"task_id": task.id, "kind": kind, "actor_id": actor_id, "at": at, "detail": detail}
        if self.deferred is not None:
            self.deferred.append(values)
        else:
            self.session.add(TaskEvent(**values))

    async def write_events(self) -> None:
        if self.deferred:
            await self.session.execute(insert(TaskEvent), self.deferred)
            self.deferred = []

    async def events(self, task_id: int) -> Sequence[TaskEvent]:
        query = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
        return (await self.session.scalars(query)).all()

    async def link(self, links: Sequence[tuple[int, int, int, str]]) -> None:
        """Record which outbox rows show which tasks: (task id, chat id, outbox id, purpose)."""
        if links:
            await self.session.execute(
                insert(TaskMessage),
                [
                    {"task_id": task_id, "chat_id": chat_id, "outbox_id": outbox_id, "purpose": purpose}
                    for task_id, chat_id, outbox_id, purpose in links
                ],
            )

    async def messages(self, task_id: int, purposes: Sequence[str] | None = None) -> Sequence[TaskMessage]:
        query = select(TaskMessage).where(TaskMessage.task_id == task_id)
        if purposes is not None:
            query = query.where(TaskMessage.purpose.in_(purposes))
        return (await self.session.scalars(query.order_by(TaskMessage.id))).all()

    async def message_ids(self, outbox_ids: Sequence[int]) -> dict[int, int | None]:
        """Telegram message id of each outbox row (None while it is not sent)."""
        if not outbox_ids:
            return {}
        rows = await self.session.execute(
            select(OutboxMessage.id, OutboxMessage.message_id).where(OutboxMessage.id.in_(outbox_ids))
        )
        return dict(rows.tuples().all())

    async def of_bookings_between(self, start: datetime, end: datetime) -> list[tuple[Booking, list[Task]]]:
        """Bookings starting in [start, end) with their tasks, in start order."""
        bookings = (
            await self.session.scalars(
                select(Booking)
                .where(Booking.start_at >= start, Booking.start_at < end)
                .where(Booking.status.in_(("confirmed", "in_progress", "finished")))
                .order_by(Booking.start_at, Booking.id)
            )
        ).all()
        if not bookings:
            return []
        tasks = (
            await self.session.scalars(
                select(Task)
                .where(Task.booking_id.in_([b.id for b in bookings]))
                .order_by(Task.push_at, Task.id)
            )
        ).all()
        grouped: dict[int, list[Task]] = {b.id: [] for b in bookings}
        for task in tasks:
            grouped[task.booking_id].append(task)
        return [(booking, grouped[booking.id]) for booking in bookings]

    async def overdue(self, now: datetime) -> Sequence[Task]:
        query = (
            select(Task)
            .where(Task.status.in_(("open", "problem")), Task.due_at.is_not(None), Task.due_at < now)
            .order_by(Task.due_at, Task.id)
        )
        return (await self.session.scalars(query)).all()

    async def open_for_teams(self, team_ids: Sequence[str], until: datetime) -> Sequence[Task]:
        """Tasks of these teams not yet done: pushed ones, and planned ones pushed before ``until``."""
        query = (
            select(Task)
            .where(Task.team_id.in_(team_ids), Task.needs_confirmation.is_(True))
            .where(
                Task.status.in_(("open", "problem")) | ((Task.status == "planned") & (Task.push_at < until))
            )
            .order_by(Task.due_at, Task.push_at, Task.id)
        )
        return (await self.session.scalars(query)).all()


class ChatBindingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> Sequence[ChatBinding]:
        return (await self.session.scalars(select(ChatBinding))).all()

    async def bind(self, team_id: str, chat_id: int, by: int, now: datetime) -> None:
        """One group per team and one team per group: earlier bindings of either are replaced."""
        await self.session.execute(
            delete(ChatBinding).where((ChatBinding.chat_id == chat_id) | (ChatBinding.team_id == team_id))
        )
        await self.session.flush()
        self.session.add(ChatBinding(team_id=team_id, chat_id=chat_id, bound_by_id=by, at=now))
        await self.session.flush()

    async def move(self, old_chat_id: int, new_chat_id: int) -> None:
        await self.session.execute(
            update(ChatBinding).where(ChatBinding.chat_id == old_chat_id).values(chat_id=new_chat_id)
        )
