"""Tasks, their events and messages, and the groups bound to teams. Add and flush only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String, bindparam, delete, select, text, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, ChatBinding, OutboxMessage, Task, TaskEvent, TaskMessage

TIMED_STATUSES = ("planned", "open", "problem")
"""Statuses whose ``next_at`` the tick follows."""


@dataclass(slots=True)
class TimerRow:
    """What the tick reads and changes of a due task: plain values, not an ORM object, so
    a batch of thousands is stepped in Python without the session tracking each one."""

    id: int
    team_id: str
    status: str
    stage: int
    steps: int
    next_at: datetime | None
    push_at: datetime
    due_at: datetime | None
    planned_due_at: datetime | None
    expires_at: datetime | None
    needs_confirmation: bool
    late: bool | None = None
    """Set by a push; None: left as it is (so neither is read by the claim)."""
    pushed_at: datetime | None = None


_TIMER_COLUMNS = (
    Task.id,
    Task.team_id,
    Task.status,
    Task.stage,
    Task.steps,
    Task.next_at,
    Task.push_at,
    Task.due_at,
    Task.planned_due_at,
    Task.expires_at,
    Task.needs_confirmation,
)
_TIME_POSITIONS = (5, 6, 7, 8, 9)


def _raw_timer_columns(dialect: str) -> list[Any]:
    """The claim's columns with the times read as the driver gives them: the ORM's
    conversion of each (text to an aware UTC time on SQLite, a time zone on PostgreSQL)
    costs more than the claim's whole read; :func:`_timer_row` does it in one call."""
    raw_time = String() if dialect == "sqlite" else DateTime(timezone=True)
    return [
        type_coerce(column, raw_time) if position in _TIME_POSITIONS else column
        for position, column in enumerate(_TIMER_COLUMNS)
    ]


def _timer_row(values: Sequence[Any], sqlite: bool) -> TimerRow:
    if not sqlite:
        return TimerRow(*values)
    # the text the ORM writes on SQLite: naive UTC, "YYYY-MM-DD HH:MM:SS.ffffff"
    task_id, team, status, stage, steps, next_at, push_at, due_at, planned_due_at, expires_at, needs = values
    return TimerRow(
        task_id,
        team,
        status,
        stage,
        steps,
        _utc(next_at),
        _utc(push_at),
        _utc(due_at),
        _utc(planned_due_at),
        _utc(expires_at),
        bool(needs),
    )


def _utc(value: Any) -> Any:
    # parsed with its offset rather than given one by ``replace``: three times faster, and a
    # catch-up parses five times per task
    return None if value is None else datetime.fromisoformat(value + "+00:00")


# Writing a batch of stepped timers or events takes one statement with one parameter: the
# batch as a JSON array, unpacked by the database (json_each / jsonb_array_elements). The
# driver's executemany of a prepared statement costs the ORM's parameter processing per row,
# ~25 µs on SQLite and far more with asyncpg; the JSON document is encoded in C.
_SAVE_TIMERS = {
    "sqlite": text(
        """
        UPDATE tasks SET
            status = json_extract(j.value, '$[1]'),
            stage = json_extract(j.value, '$[2]'),
            steps = json_extract(j.value, '$[3]'),
            next_at = json_extract(j.value, '$[4]'),
            due_at = json_extract(j.value, '$[5]'),
            late = coalesce(json_extract(j.value, '$[6]'), tasks.late),
            pushed_at = coalesce(json_extract(j.value, '$[7]'), tasks.pushed_at),
            updated_at = :now, lease_until = NULL, leased_by = NULL
        FROM json_each(:rows) AS j
        WHERE tasks.id = json_extract(j.value, '$[0]')
        """
    ),
    "postgresql": text(
        """
        UPDATE tasks SET
            status = j.value ->> 1,
            stage = (j.value ->> 2)::integer,
            steps = (j.value ->> 3)::integer,
            next_at = (j.value ->> 4)::timestamptz,
            due_at = (j.value ->> 5)::timestamptz,
            late = coalesce((j.value ->> 6)::boolean, tasks.late),
            pushed_at = coalesce((j.value ->> 7)::timestamptz, tasks.pushed_at),
            updated_at = :now, lease_until = NULL, leased_by = NULL
        FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS j(value)
        WHERE tasks.id = (j.value ->> 0)::integer
        """
    ),
}
_ADD_EVENTS = {
    "sqlite": text(
        """
        INSERT INTO task_events (task_id, kind, actor_id, at, detail)
        SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
               json_extract(value, '$[3]'), json_extract(value, '$[4]')
        FROM json_each(:rows) ORDER BY key
        """
    ),
    "postgresql": text(
        """
        INSERT INTO task_events (task_id, kind, actor_id, at, detail)
        SELECT (value ->> 0)::integer, value ->> 1, (value ->> 2)::bigint, (value ->> 3)::timestamptz,
               (value -> 4)::json
        FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS j(value, position)
        ORDER BY position
        """
    ),
}

_ADD_LINKS = {
    "sqlite": text(
        """
        INSERT INTO task_messages (task_id, chat_id, outbox_id, purpose)
        SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
               json_extract(value, '$[3]')
        FROM json_each(:rows) ORDER BY key
        """
    ),
    "postgresql": text(
        """
        INSERT INTO task_messages (task_id, chat_id, outbox_id, purpose)
        SELECT (value ->> 0)::integer, (value ->> 1)::bigint, (value ->> 2)::integer, value ->> 3
        FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS j(value, position)
        ORDER BY position
        """
    ),
}


def _stamp_for(dialect: str) -> Callable[[datetime | None], str | None]:
    """How a time travels in a JSON batch: SQLite gets the text the ORM stores (naive UTC,
    microseconds always written, so comparisons as text stay in time order); PostgreSQL an
    ISO time with its offset."""
    # a batch's rows share some moments (the tick's now: every push's and every event's), so
    # each distinct one is formatted once
    known: dict[datetime, str] = {}
    sqlite = dialect == "sqlite"

    def stamp(value: datetime | None) -> str | None:
        if value is None:
            return None
        formatted = known.get(value)
        if formatted is None:
            if sqlite:
                utc = value if value.tzinfo is UTC else value.astimezone(UTC)
                # "YYYY-MM-DD HH:MM:SS.ffffff+00:00" cut before the offset: no ``replace`` per value
                formatted = utc.isoformat(sep=" ", timespec="microseconds")[:26]
            else:
                formatted = value.isoformat()
            known[value] = formatted
        return formatted

    return stamp


def _json(rows: list[list[Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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

    async def claim_due(self, now: datetime, limit: int) -> list[TimerRow]:
        """The tasks whose timer is due, earliest first, taken so no other instance steps them.

        SQLite: every write transaction holds the database's write lock (BEGIN IMMEDIATE), so
        a plain read is already exclusive. PostgreSQL: the rows are locked with FOR UPDATE
        SKIP LOCKED, so a second instance passes over them instead of waiting. The caller
        steps them and writes them back (:meth:`save_timers`) in the same transaction.

        Only ``next_at`` is filtered on, so the one usable index is the partial
        ``ix_tasks_timer`` (next_at, id) and the batch is read in index order, never sorted:
        every path that ends a task clears its ``next_at``, and the tick repairs a row left
        with one (see ``TaskTimers.tick``). A status condition here would offer SQLite
        ``ix_tasks_status`` instead, and without statistics it takes it: every open task
        read and sorted at each claim.
        """
        dialect = self.session.get_bind().dialect.name
        query = (
            select(*_raw_timer_columns(dialect))
            .where(Task.next_at <= now, (Task.lease_until.is_(None)) | (Task.lease_until <= now))
            .order_by(Task.next_at, Task.id)
            .limit(limit)
        )
        if dialect == "postgresql":
            query = query.with_for_update(of=Task, skip_locked=True)
        sqlite = dialect == "sqlite"
        return [_timer_row(row, sqlite) for row in (await self.session.execute(query)).all()]

    async def earliest_timer(self) -> datetime | None:
        """The earliest ``next_at`` of any task (the first entry of ``ix_tasks_timer``)."""
        return await self.session.scalar(
            select(Task.next_at).where(Task.next_at.is_not(None)).order_by(Task.next_at, Task.id).limit(1)
        )

    async def save_timers(self, rows: Sequence[TimerRow], now: datetime) -> None:
        """Write stepped timers back, clearing any lease: one statement for the batch."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        stamp = _stamp_for(dialect)
        batch = [
            [
                row.id,
                str(row.status),
                row.stage,
                row.steps,
                stamp(row.next_at),
                stamp(row.due_at),
                None if row.late is None else bool(row.late),
                stamp(row.pushed_at),
            ]
            for row in rows
        ]
        statement = _SAVE_TIMERS[dialect].bindparams(bindparam("now", type_=Task.__table__.c.updated_at.type))
        await self.session.execute(statement, {"rows": _json(batch), "now": now})

    async def add_events(self, events: Sequence[dict[str, Any]]) -> None:
        """Task events given as values (task_id, kind, actor_id, at, detail): one statement."""
        if not events:
            return
        dialect = self.session.get_bind().dialect.name
        stamp = _stamp_for(dialect)
        batch = [
            [event["task_id"], str(event["kind"]), event.get("actor_id"), stamp(event["at"]), event["detail"]]
            for event in events
        ]
        await self.session.execute(_ADD_EVENTS[dialect], {"rows": _json(batch)})

    async def event(
        self, task: Task, kind: str, at: datetime, actor_id: int | None = None, **detail: Any
    ) -> None:
        self.session.add(TaskEvent(task_id=task.id, kind=kind, actor_id=actor_id, at=at, detail=detail))

    async def events(self, task_id: int) -> Sequence[TaskEvent]:
        query = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
        return (await self.session.scalars(query)).all()

    async def link(self, links: Sequence[tuple[int, int, int, str]]) -> None:
        """Record which outbox rows show which tasks: (task id, chat id, outbox id, purpose),
        with one statement however many (see _ADD_LINKS)."""
        if links:
            dialect = self.session.get_bind().dialect.name
            await self.session.execute(_ADD_LINKS[dialect], {"rows": _json([list(link) for link in links])})

    async def messages(self, task_id: int, purposes: Sequence[str] | None = None) -> Sequence[TaskMessage]:
        query = select(TaskMessage).where(TaskMessage.task_id == task_id)
        if purposes is not None:
            query = query.where(TaskMessage.purpose.in_(purposes))
        return (await self.session.scalars(query.order_by(TaskMessage.id))).all()

    async def messages_of(self, task_ids: Sequence[int]) -> Sequence[TaskMessage]:
        """Every message showing any of these tasks, with one query per 500 tasks."""
        ids = sorted(set(task_ids))
        found: list[TaskMessage] = []
        for first in range(0, len(ids), 500):
            query = select(TaskMessage).where(TaskMessage.task_id.in_(ids[first : first + 500]))
            found += (await self.session.scalars(query.order_by(TaskMessage.id))).all()
        return found

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
