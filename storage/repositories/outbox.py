"""Outbox rows: written in the transaction that causes them, delivered by the sender.

Every query the sender makes on a large outbox reads an index, not the table:
``ix_outbox_open`` (chat, id of the unfinished rows) for the chats with something to send
and each chat's rows in order, ``ix_outbox_pending_edits`` for the edits waiting for a
message. Their conditions are written into the queries as literals: a partial index is only
used when the query's condition is visibly the index's (a bound parameter is not, on
PostgreSQL's generic plans).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.repositories.tasks import TaskRepository

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
MERGED = "merged"
APPLIED = "applied"
DROPPED = "dropped"


def _is_open(table: Any = OutboxMessage) -> ColumnElement[bool]:
    """``status IN ('pending', 'sending')``, as ``ix_outbox_open`` says it."""
    return table.status.in_([literal_column("'pending'"), literal_column("'sending'")])  # type: ignore[no-any-return]


def _is_pending_edit() -> ColumnElement[bool]:
    """``kind = 'edit' AND status = 'pending'``, as ``ix_outbox_pending_edits`` says it."""
    return and_(
        OutboxMessage.kind == literal_column("'edit'"), OutboxMessage.status == literal_column("'pending'")
    )


_OPEN_CHATS = text(
    """
    WITH RECURSIVE chats(chat_id) AS (
        SELECT (SELECT min(chat_id) FROM outbox WHERE status IN ('pending', 'sending'))
        UNION ALL
        SELECT (
            SELECT min(o.chat_id) FROM outbox AS o
            WHERE o.status IN ('pending', 'sending') AND o.chat_id > chats.chat_id
        )
        FROM chats WHERE chats.chat_id IS NOT NULL
    )
    SELECT chats.chat_id, (
        SELECT min(o.id) FROM outbox AS o
        WHERE o.status IN ('pending', 'sending') AND o.chat_id = chats.chat_id
    ) AS first_id
    FROM chats WHERE chats.chat_id IS NOT NULL
    """
)
"""Each chat with an unfinished row and its oldest one: two index seeks per chat (a "loose
index scan"), however many rows wait; ``SELECT DISTINCT`` or a ranking would read them all."""

_OPEN_CHATS_LATERAL = text(
    """
    WITH RECURSIVE chats(chat_id, first_id) AS (
        (SELECT chat_id, id FROM outbox WHERE status IN ('pending', 'sending')
         ORDER BY chat_id, id LIMIT 1)
        UNION ALL
        SELECT next.chat_id, next.id FROM chats CROSS JOIN LATERAL (
            SELECT o.chat_id, o.id FROM outbox AS o
            WHERE o.status IN ('pending', 'sending') AND o.chat_id > chats.chat_id
            ORDER BY o.chat_id, o.id LIMIT 1
        ) AS next
    )
    SELECT chat_id, first_id FROM chats
    """
)
""":data:`_OPEN_CHATS` with one seek per chat (PostgreSQL, which has ``LATERAL``): the first
entry of ``ix_outbox_open`` after a chat is the next chat and its oldest row (half the time
of the walk at 1,000 chats)."""


# The cards of a tick's pushes: one INSERT … SELECT from the batch as one JSON parameter
# ([task id, chat id, dedupe key], unpacked by the database), a key queued before skipped by
# its unique index; on SQLite the new rows' ids are returned with their keys for the links,
# on PostgreSQL the same statement writes the links. Building each
# row as an ORM insert's parameters cost ~25 µs a row of Python; this costs the rows' writes.
_ADD_TASK_CARDS = {
    "sqlite": text(
        """
        INSERT INTO outbox (chat_id, kind, notice, params, language, mergeable, dedupe_key,
                            status, attempts, not_before, created_at)
        SELECT json_extract(value, '$[1]'), 'send', 'task_card',
               json_object('task_id', json_extract(value, '$[0]')), :language, 1,
               json_extract(value, '$[2]'), 'pending', 0, :now, :now
        FROM json_each(:rows) WHERE true ORDER BY key
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id, dedupe_key
        """
    ),
    # the rows written feed the links' INSERT inside the server: neither their ids nor the
    # links travel through this process (a catch-up writes a hundred thousand of each)
    "postgresql": text(
        """
        WITH cards AS (
            SELECT (value ->> 0)::integer AS task_id, (value ->> 1)::bigint AS chat_id,
                   value ->> 2 AS dedupe_key, position
            FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS j(value, position)
        ), written AS (
            INSERT INTO outbox (chat_id, kind, notice, params, language, mergeable, dedupe_key,
                                status, attempts, not_before, created_at)
            SELECT chat_id, 'send', 'task_card', json_build_object('task_id', task_id), :language,
                   true, dedupe_key, 'pending', 0, :now, :now
            FROM cards ORDER BY position
            ON CONFLICT (dedupe_key) DO NOTHING
            RETURNING id, dedupe_key
        )
        INSERT INTO task_messages (task_id, chat_id, outbox_id, purpose)
        SELECT cards.task_id, cards.chat_id, written.id, :purpose
        FROM written JOIN cards ON cards.dedupe_key = written.dedupe_key
        ORDER BY written.id
        """
    ),
}


def outbox_row(
    *,
    chat_id: int,
    now: datetime,
    notice: str | None = None,
    params: dict[str, Any] | None = None,
    language: str | None = None,
    text: str | None = None,
    reply_markup: list[Any] | None = None,
    kind: str = "send",
    edit_of_id: int | None = None,
    mergeable: bool = False,
    merge_text: str | None = None,
    dedupe_key: str | None = None,
) -> dict[str, Any]:
    """The values of a pending outbox row: a notice to render when it is sent (``notice``,
    ``params``, ``language``), or, without a notice, a fixed ``text``."""
    return {
        "chat_id": chat_id,
        "kind": kind,
        "notice": notice,
        "params": params,
        "language": language,
        "text": text,
        "reply_markup": reply_markup,
        "edit_of_id": edit_of_id,
        "mergeable": mergeable and (notice is not None or merge_text is not None),
        "merge_text": merge_text,
        "dedupe_key": dedupe_key,
        "status": PENDING,
        "attempts": 0,
        "not_before": now,
        "created_at": now,
    }


@dataclass(frozen=True)
class Head:
    """What the sender needs to know of a chat's unfinished row to decide what goes next."""

    id: int
    chat_id: int
    status: str
    kind: str
    mergeable: bool
    lease_until: datetime | None
    not_before: datetime
    leased_by: str | None
    """Set once a sender has taken the row (a send taken before may carry merged parts)."""


_HEAD_COLUMNS: tuple[Any, ...] = (
    OutboxMessage.id,
    OutboxMessage.chat_id,
    OutboxMessage.status,
    OutboxMessage.kind,
    OutboxMessage.mergeable,
    OutboxMessage.lease_until,
    OutboxMessage.not_before,
    OutboxMessage.leased_by,
)
"""The fields of a :class:`Head`, in its order."""


@dataclass(frozen=True)
class Shown:
    """What one row showed when its message was sent (kept on the row)."""

    row_id: int
    text: str
    reply_markup: list[Any] | None
    merge_text: str | None


def _shown_values(shown: Shown) -> dict[str, Any]:
    return {"text": shown.text, "reply_markup": shown.reply_markup, "merge_text": shown.merge_text}


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- queueing ------------------------------------------------------------------------
    async def add(self, **fields: Any) -> OutboxMessage | None:
        """Queue one message (see :func:`outbox_row`); None when a message with the same dedupe
        key was queued before."""
        (row_id,) = await self.add_many([outbox_row(**fields)])
        return None if row_id is None else await self.session.get(OutboxMessage, row_id)

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> list[int | None]:
        """Queue these rows (values of :func:`outbox_row`) with a few statements in all; the id
        of each row, None where its dedupe key was queued before (or earlier in ``rows``)."""
        taken = await self._taken([row["dedupe_key"] for row in rows if row["dedupe_key"] is not None])
        fresh: list[int] = []
        for index, row in enumerate(rows):
            key = row["dedupe_key"]
            if key is None or key not in taken:
                fresh.append(index)
                if key is not None:
                    taken.add(key)
        ids: list[int | None] = [None] * len(rows)
        if not fresh:
            return ids
        values = [rows[index] for index in fresh]
        if self.session.get_bind().dialect.name == "postgresql":
            result = await self.session.execute(
                insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True), values
            )
            written = list(result.scalars().all())
        else:
            # SQLite cannot return the ids of a multi-row insert in order; but every write
            # transaction there holds the database's write lock (BEGIN IMMEDIATE), so the new
            # rows are the ones above the largest id before the insert, in insertion order
            before = await self.session.scalar(select(func.max(OutboxMessage.id))) or 0
            await self.session.execute(insert(OutboxMessage), values)
            written = list(
                (
                    await self.session.scalars(
                        select(OutboxMessage.id).where(OutboxMessage.id > before).order_by(OutboxMessage.id)
                    )
                ).all()
            )
        if len(written) != len(values):
            raise RuntimeError(f"outbox insert wrote {len(written)} rows for {len(values)}")
        for index, row_id in zip(fresh, written, strict=True):
            ids[index] = row_id
        return ids

    async def add_task_cards(
        self, cards: Sequence[tuple[int, int, str]], now: datetime, language: str, purpose: str
    ) -> None:
        """Queue the cards of pushed tasks (task id, group chat id, dedupe key), mergeable, in
        the group's ``language``, and record which row shows which task (a task message of
        ``purpose``). A key queued before is left out, and so is its link (it has one from
        then). PostgreSQL: one statement; SQLite: the rows' ids come back and are linked by a
        second."""
        if not cards:
            return
        dialect = self.session.get_bind().dialect.name
        statement = _ADD_TASK_CARDS[dialect].bindparams(
            bindparam("now", type_=OutboxMessage.__table__.c.created_at.type)
        )
        values = {
            "rows": json.dumps([list(card) for card in cards], separators=(",", ":")),
            "now": now,
            "language": language,
        }
        if dialect == "postgresql":
            await self.session.execute(statement, {**values, "purpose": purpose})
            return
        keys = {key: row_id for row_id, key in await self.session.execute(statement, values)}
        await TaskRepository(self.session).link(
            [(task_id, chat_id, keys[key], purpose) for task_id, chat_id, key in cards if key in keys]
        )

    async def _taken(self, keys: Sequence[str]) -> set[str]:
        """Which of these dedupe keys a queued row has already."""
        taken: set[str] = set()
        for first in range(0, len(keys), 500):
            chunk = keys[first : first + 500]
            found = await self.session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))
            )
            taken.update(key for key in found if key is not None)
        return taken

    # ---- what waits ------------------------------------------------------------------------
    async def open_chats(self) -> list[tuple[int, int]]:
        """(chat, id of its oldest unfinished row) for every chat with one, oldest first."""
        walk = _OPEN_CHATS_LATERAL if self.session.get_bind().dialect.name == "postgresql" else _OPEN_CHATS
        rows = (await self.session.execute(walk)).all()
        return sorted(((int(chat), int(first)) for chat, first in rows), key=lambda row: row[1])

    async def heads(self, chat_id: int, limit: int, count_up_to: int = 0) -> tuple[list[Head], int]:
        """The chat's first ``limit`` unfinished rows, oldest first, and how many it has: counted
        up to ``count_up_to`` in the same statement when that is more than ``limit``."""
        return (await self.heads_of({chat_id: (limit, count_up_to)}))[chat_id]

    async def heads_of(self, chats: Mapping[int, tuple[int, int]]) -> dict[int, tuple[list[Head], int]]:
        """:meth:`heads` of several chats (``{chat: (limit, count_up_to)}``) with one statement:
        each chat's part is its own seek of ``ix_outbox_open`` in id order, as if read alone."""
        if not chats:
            return {}
        parts = []
        for chat_id, (limit, count_up_to) in chats.items():
            counted: Any = cast(null(), Integer)  # typed: PostgreSQL unites it with a count
            if count_up_to > limit:
                some = (
                    select(OutboxMessage.id)
                    .where(_is_open(), OutboxMessage.chat_id == chat_id)
                    .limit(count_up_to)
                    .subquery()
                )
                counted = select(func.count()).select_from(some).scalar_subquery()
            # a part of a UNION may not have its own ORDER BY and LIMIT (SQLite): a subquery has
            first = (
                select(*_HEAD_COLUMNS, counted.label("counted"))
                .where(_is_open(), OutboxMessage.chat_id == chat_id)
                .order_by(OutboxMessage.id)
                .limit(limit)
                .subquery()
            )
            parts.append(select(first))
        statement = parts[0] if len(parts) == 1 else union_all(*parts)
        heads_of: dict[int, list[Head]] = {chat_id: [] for chat_id in chats}
        counts: dict[int, int] = {}
        for row in (await self.session.execute(statement)).all():
            heads_of[row[1]].append(Head(*row[:8]))
            if row[8] is not None:
                counts[row[1]] = int(row[8])
        found: dict[int, tuple[list[Head], int]] = {}
        for chat_id, heads in heads_of.items():
            heads.sort(key=lambda head: head.id)
            limit, count_up_to = chats[chat_id]
            found[chat_id] = (heads, counts.get(chat_id, 0) if count_up_to > limit else len(heads))
        return found

    async def get(self, row_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, row_id, populate_existing=True)

    async def rows(self, ids: Sequence[int]) -> list[OutboxMessage]:
        """These rows, in the order of ``ids``."""
        if not ids:
            return []
        found = {
            row.id: row
            for row in await self.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(list(ids)))
                .execution_options(populate_existing=True)
            )
        }
        return [found[row_id] for row_id in ids if row_id in found]

    async def parts_of(self, host_id: int) -> list[OutboxMessage]:
        """The rows merged into ``host_id``'s message, in order."""
        return list(
            (
                await self.session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.merged_into_id == host_id)
                    .order_by(OutboxMessage.id)
                    .execution_options(populate_existing=True)
                )
            ).all()
        )

    async def pending_edits_of(self, target_ids: Sequence[int]) -> list[OutboxMessage]:
        """The edits waiting to change these rows' messages, oldest first."""
        ids = list(target_ids)
        edits: list[OutboxMessage] = []
        for first in range(0, len(ids), 500):
            edits += (
                await self.session.scalars(
                    select(OutboxMessage)
                    .where(_is_pending_edit(), OutboxMessage.edit_of_id.in_(ids[first : first + 500]))
                    .execution_options(populate_existing=True)
                )
            ).all()
        return sorted(edits, key=lambda edit: edit.id)

    async def backlog(self, now: datetime) -> tuple[int, int, datetime | None]:
        """Rows pending, rows sending, and when the oldest pending row that may go now was due."""
        pending: ColumnElement[str] = literal_column("'pending'")
        row = (
            await self.session.execute(
                select(
                    func.count(case((OutboxMessage.status == pending, 1))),
                    func.count(case((OutboxMessage.status == literal_column("'sending'"), 1))),
                    func.min(
                        case(
                            (
                                (OutboxMessage.status == pending) & (OutboxMessage.not_before <= now),
                                OutboxMessage.not_before,
                            )
                        )
                    ),
                ).where(_is_open())
            )
        ).one()
        return int(row[0] or 0), int(row[1] or 0), row[2]

    async def waiting_chats(self) -> list[int]:
        """The chats with a row waiting to be sent."""
        return [chat for chat, _ in await self.open_chats()]

    # ---- taking and settling rows ------------------------------------------------------------
    async def lease(self, row_id: int, now: datetime, until: datetime, instance: str) -> OutboxMessage | None:
        """Take a row for this sender, and the row as taken; None when another sender took it
        first, or holds it this moment (PostgreSQL: the row is skipped, never waited for — two
        senders walking the chats in different orders would otherwise deadlock)."""
        free = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.id == row_id,
                (OutboxMessage.status == PENDING)
                | ((OutboxMessage.status == SENDING) & (OutboxMessage.lease_until <= now)),
            )
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        return await self.session.scalar(
            update(OutboxMessage)
            .where(OutboxMessage.id == free)
            .values(
                status=SENDING,
                lease_until=until,
                leased_by=instance,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(OutboxMessage),
            execution_options={"synchronize_session": False, "populate_existing": True},
        )

    async def lease_many(
        self, row_ids: Sequence[int], now: datetime, until: datetime, instance: str, chat_ids: Collection[int]
    ) -> dict[int, OutboxMessage]:
        """Take these rows (of ``chat_ids``) for this sender with one statement; the rows taken,
        by id (one that another sender took first or holds this moment is left out, as in
        :meth:`lease`). The chats are named too so that the rows are found by chat and id in
        ``ix_outbox_open`` even when the planner's statistics still describe a small table (a
        backlog that grew since the last ANALYZE): without them it read every waiting row."""
        if not row_ids:
            return {}
        free = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.chat_id.in_(sorted(set(chat_ids))),
                OutboxMessage.id.in_(list(row_ids)),
                (OutboxMessage.status == PENDING)
                | ((OutboxMessage.status == SENDING) & (OutboxMessage.lease_until <= now)),
            )
            .with_for_update(skip_locked=True)
        )
        leased = await self.session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(free))
            .values(
                status=SENDING, lease_until=until, leased_by=instance, attempts=OutboxMessage.attempts + 1
            )
            .returning(OutboxMessage),
            execution_options={"synchronize_session": False, "populate_existing": True},
        )
        return {row.id: row for row in leased.all()}

    async def merge_many(
        self, parts_of: dict[int, list[int]], chat_ids: Collection[int]
    ) -> dict[int, list[OutboxMessage]]:
        """Waiting rows of ``chat_ids`` go out as lines of other rows' messages (``{host id:
        part ids}``), with one statement; the rows merged into each host, in order. The chats
        are named for the reason given in :meth:`lease_many`."""
        host_of = {part_id: host_id for host_id, part_ids in parts_of.items() for part_id in part_ids}
        if not host_of:
            return {}
        statement = (
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_id.in_(sorted(set(chat_ids))),
                OutboxMessage.id.in_(list(host_of)),
                OutboxMessage.status == PENDING,
            )
            .values(status=MERGED, merged_into_id=case(host_of, value=OutboxMessage.id))
        )
        merged = await self.session.scalars(
            statement.returning(OutboxMessage),
            execution_options={"synchronize_session": False, "populate_existing": True},
        )
        found: dict[int, list[OutboxMessage]] = {}
        for row in sorted(merged.all(), key=lambda row: row.id):
            found.setdefault(host_of[row.id], []).append(row)
        return found

    async def unmerge(self, host_id: int, part_ids: Sequence[int]) -> None:
        """Parts that no longer fit in ``host_id``'s message wait for their own turn again."""
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(list(part_ids)),
                OutboxMessage.merged_into_id == host_id,
                OutboxMessage.message_id.is_(None),
            )
            .values(status=PENDING, merged_into_id=None)
            .execution_options(synchronize_session=False)
        )

    async def settle(self, ids: Sequence[int], status: str, now: datetime, error: str | None = None) -> None:
        """These rows are finished without a call of their own (applied, dropped, failed)."""
        if not ids:
            return
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)))
            .values(
                status=status, sent_at=now, lease_until=None, error=None if error is None else error[:500]
            )
            .execution_options(synchronize_session=False)
        )

    @staticmethod
    def records_in_one_statement(
        row_id: int, message_id: int | None, shown: Sequence[Shown], part_ids: Sequence[int]
    ) -> bool:
        """Whether :meth:`record_sent` of these writes one statement (atomic by itself): no
        merged part gets the message id and no other row keeps what it showed."""
        return not (message_id is not None and part_ids) and all(item.row_id == row_id for item in shown)

    async def record_sent(
        self,
        row_id: int,
        now: datetime,
        message_id: int | None,
        shown: Sequence[Shown],
        part_ids: Sequence[int],
    ) -> None:
        """The call for ``row_id`` succeeded: the row is sent; a send's message id goes on the
        row and on its merged parts (``part_ids``), and each row keeps what it showed."""
        showing = {item.row_id: item for item in shown}
        values: dict[str, Any] = {"status": SENT, "sent_at": now, "lease_until": None, "error": None}
        if message_id is not None:
            values["message_id"] = message_id
        if row_id in showing:
            values |= _shown_values(showing.pop(row_id))
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        others: list[dict[str, Any]] = []
        for part_id in part_ids if message_id is not None else ():
            part = {"id": part_id, "message_id": message_id, "sent_at": now}
            if part_id in showing:
                part |= _shown_values(showing.pop(part_id))
            others.append(part)
        others += [{"id": item.row_id, **_shown_values(item)} for item in showing.values()]
        if others:  # by primary key: one UPDATE, executed for every row
            await self.session.execute(update(OutboxMessage), others)

    async def put_back(self, row_id: int, error: str | None = None, untried: bool = False) -> None:
        """A claimed row waits again: for a retry (``error``), or untried (its attempt not counted)."""
        values: dict[str, Any] = {"status": PENDING, "lease_until": None}
        if error is not None:
            values["error"] = error[:500]
        if untried:
            values["attempts"] = OutboxMessage.attempts - 1
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def fail(self, ids: Sequence[int], error: str) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)))
            .values(status=FAILED, lease_until=None, error=error[:500])
            .execution_options(synchronize_session=False)
        )

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its waiting rows follow it."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == old_chat_id, _is_open())
            .values(chat_id=new_chat_id)
            .execution_options(synchronize_session=False)
        )

    async def release(self, instance: str) -> int:
        """Rows ``instance`` had in flight go back to the queue; how many."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == SENDING, OutboxMessage.leased_by == instance)
            .values(status=PENDING, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
