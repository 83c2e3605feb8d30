"""The outbox, sender side: what may be sent now, bursts merged, rendered, and what became of each row.

Rows are written by the transaction that causes them (bot/delivery/notices.py). The sender
(bot/delivery/sender.py) asks :meth:`OutboxService.claim` for deliveries, makes the Bot API
calls outside any transaction, and reports each result back here. The SQL is in
storage/repositories/outbox.py.

Rules kept here:

* **Order per chat**: only the oldest unfinished row of a chat may go; a chat with a row in
  flight (``sending`` under a live lease) or waiting for a retry sends nothing else.
* **Telegram's limits**: a chat's row is claimed only when the :class:`Pacer`
  (bot/delivery/pacing.py) lets its chat send; a 429 pauses only its chat.
* **Rendered at send time**: a claim leases its rows in one short write transaction, then
  renders them in a read-only unit (on SQLite it waits for no lock) from the state of that
  moment, with each row's renderer and reader (bot/delivery/notices.py). What the batch's
  rows share (their tasks and meetings, the meetings' readiness, the people named) is read
  once for the batch, by that unit: the next claim reads it all anew.
* **Merging**: when a group has more rows waiting than its remaining budget of the minute,
  consecutive mergeable rows are claimed together and go out as one message
  (bot/delivery/merging.py); the parts point at the first one (``merged_into_id``) and an
  edit of any part re-renders the whole message.
* **Edits**: an edit asks for a message to be shown as it is now. One of a message not sent
  yet needs no call (the send will show it as it is then); when a send or an edit goes out,
  every edit waiting for the same message is settled with it (``applied``): one call shows
  every change made before it.
* **Leases**: a claimed row is ``sending`` until ``lease_until``; a sender that died leaves it
  to be claimed again when the lease ends (or at once by its own restart, see
  :meth:`OutboxService.release_own`). Delivery is therefore at-least-once in the instant
  between Telegram's answer and the commit that records it; everywhere else exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.merging import MAX_MERGED_PARTS, Claim, Delivery, compose
from bot.delivery.notices import Rendered
from bot.delivery.pacing import Pacer, backoff_seconds
from bot.services.clock import Clock
from bot.services.people import remember_names
from bot.services.readiness import preload_readiness
from storage.database import Database
from storage.models import Booking, OutboxMessage, Task
from storage.repositories.outbox import (
    APPLIED,
    DROPPED,
    FAILED,
    MERGED,
    PENDING,
    SENDING,
    SENT,
    Head,
    OutboxRepository,
)
from storage.repositories.tasks import TaskRepository

__all__ = ["APPLIED", "DROPPED", "FAILED", "MERGED", "PENDING", "SENDING", "SENT"]

log = logging.getLogger(__name__)

RowRenderer = Callable[[AsyncSession, OutboxMessage], Awaitable[Rendered | None]]

MAX_ATTEMPTS = 12
HEAD_WINDOW = MAX_MERGED_PARTS + 10
"""Rows of a group read per claim: enough for the largest merge after a few settled edits."""
PRIVATE_HEAD_WINDOW = 8
"""Rows of a private chat read per claim: its next send, after the edits that it settles."""


@dataclass(frozen=True)
class _SendPlan:
    """A chat whose next call is a send of ``heads[0]``: leased with the pass's other sends."""

    chat_id: int
    heads: list[Head]
    waiting: int
    """The chat's unfinished rows from ``heads[0]`` on (counted up to what can change a merge)."""


class OutboxService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        pacer: Pacer,
        render: RowRenderer,
        instance: str = "huiwu",
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.db = db
        self.clock = clock
        self.pacer = pacer
        self.render = render
        self.instance = instance
        self.lease = lease
        self.max_attempts = max_attempts
        self._seen_waiting: list[int] | None = None
        """The chats the last claim found waiting, for :meth:`waiting_chats` right after it."""

    # ---- claiming ----------------------------------------------------------------------
    async def claim(self) -> list[Delivery]:
        """At most one delivery per chat that may be sent right now, leased to this sender and
        rendered from the current state."""
        while self.pacer.global_ready():
            claims = await self._lease_next()
            if not claims:
                break
            deliveries = await self._render(claims)
            if deliveries:
                return deliveries
            # every claimed row had nothing left to show (now settled): look again
        return []

    async def _lease_next(self) -> list[Claim]:
        """Decide each waiting chat's next call, then take the rows: the sends of the whole
        pass with one statement, their merged parts with one more, the edits they overtake
        with one more (a chat's edit at its head is taken on its own)."""
        now = self.clock.now()
        claims: list[Claim] = []
        sends: list[_SendPlan] = []
        async with self.db.transaction() as session:
            repo = OutboxRepository(session)
            waiting = await repo.open_chats()
            self._seen_waiting = [chat_id for chat_id, _ in waiting]
            # the chats are taken in turn as before, but their rows are read together: as
            # many chats at a time as calls are left (one a chat at most), one statement
            # (a chat paused or within its interval is passed over: not even its rows are read)
            ready = (c for c, _ in waiting if self.pacer.chat_ready(c, counts_for_group=False))
            while (room := self.pacer.global_remaining() - len(claims) - len(sends)) > 0:
                turn = list(islice(ready, room))
                if not turn:
                    break
                heads_of = await repo.heads_of({chat_id: self._window(chat_id) for chat_id in turn})
                for chat_id in turn:
                    if len(claims) + len(sends) >= self.pacer.global_remaining():
                        break
                    planned = await self._plan_chat(repo, chat_id, now, *heads_of[chat_id])
                    if isinstance(planned, _SendPlan):
                        sends.append(planned)
                    elif planned is not None:
                        claims.append(planned)
            claims += await self._claim_sends(repo, sends, now)
            await self._settle_waiting_edits(repo, claims, now)
        return claims

    def _window(self, chat_id: int) -> tuple[int, int]:
        """How many of a chat's first unfinished rows are read, and how far they are counted: a
        group's burst may have to be merged; a private chat's rows never are, and only those
        up to its next send matter (:meth:`_plan_chat` reads on past settled edits)."""
        if chat_id < 0:
            return HEAD_WINDOW, self.pacer.limits.group_per_minute * MAX_MERGED_PARTS + 1
        return PRIVATE_HEAD_WINDOW, 0

    async def _plan_chat(
        self, repo: OutboxRepository, chat_id: int, now: datetime, heads: list[Head], waiting: int
    ) -> Claim | _SendPlan | None:
        """The chat's next call (from its first rows and how many it has): an edit (claimed
        here), a send (taken with the pass's other sends), or nothing now."""
        for position, head in enumerate(heads):
            if head.status == SENDING and head.lease_until is not None and head.lease_until > now:
                return None  # in flight: the chat's next row waits for its answer
            if head.not_before > now:
                return None
            if head.kind == "edit":
                outcome = await self._resolve_edit(repo, head, now)
                if outcome == "skip":
                    continue
                return outcome
            if not self.pacer.chat_ready(chat_id):
                return None
            return _SendPlan(chat_id, heads[position:], waiting - position)
        if len(heads) == PRIVATE_HEAD_WINDOW and chat_id > 0:
            # every row read was an edit, now settled (no longer unfinished): read on
            return await self._plan_chat(repo, chat_id, now, *await repo.heads(chat_id, HEAD_WINDOW))
        return None

    async def _claim_sends(
        self, repo: OutboxRepository, sends: list[_SendPlan], now: datetime
    ) -> list[Claim]:
        if not sends:
            return []
        leased = await repo.lease_many(
            [plan.heads[0].id for plan in sends],
            now,
            now + self.lease,
            self.instance,
            chat_ids={plan.chat_id for plan in sends},
        )
        merges: dict[int, list[int]] = {}
        rows_of: dict[int, list[OutboxMessage]] = {}
        for plan in sends:
            host = leased.get(plan.heads[0].id)
            if host is None:
                continue  # another sender has it
            # parts are merged into a row only when it is taken: a row never taken before has none
            rows = await self._message_rows(repo, host) if plan.heads[0].leased_by is not None else [host]
            rows_of[host.id] = rows
            if len(rows) == 1 and host.mergeable and plan.chat_id < 0:
                part_ids = self._burst(plan)
                if part_ids:
                    merges[host.id] = part_ids
        merged = await repo.merge_many(merges, chat_ids={rows_of[host_id][0].chat_id for host_id in merges})
        for host_id, parts in merged.items():
            rows_of[host_id] += parts
        claims: list[Claim] = []
        for plan in sends:
            host = leased.get(plan.heads[0].id)
            if host is None:
                continue
            claims.append(
                Claim(
                    row_id=host.id,
                    chat_id=host.chat_id,
                    method="send",
                    rows=rows_of[host.id],
                    message_id=None,
                    attempts=host.attempts,
                    slot=self.pacer.reserve(plan.chat_id),
                )
            )
        return claims

    def _burst(self, plan: _SendPlan) -> list[int]:
        """The rows to merge into the send of ``plan.heads[0]``: none while the group's budget
        can take its rows one by one; else as many as one message holds.

        A burst is as long as its messages are many, one a second in a group: spreading the
        rows over the minute's budget would send twice the messages the rows need. Rows that
        come while the group waits for its next second join its next message; those that no
        longer fit once rendered wait for it too (:func:`compose`)."""
        # keep a fifth of the group's minute for what comes next (reminders, escalations)
        reserve = self.pacer.limits.group_per_minute // 5
        slots = max(1, self.pacer.group_remaining(plan.chat_id) - reserve)
        if plan.waiting <= slots:
            return []
        wanted = MAX_MERGED_PARTS
        part_ids: list[int] = []
        for head in plan.heads[1:]:
            if (
                1 + len(part_ids) >= wanted
                or head.kind != "send"
                or not head.mergeable
                or head.status != PENDING
            ):
                break
            part_ids.append(head.id)
        return part_ids

    async def _message_rows(self, repo: OutboxRepository, host: OutboxMessage) -> list[OutboxMessage]:
        """The rows one message shows: ``host`` and the parts merged into it."""
        return [host, *await repo.parts_of(host.id)] if host.mergeable else [host]

    async def _settle_waiting_edits(self, repo: OutboxRepository, claims: list[Claim], now: datetime) -> None:
        """Edits waiting for the messages being claimed are shown by those calls: settled, all
        of the pass's together (one lookup by ``ix_outbox_pending_edits``, one update)."""
        by_id = {row.id: row for claim in claims for row in claim.rows}
        claimed = {claim.row_id for claim in claims if claim.method == "edit"}
        edits = [edit for edit in await repo.pending_edits_of(list(by_id)) if edit.id not in claimed]
        for edit in edits:
            assert edit.edit_of_id is not None
            _copy_fixed_content(edit, by_id[edit.edit_of_id])
        await repo.settle([edit.id for edit in edits], APPLIED, now)

    async def _resolve_edit(
        self, repo: OutboxRepository, head: Head, now: datetime
    ) -> Claim | Literal["skip"] | None:
        """An edit at the head of its chat: settled without a call ("skip"), claimed, or waiting (None)."""
        edit = await repo.get(head.id)
        assert edit is not None
        target = await repo.get(edit.edit_of_id) if edit.edit_of_id else None
        host = target
        if target is not None and target.merged_into_id is not None:
            host = await repo.get(target.merged_into_id)
        if target is None or host is None or FAILED in (host.status, target.status):
            await repo.fail([edit.id], "the message to edit was never sent")
            return "skip"
        _copy_fixed_content(edit, target)
        if host.message_id is None:
            if host.status in (PENDING, SENDING):
                # not sent yet: the send shows the message as it is then, no call needed
                await repo.settle([edit.id], APPLIED, now)
            elif host.status == DROPPED:
                await repo.settle([edit.id], DROPPED, now)
            else:
                await repo.fail([edit.id], f"the message to edit is {host.status}")
            return "skip"
        if not self.pacer.chat_ready(head.chat_id, counts_for_group=False):
            return None
        leased = await repo.lease(edit.id, now, now + self.lease, self.instance)
        if leased is None:
            return None
        rows = await self._message_rows(repo, host)
        return Claim(
            row_id=edit.id,
            chat_id=edit.chat_id,
            method="edit",
            rows=rows,
            message_id=host.message_id,
            attempts=leased.attempts,
            slot=self.pacer.reserve(head.chat_id, counts_for_group=False),
        )

    # ---- rendering ---------------------------------------------------------------------
    async def _render(self, claims: list[Claim]) -> list[Delivery]:
        deliveries: list[Delivery] = []
        dropped: list[tuple[Claim, list[int]]] = []
        unmerged: list[tuple[int, list[int]]] = []
        broken: list[tuple[Delivery, str]] = []
        async with self.db.read() as session:
            # the renderers look up row by row what many rows share (a card's task and
            # meeting, the meeting's readiness, the people named): read here for the whole
            # batch and held by this read-only unit, the state of this moment
            held = await self._preload(session, [row for claim in claims for row in claim.rows])
            for claim in claims:
                try:
                    rendered = [await self.render(session, row) for row in claim.rows]
                except Exception as error:  # a renderer's bug must not stop the other chats
                    log.exception("rendering outbox row %s failed", claim.row_id)
                    broken.append((claim.delivery(), repr(error)))
                    continue
                composed, cut = compose(claim, rendered)
                if cut:
                    unmerged.append((claim.row_id, cut))
                if composed is None:
                    dropped.append((claim, [row.id for row in claim.rows if row.id not in cut]))
                else:
                    deliveries.append(composed)
            del held
        if dropped or unmerged:
            now = self.clock.now()
            async with self.db.transaction() as session:
                repo = OutboxRepository(session)
                for host_id, part_ids in unmerged:
                    await repo.unmerge(host_id, part_ids)
                for claim, ids in dropped:
                    # a send: its row and parts; an edit: only itself (the message stays)
                    await repo.settle(ids if claim.method == "send" else [claim.row_id], DROPPED, now)
            for claim, _ in dropped:
                self.pacer.finish(claim.slot)
        for unrendered, reason in broken:
            await self.mark_retry(unrendered, reason)
        return deliveries

    async def _preload(self, session: AsyncSession, rows: list[OutboxMessage]) -> list[Task | Booking]:
        """What the batch's renderers will read, loaded with a few queries: the tasks and
        meetings the rows are about (answered from the identity map while the list is held)
        and those meetings' readiness; the names read are remembered for the unit."""
        task_ids: set[int] = set()
        booking_ids: set[int] = set()
        for row in rows:
            if isinstance(row.params, dict):
                if isinstance(row.params.get("task_id"), int):
                    task_ids.add(row.params["task_id"])
                if isinstance(row.params.get("booking_id"), int):
                    booking_ids.add(row.params["booking_id"])
        held = await TaskRepository(session).with_bookings(task_ids) if task_ids else []
        booking_ids.update(item.id for item in held if isinstance(item, Booking))
        if booking_ids:
            await preload_readiness(session, booking_ids)
        remember_names(session)
        return held

    # ---- results -----------------------------------------------------------------------
    def _finish(self, delivery: Delivery) -> None:
        if delivery.slot is not None:
            self.pacer.finish(delivery.slot)

    async def mark_sent(self, delivery: Delivery, message_id: int | None) -> None:
        self._finish(delivery)
        now = self.clock.now()
        message_id = message_id if delivery.method == "send" else None
        one = OutboxRepository.records_in_one_statement(
            delivery.row_id, message_id, delivery.shown, delivery.part_ids
        )
        async with self._recording(one) as session:
            await OutboxRepository(session).record_sent(
                delivery.row_id, now, message_id, delivery.shown, delivery.part_ids
            )

    @asynccontextmanager
    async def _recording(self, one_statement: bool) -> AsyncIterator[AsyncSession]:
        """The unit that records a call's result, right after the call as ever. One statement
        on PostgreSQL runs on its own (autocommit): atomic by itself, without the round trips
        of a BEGIN and a COMMIT, which one record a message made the largest share of the
        sender's database time. SQLite takes its write lock in a transaction (BEGIN IMMEDIATE)."""
        if not one_statement or self.db.is_sqlite:
            async with self.db.transaction() as session:
                yield session
            return
        async with self.db.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            async with AsyncSession(bind=connection) as session:
                yield session
                await session.commit()  # nothing is left to commit: ends the session's unit

    async def mark_retry(
        self, delivery: Delivery, error: str, wait_seconds: float | None = None, may_give_up: bool = True
    ) -> bool:
        """Put the row back for a later try (its chat waits; by default the back-off of its
        attempts); False when it has had too many tries.

        A 429 passes ``may_give_up=False``: being asked to wait is no reason to drop a message.
        """
        self._finish(delivery)
        if may_give_up and delivery.attempts >= self.max_attempts:
            await self.mark_failed(delivery, f"gave up after {delivery.attempts} attempts: {error}")
            return False
        wait = backoff_seconds(delivery.attempts) if wait_seconds is None else wait_seconds
        self.pacer.pause(delivery.chat_id, wait)
        async with self.db.transaction() as session:
            await OutboxRepository(session).put_back(delivery.row_id, error=error)
        return True

    async def postpone(self, delivery: Delivery, wait_seconds: float) -> None:
        """Put a claimed row back untried: the shared budget says its chat must wait."""
        self._finish(delivery)
        self.pacer.pause(delivery.chat_id, wait_seconds)
        async with self.db.transaction() as session:
            await OutboxRepository(session).put_back(delivery.row_id, untried=True)

    async def mark_failed(self, delivery: Delivery, error: str) -> None:
        self._finish(delivery)
        async with self.db.transaction() as session:
            await OutboxRepository(session).fail([delivery.row_id, *delivery.part_ids], error)

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its waiting rows follow it."""
        async with self.db.transaction() as session:
            await OutboxRepository(session).move_chat(old_chat_id, new_chat_id)

    async def release_own(self) -> int:
        """At start-up: rows this instance had in flight when it stopped go back to the queue."""
        async with self.db.transaction() as session:
            return await OutboxRepository(session).release(self.instance)

    async def waiting_chats(self) -> list[int]:
        """The chats with rows waiting: those the claim just walked, if it did (the sender asks
        right after its pass, to know how long to sleep), else read now."""
        seen, self._seen_waiting = self._seen_waiting, None
        if seen is not None:
            return seen
        async with self.db.read() as session:
            return await OutboxRepository(session).waiting_chats()


def _copy_fixed_content(edit: OutboxMessage, target: OutboxMessage) -> None:
    """A row queued with a fixed text (before rows recorded notices) is changed by its edits'
    text; a notice is rendered anew instead."""
    if edit.notice is None and edit.text is not None and target.notice is None:
        target.text = edit.text
        target.reply_markup = edit.reply_markup
        if edit.merge_text is not None:
            target.merge_text = edit.merge_text
