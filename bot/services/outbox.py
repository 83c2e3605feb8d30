"""The outbox, sender side: what may be sent now, bursts merged, and what became of each row.

Rows are written by the transaction that causes them (see bot/notices.py). The sender
(bot/sender.py) asks :meth:`OutboxService.claim` for deliveries, makes the Bot API calls
outside any transaction, and reports each result back here.

Rules kept here:

* **Order per chat**: only the oldest unfinished row of a chat may go; a chat with a row in
  flight (``sending`` under a live lease) or waiting for a retry sends nothing else.
* **Telegram's limits** (:class:`Pacer`, in-process, by ``time.monotonic``): one message per
  ``per_chat_interval`` in a chat, ``group_per_minute`` messages per group in any 60 s,
  ``global_per_second`` calls in any second. A slot is stamped when its call *returns*, so the
  next call can never fall inside Telegram's window of the previous one. A 429 pauses only
  its chat, for ``retry_after``.
* **Merging**: when a group has more rows waiting than its remaining budget of the minute,
  consecutive mergeable rows go out as one message, one numbered line and one button row per
  row; the parts point at the first one (``merged_into_id``) and an edit of any part
  re-renders the whole message.
* **Edits** of a message not sent yet change the waiting row instead (no call at all).
* **Leases**: a claimed row is ``sending`` until ``lease_until``; a sender that died leaves it
  to be claimed again when the lease ends (or at once by its own restart, see
  :meth:`OutboxService.release_own`). Delivery is therefore at-least-once in the instant
  between Telegram's answer and the commit that records it; everywhere else exactly once.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.clock import Clock
from storage.database import Database
from storage.models import OutboxMessage

Keyboard = list[list[dict[str, Any]]]

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
MERGED = "merged"
APPLIED = "applied"

MAX_TEXT = 4096
MAX_MERGED_PARTS = 40
"""Two buttons per part stay well under the ~100 buttons Telegram shows in one keyboard."""
EDIT_ROOM_PER_PART = 64
"""Characters kept free per part of a merged message, so later edits of a line still fit."""
MAX_ATTEMPTS = 12
CHAT_WINDOW = 1000
"""Rows of a chat looked at per pass: more than one group's minute can take even merged
(``group_per_minute`` × :data:`MAX_MERGED_PARTS`), so merging decides as if it saw them all."""
GROUP_WINDOW = 60.0
GLOBAL_WINDOW = 1.0


# ---------------------------------------------------------------------------- pacing


@dataclass
class Slot:
    """One call counted against the limits; ``at`` moves to the moment its answer came."""

    chat_id: int
    at: float
    counts_for_group: bool


@dataclass(frozen=True)
class Limits:
    per_chat_interval: float = 1.0
    group_per_minute: int = 20
    global_per_second: int = 30


class Pacer:
    """Telegram's sending limits, kept in memory by one sender process."""

    def __init__(self, limits: Limits, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.monotonic = monotonic
        self._last: dict[int, Slot] = {}
        self._groups: dict[int, deque[Slot]] = defaultdict(deque)
        self._global: deque[Slot] = deque()
        self._paused: dict[int, float] = {}

    def now(self) -> float:
        return self.monotonic()

    def _prune(self, stamps: deque[Slot], now: float, window: float) -> None:
        while stamps and stamps[0].at <= now - window:
            stamps.popleft()

    def paused_until(self, chat_id: int) -> float:
        return self._paused.get(chat_id, 0.0)

    def chat_ready_at(self, chat_id: int) -> float:
        """The earliest moment this chat may get its next call (ignoring the global limit)."""
        moments = [self.paused_until(chat_id)]
        last = self._last.get(chat_id)
        if last is not None:
            moments.append(last.at + self.limits.per_chat_interval)
        if chat_id < 0:
            window = self._groups[chat_id]
            self._prune(window, self.now(), GROUP_WINDOW)
            if len(window) >= self.limits.group_per_minute:
                moments.append(window[len(window) - self.limits.group_per_minute].at + GROUP_WINDOW)
        return max(moments)

    def chat_ready(self, chat_id: int, counts_for_group: bool = True) -> bool:
        now = self.now()
        if self.paused_until(chat_id) > now:
            return False
        last = self._last.get(chat_id)
        if last is not None and last.at + self.limits.per_chat_interval > now:
            return False
        return not (counts_for_group and chat_id < 0 and self.group_remaining(chat_id) <= 0)

    def global_ready(self) -> bool:
        self._prune(self._global, self.now(), GLOBAL_WINDOW)
        return len(self._global) < self.limits.global_per_second

    def group_remaining(self, chat_id: int) -> int:
        window = self._groups[chat_id]
        self._prune(window, self.now(), GROUP_WINDOW)
        return max(0, self.limits.group_per_minute - len(window))

    def reserve(self, chat_id: int, counts_for_group: bool = True) -> Slot:
        slot = Slot(chat_id, self.now(), counts_for_group and chat_id < 0)
        self._last[chat_id] = slot
        if slot.counts_for_group:
            self._groups[chat_id].append(slot)
        self._global.append(slot)
        return slot

    def finish(self, slot: Slot) -> None:
        slot.at = max(slot.at, self.now())

    def pause(self, chat_id: int, seconds: float) -> None:
        self._paused[chat_id] = max(self.paused_until(chat_id), self.now() + seconds)

    def next_ready_in(self, chat_ids: Sequence[int]) -> float | None:
        """Seconds until one of these chats may send again (None: none is waiting)."""
        if not chat_ids:
            return None
        now = self.now()
        return max(0.0, min(self.chat_ready_at(chat) for chat in chat_ids) - now)


def backoff_seconds(attempts: int) -> float:
    """1, 2, 4 … seconds, at most a minute, after a server error or a timeout."""
    return float(min(60, 2 ** max(0, attempts - 1)))


# ---------------------------------------------------------------------------- merged messages


def merged_text(parts: Sequence[OutboxMessage]) -> str:
    return "\n\n".join(f"<b>{index}.</b> {part.merge_text or ''}" for index, part in enumerate(parts, 1))


def merged_keyboard(parts: Sequence[OutboxMessage]) -> Keyboard | None:
    rows: Keyboard = []
    for index, part in enumerate(parts, 1):
        buttons = [button for row in part.reply_markup or [] for button in row]
        if buttons:
            rows.append([dict(button, text=f"{index} · {button['text']}") for button in buttons])
    return rows or None


def merged_fits(parts: Sequence[OutboxMessage]) -> bool:
    room = MAX_TEXT - EDIT_ROOM_PER_PART * len(parts)
    return len(parts) <= MAX_MERGED_PARTS and len(merged_text(parts)) <= room


# ---------------------------------------------------------------------------- the service


@dataclass
class Delivery:
    """One Bot API call the sender makes for one claimed row."""

    row_id: int
    chat_id: int
    method: Literal["send", "edit"]
    text: str
    keyboard: Keyboard | None
    message_id: int | None
    attempts: int
    part_ids: tuple[int, ...] = ()
    slot: Slot | None = None


@dataclass(frozen=True)
class _Head:
    id: int
    chat_id: int
    status: str
    kind: str
    mergeable: bool
    lease_until: datetime | None
    not_before: datetime


class OutboxService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        pacer: Pacer,
        instance: str = "huiwu",
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.db = db
        self.clock = clock
        self.pacer = pacer
        self.instance = instance
        self.lease = lease
        self.max_attempts = max_attempts

    # ---- claiming ----------------------------------------------------------------------
    async def claim(self) -> list[Delivery]:
        """At most one delivery per chat that may be sent right now, leased to this sender."""
        now = self.clock.now()
        deliveries: list[Delivery] = []
        async with self.db.transaction() as session:
            heads = await self._open_rows(session)
            by_chat: dict[int, list[_Head]] = defaultdict(list)
            for row in heads:
                by_chat[row.chat_id].append(row)
            for chat_id in sorted(by_chat, key=lambda chat: by_chat[chat][0].id):
                if not self.pacer.global_ready():
                    break
                delivery = await self._claim_chat(session, by_chat[chat_id], now)
                if delivery is not None:
                    deliveries.append(delivery)
        return deliveries

    async def _open_rows(self, session: AsyncSession) -> list[_Head]:
        """The first :data:`CHAT_WINDOW` unfinished rows of each chat, oldest first.

        Counted in the database: after a long outage the outbox may hold 100,000 rows, and
        loading them all on every pass held the write lock for a second.
        """
        position = (
            func.row_number()
            .over(partition_by=OutboxMessage.chat_id, order_by=OutboxMessage.id)
            .label("position")
        )
        ranked = (
            select(
                OutboxMessage.id,
                OutboxMessage.chat_id,
                OutboxMessage.status,
                OutboxMessage.kind,
                OutboxMessage.mergeable,
                OutboxMessage.lease_until,
                OutboxMessage.not_before,
                position,
            )
            .where(OutboxMessage.status.in_((PENDING, SENDING)))
            .subquery()
        )
        rows = await session.execute(
            select(
                ranked.c.id,
                ranked.c.chat_id,
                ranked.c.status,
                ranked.c.kind,
                ranked.c.mergeable,
                ranked.c.lease_until,
                ranked.c.not_before,
            )
            .where(ranked.c.position <= CHAT_WINDOW)
            .order_by(ranked.c.id)
        )
        return [_Head(*row) for row in rows.all()]

    async def _claim_chat(self, session: AsyncSession, rows: list[_Head], now: datetime) -> Delivery | None:
        position = 0
        while position < len(rows):
            head = rows[position]
            if head.status == SENDING and head.lease_until is not None and head.lease_until > now:
                return None  # in flight: the chat's next row waits for its answer
            if head.not_before > now:
                return None
            if head.kind == "edit":
                outcome = await self._resolve_edit(session, head, now)
                if outcome == "skip":
                    position += 1
                    continue
                if outcome is None:
                    return None
                return outcome
            if not self.pacer.chat_ready(head.chat_id):
                return None
            return await self._claim_send(session, rows[position:], now)
        return None

    async def _lease(self, session: AsyncSession, row_id: int, now: datetime) -> bool:
        """Take a row for this sender; False when another sender took it first."""
        result = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                (OutboxMessage.status == PENDING)
                | ((OutboxMessage.status == SENDING) & (OutboxMessage.lease_until <= now)),
            )
            .values(
                status=SENDING,
                lease_until=now + self.lease,
                leased_by=self.instance,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def _parts_of(self, session: AsyncSession, host: OutboxMessage) -> list[OutboxMessage]:
        if not host.mergeable:
            return [host]
        children = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.merged_into_id == host.id)
                .order_by(OutboxMessage.id)
            )
        ).all()
        return [host, *children]

    async def _claim_send(self, session: AsyncSession, rows: list[_Head], now: datetime) -> Delivery | None:
        head = rows[0]
        if not await self._lease(session, head.id, now):
            return None
        host = await session.get(OutboxMessage, head.id, populate_existing=True)
        assert host is not None
        parts = await self._parts_of(session, host)
        if len(parts) == 1 and host.mergeable and head.chat_id < 0:
            parts = await self._merge_burst(session, host, rows, now)
        await self._apply_waiting_edits(session, parts, now)
        if len(parts) > 1:
            text, keyboard = merged_text(parts), merged_keyboard(parts)
        else:
            text, keyboard = host.text, host.reply_markup
        slot = self.pacer.reserve(head.chat_id)
        return Delivery(
            row_id=host.id,
            chat_id=host.chat_id,
            method="send",
            text=text,
            keyboard=keyboard,
            message_id=None,
            attempts=host.attempts,
            part_ids=tuple(part.id for part in parts[1:]),
            slot=slot,
        )

    async def _merge_burst(
        self, session: AsyncSession, host: OutboxMessage, rows: list[_Head], now: datetime
    ) -> list[OutboxMessage]:
        """Merge the rows after ``host`` into it when the group's budget cannot take them one by one."""
        waiting = len(rows)
        # keep a fifth of the group's minute for what comes next (reminders, escalations)
        reserve = self.pacer.limits.group_per_minute // 5
        slots = max(1, self.pacer.group_remaining(host.chat_id) - reserve)
        if waiting <= slots:
            return [host]
        wanted = math.ceil(waiting / slots)
        parts = [host]
        for head in rows[1:]:
            if len(parts) >= wanted or head.kind != "send" or not head.mergeable or head.status != PENDING:
                break
            row = await session.get(OutboxMessage, head.id, populate_existing=True)
            if row is None or row.status != PENDING or row.merge_text is None:
                break
            if not merged_fits([*parts, row]):
                break
            parts.append(row)
        if len(parts) > 1:
            ids = [part.id for part in parts[1:]]
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == PENDING)
                .values(status=MERGED, merged_into_id=host.id)
                .execution_options(synchronize_session=False)
            )
            for part in parts[1:]:
                part.status, part.merged_into_id = MERGED, host.id
        return parts

    async def _apply_waiting_edits(
        self, session: AsyncSession, parts: list[OutboxMessage], now: datetime
    ) -> None:
        """Edits queued for a message that is only now going out: sent as part of it, no call."""
        by_id = {part.id: part for part in parts}
        edits = (
            await session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.kind == "edit",
                    OutboxMessage.status == PENDING,
                    OutboxMessage.edit_of_id.in_(list(by_id)),
                )
                .order_by(OutboxMessage.id)
            )
        ).all()
        for edit in edits:
            assert edit.edit_of_id is not None
            self._copy_content(edit, by_id[edit.edit_of_id])
            edit.status, edit.sent_at = APPLIED, now
        if edits:
            await session.flush()

    async def _resolve_edit(
        self, session: AsyncSession, head: _Head, now: datetime
    ) -> Delivery | Literal["skip"] | None:
        """An edit at the head of its chat: applied in place ("skip"), sent, or waiting (None)."""
        edit = await session.get(OutboxMessage, head.id, populate_existing=True)
        assert edit is not None
        target = await session.get(OutboxMessage, edit.edit_of_id) if edit.edit_of_id else None
        host = target
        if target is not None and target.merged_into_id is not None:
            host = await session.get(OutboxMessage, target.merged_into_id)
        if target is None or host is None or host.status == FAILED or target.status == FAILED:
            edit.status, edit.error, edit.lease_until = FAILED, "the message to edit was never sent", None
            return "skip"
        self._copy_content(edit, target)
        if host.message_id is None:
            if host.status in (PENDING, SENDING):
                # not sent yet: the waiting row now carries the new content, no call needed
                edit.status, edit.sent_at = APPLIED, now
                return "skip"
            edit.status, edit.error = FAILED, f"the message to edit is {host.status}"
            return "skip"
        if not self.pacer.chat_ready(head.chat_id, counts_for_group=False):
            return None
        if not await self._lease(session, edit.id, now):
            return None
        parts = await self._parts_of(session, host)
        if len(parts) > 1:
            text, keyboard = merged_text(parts), merged_keyboard(parts)
        else:
            text, keyboard = target.text, target.reply_markup
        slot = self.pacer.reserve(head.chat_id, counts_for_group=False)
        return Delivery(
            row_id=edit.id,
            chat_id=edit.chat_id,
            method="edit",
            text=text,
            keyboard=keyboard,
            message_id=host.message_id,
            attempts=edit.attempts + 1,
            slot=slot,
        )

    @staticmethod
    def _copy_content(edit: OutboxMessage, target: OutboxMessage) -> None:
        target.text = edit.text
        target.reply_markup = edit.reply_markup
        if edit.merge_text is not None:
            target.merge_text = edit.merge_text

    # ---- results -----------------------------------------------------------------------
    def _finish(self, delivery: Delivery) -> None:
        if delivery.slot is not None:
            self.pacer.finish(delivery.slot)

    async def mark_sent(self, delivery: Delivery, message_id: int | None) -> None:
        self._finish(delivery)
        now = self.clock.now()
        async with self.db.transaction() as session:
            values: dict[str, Any] = {"status": SENT, "sent_at": now, "lease_until": None, "error": None}
            if delivery.method == "send":
                values["message_id"] = message_id
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == delivery.row_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if delivery.part_ids:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(delivery.part_ids))
                    .values(message_id=message_id, sent_at=now)
                    .execution_options(synchronize_session=False)
                )

    async def mark_retry(
        self, delivery: Delivery, error: str, wait_seconds: float, may_give_up: bool = True
    ) -> bool:
        """Put the row back for a later try (its chat waits); False when it has had too many tries.

        A 429 passes ``may_give_up=False``: being asked to wait is no reason to drop a message.
        """
        self._finish(delivery)
        if may_give_up and delivery.attempts >= self.max_attempts:
            await self.mark_failed(delivery, f"gave up after {delivery.attempts} attempts: {error}")
            return False
        self.pacer.pause(delivery.chat_id, wait_seconds)
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == delivery.row_id)
                .values(status=PENDING, lease_until=None, error=error[:500])
                .execution_options(synchronize_session=False)
            )
        return True

    async def postpone(self, delivery: Delivery, wait_seconds: float) -> None:
        """Put a claimed row back untried: the shared budget says its chat must wait."""
        self._finish(delivery)
        self.pacer.pause(delivery.chat_id, wait_seconds)
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == delivery.row_id)
                .values(status=PENDING, lease_until=None, attempts=OutboxMessage.attempts - 1)
                .execution_options(synchronize_session=False)
            )

    async def mark_failed(self, delivery: Delivery, error: str) -> None:
        self._finish(delivery)
        async with self.db.transaction() as session:
            ids = [delivery.row_id, *delivery.part_ids]
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status=FAILED, lease_until=None, error=error[:500])
                .execution_options(synchronize_session=False)
            )

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its waiting rows follow it."""
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.chat_id == old_chat_id, OutboxMessage.status.in_((PENDING, SENDING)))
                .values(chat_id=new_chat_id)
                .execution_options(synchronize_session=False)
            )

    async def release_own(self) -> int:
        """At start-up: rows this instance had in flight when it stopped go back to the queue."""
        async with self.db.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == SENDING, OutboxMessage.leased_by == self.instance)
                .values(status=PENDING, lease_until=None)
                .execution_options(synchronize_session=False)
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def waiting_chats(self) -> list[int]:
        async with self.db.sessionmaker() as session:
            rows = await session.scalars(
                select(OutboxMessage.chat_id).where(OutboxMessage.status == PENDING).distinct()
            )
            return list(rows.all())
