"""Check-in of meetings: the meetings the clock job watches, the conditional updates that
move their check-in on, and the prompts already shown (docs/product.md §2). Add and flush;
the entry point owns the transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, OutboxMessage, User

WATCHED = ("confirmed", "in_progress")
"""A meeting with these statuses holds its room and may be checked in to or released."""
NOT_YET = ("", "prompted")
"""Check-in states of a meeting nobody checked in to nor said is running late."""
PROMPT_NOTICE = "checkin_prompt"
_SHOWN = ("sent", "sending")
"""A prompt in these states is (or is about to be) a message in its reader's chat."""


def prompt_key(booking_id: int, revision: int, person: int) -> str:
    """The dedupe key of the Check in prompt to ``person``; every one of a booking starts with
    ``checkin:<booking id>:``."""
    return f"checkin:{booking_id}:{revision}:{person}"


@dataclass(frozen=True)
class ShownPrompt:
    """A Check in prompt that went out: its outbox row, its reader and its notice's parameters."""

    row_id: int
    chat_id: int
    params: dict[str, Any]


class CheckInRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _watched(self, skip_rooms: Collection[str], skip_confidential: bool) -> list[object]:
        conditions: list[object] = [Booking.status.in_(WATCHED), Booking.checkin_state.in_(NOT_YET)]
        if skip_rooms:
            conditions.append(Booking.room_id.not_in(list(skip_rooms)))
        if skip_confidential:
            conditions.append(Booking.confidential.is_(False))
        return conditions

    async def watched(
        self,
        now: datetime,
        prompt_before_start: datetime,
        skip_rooms: Collection[str],
        skip_confidential: bool,
        limit: int,
    ) -> Sequence[Booking]:
        """Meetings not checked in to that start by ``prompt_before_start`` (their prompt is due)
        and have not ended, earliest first (``ix_bookings_status_start``)."""
        query = (
            select(Booking)
            .where(
                *self._watched(skip_rooms, skip_confidential),  # type: ignore[arg-type]
                Booking.start_at <= prompt_before_start,
                Booking.end_at > now,
            )
            .order_by(Booking.start_at, Booking.id)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def upcoming(
        self, after: datetime, skip_rooms: Collection[str], skip_confidential: bool, limit: int
    ) -> Sequence[Booking]:
        """Meetings not checked in to that have not ended by ``after``, earliest start first:
        where the next prompt or release is."""
        query = (
            select(Booking)
            .where(*self._watched(skip_rooms, skip_confidential), Booking.end_at > after)  # type: ignore[arg-type]
            .order_by(Booking.start_at, Booking.id)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def claim_prompt(self, booking: Booking) -> bool:
        """Mark the Check in button as sent, if nobody did since ``booking`` was read."""
        return await self._move(booking.id, booking.revision, ("",), {"checkin_state": "prompted"})

    async def check_in(
        self, booking_id: int, state: str, from_states: Sequence[str], user_id: int, now: datetime
    ) -> bool:
        """Record a check-in (or "running late") if the meeting still waits for one: of two
        presses at once, or a press and the release, exactly one changes the row."""
        return await self._move(
            booking_id,
            None,
            from_states,
            {"checkin_state": state, "checked_in_at": now, "checked_in_by": user_id},
        )

    async def release(self, booking: Booking, now: datetime) -> bool:
        """Make a meeting nobody checked in to a no-show, if nothing moved it since it was read."""
        return await self._move(
            booking.id,
            booking.revision,
            NOT_YET,
            {
                "status": "no_show",
                "checkin_state": "released",
                "revision": Booking.revision + 1,
                "updated_at": now,
            },
        )

    async def _move(
        self, booking_id: int, revision: int | None, from_states: Sequence[str], values: dict[str, object]
    ) -> bool:
        conditions = [
            Booking.id == booking_id,
            Booking.status.in_(WATCHED),
            Booking.checkin_state.in_(list(from_states)),
        ]
        if revision is not None:
            conditions.append(Booking.revision == revision)
        result = await self.session.execute(
            update(Booking)
            .where(and_(*conditions))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        moved = bool(result.rowcount)  # type: ignore[attr-defined]
        if moved:
            booking = await self.session.get(Booking, booking_id)
            if booking is not None:
                await self.session.refresh(booking)
        return moved

    async def checkin_of(self, booking_ids: Sequence[int]) -> Sequence[Booking]:
        """The bookings whose check-in state is asked for (one query for a whole list)."""
        if not booking_ids:
            return []
        return (await self.session.scalars(select(Booking).where(Booking.id.in_(list(booking_ids))))).all()

    async def shown_prompts(self, booking_id: int) -> list[ShownPrompt]:
        """The booking's Check in prompts that went out (or are going out), of any revision."""
        rows = await self.session.execute(
            select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.params)
            .where(
                OutboxMessage.dedupe_key.like(f"checkin:{booking_id}:%"),
                OutboxMessage.kind == "send",
                OutboxMessage.notice == PROMPT_NOTICE,
                OutboxMessage.status.in_(_SHOWN),
            )
            .order_by(OutboxMessage.id)
        )
        return [ShownPrompt(row_id, chat_id, dict(params or {})) for row_id, chat_id, params in rows.all()]

    async def prompt_was_shown(self, dedupe_key: str | None) -> bool:
        """Whether the prompt queued with this key went out (it has a message to edit)."""
        if dedupe_key is None:
            return False
        message_id = await self.session.scalar(
            select(OutboxMessage.message_id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        return message_id is not None

    async def department_members(self, department_id: str, limit: int) -> list[int]:
        """Registered people who joined ``department_id`` (the site file's own placements are
        the caller's to add and to let win)."""
        rows = await self.session.scalars(
            select(User.id).where(User.department_id == department_id).order_by(User.id).limit(limit)
        )
        return list(rows)

    async def no_shows_between(self, start: datetime, end: datetime) -> Sequence[tuple[str, int]]:
        """No-shows per department among the meetings starting in [start, end)."""
        rows = await self.session.execute(
            select(Booking.department_id, func.count())
            .where(Booking.status == "no_show", Booking.start_at >= start, Booking.start_at < end)
            .group_by(Booking.department_id)
            .order_by(Booking.department_id)
        )
        return [(department, int(count)) for department, count in rows.all()]
