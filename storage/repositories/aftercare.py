"""Queries of the digest, the weekly briefing and the after-meeting care. Add and flush only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, Task, TaskEvent
from storage.models.aftercare import (
    ClockRun,
    ConsumptionRecord,
    FeeConfirmation,
    Feedback,
    FollowUp,
    LostItem,
    Prompt,
)

MEETING_STATUSES = ("confirmed", "in_progress", "finished")
"""Bookings that are (or were) meetings: not pending, rejected or cancelled."""


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql_insert
    if dialect == "sqlite":
        return sqlite_insert
    raise NotImplementedError(f"claiming rows is not implemented for {dialect}")


class ClockRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, job: str, period: str, now: datetime) -> bool:
        """True for the one caller that records this run first (any instance, any restart)."""
        insert = _insert(self.session)
        result = await self.session.execute(
            insert(ClockRun)
            .values(job=job, period=period, at=now)
            .on_conflict_do_nothing()
            .returning(ClockRun.job)
        )
        return result.scalar() is not None

    async def exists(self, job: str, period: str) -> bool:
        return await self.session.get(ClockRun, (job, period)) is not None


class AftercareRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- meetings -------------------------------------------------------------------------
    async def booking(self, booking_id: int) -> Booking | None:
        return await self.session.get(Booking, booking_id)

    async def bookings_starting(
        self, start: datetime, end: datetime, statuses: Sequence[str]
    ) -> Sequence[Booking]:
        query = (
            select(Booking)
            .where(Booking.start_at >= start, Booking.start_at < end, Booking.status.in_(statuses))
            .order_by(Booking.start_at, Booking.room_id, Booking.id)
        )
        return (await self.session.scalars(query)).all()

    async def bookings_of_room(
        self, room_id: str, start: datetime, end: datetime, statuses: Sequence[str]
    ) -> Sequence[Booking]:
        query = (
            select(Booking)
            .where(Booking.room_id == room_id, Booking.status.in_(statuses))
            .where(Booking.start_at < end, Booking.end_at > start)
            .order_by(Booking.start_at, Booking.id)
        )
        return (await self.session.scalars(query)).all()

    async def tasks_between(
        self, start: datetime, end: datetime, team_id: str | None = None
    ) -> Sequence[tuple[Task, Booking]]:
        """Tasks (not cancelled or skipped) whose due time, else push time, is in [start, end)."""
        moment = func.coalesce(Task.due_at, Task.push_at)
        query = (
            select(Task, Booking)
            .join(Booking, Booking.id == Task.booking_id)
            .where(moment >= start, moment < end)
            .where(Task.status.not_in(("cancelled", "skipped")))
            .where(Booking.status.in_(("confirmed", "in_progress", "finished")))
            .order_by(moment, Task.push_at, Task.id)
        )
        if team_id is not None:
            query = query.where(Task.team_id == team_id)
        return [tuple(row) for row in (await self.session.execute(query)).all()]  # type: ignore[misc]

    async def teams_with_tasks(self, booking_id: int) -> Sequence[tuple[str, str]]:
        """(team id, template id) of the booking's live tasks."""
        query = (
            select(Task.team_id, Task.template_id)
            .where(Task.booking_id == booking_id, Task.status.not_in(("cancelled",)))
            .distinct()
        )
        return [tuple(row) for row in (await self.session.execute(query)).all()]  # type: ignore[misc]

    async def confirmable_tasks_due(
        self, start: datetime, end: datetime, until: datetime
    ) -> Sequence[tuple[Task, Booking]]:
        """Tasks needing a confirmation whose due time is in [start, min(end, until))."""
        query = (
            select(Task, Booking)
            .join(Booking, Booking.id == Task.booking_id)
            .where(Task.needs_confirmation.is_(True), Task.due_at.is_not(None))
            .where(Task.due_at >= start, Task.due_at < end, Task.due_at <= until)
            .where(Task.status.not_in(("cancelled", "skipped")))
            .order_by(Task.due_at, Task.id)
        )
        return [tuple(row) for row in (await self.session.execute(query)).all()]  # type: ignore[misc]

    async def task_events(self, task_ids: Sequence[int]) -> Sequence[TaskEvent]:
        if not task_ids:
            return []
        query = select(TaskEvent).where(TaskEvent.task_id.in_(task_ids)).order_by(TaskEvent.id)
        return (await self.session.scalars(query)).all()

    # ---- follow-ups -----------------------------------------------------------------------
    async def next_meeting_end(self, after: datetime) -> datetime | None:
        """The first end of a meeting after ``after``: when its after-care is next due."""
        return await self.session.scalar(
            select(func.min(Booking.end_at))
            .where(Booking.status.in_(MEETING_STATUSES))
            .where(Booking.end_at > after)
        )

    async def claim_finished(self, now: datetime, since: datetime, limit: int = 50) -> list[int]:
        """Record a follow-up for meetings that ended in (since, now] and have none: their ids.

        "Insert, or nothing if it exists" makes the claim exactly-once across instances and
        restarts: only the transaction whose insert went in gets the booking back.
        """
        candidates = (
            await self.session.scalars(
                select(Booking.id)
                .outerjoin(FollowUp, FollowUp.booking_id == Booking.id)
                .where(FollowUp.booking_id.is_(None))
                .where(Booking.status.in_(MEETING_STATUSES))
                .where(Booking.end_at <= now, Booking.end_at > since)
                .order_by(Booking.end_at, Booking.id)
                .limit(limit)
            )
        ).all()
        claimed: list[int] = []
        insert = _insert(self.session)
        for booking_id in candidates:
            ended = await self.session.scalar(select(Booking.end_at).where(Booking.id == booking_id))
            result = await self.session.execute(
                insert(FollowUp)
                .values(booking_id=booking_id, ended_at=ended, created_at=now)
                .on_conflict_do_nothing()
                .returning(FollowUp.booking_id)
            )
            if result.scalar() is not None:
                claimed.append(booking_id)
        return claimed

    # ---- lost and found -------------------------------------------------------------------
    async def add_item(self, item: LostItem) -> LostItem:
        self.session.add(item)
        await self.session.flush()
        return item

    async def item(self, item_id: int) -> LostItem | None:
        return await self.session.get(LostItem, item_id, populate_existing=True)

    async def items(self, status: str, offset: int, limit: int) -> tuple[Sequence[LostItem], int]:
        total = await self.session.scalar(
            select(func.count()).select_from(LostItem).where(LostItem.status == status)
        )
        rows = await self.session.scalars(
            select(LostItem)
            .where(LostItem.status == status)
            .order_by(LostItem.found_at.desc(), LostItem.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return rows.all(), int(total or 0)

    async def hand_over(self, item_id: int, handed_to: str, actor_id: int, now: datetime) -> bool:
        """Close an unclaimed item; False if it was not unclaimed (someone closed it first)."""
        result = await self.session.execute(
            update(LostItem)
            .where(LostItem.id == item_id, LostItem.status == "unclaimed")
            .values(status="handed_over", handed_to=handed_to, handed_by_id=actor_id, handed_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # ---- consumables and fees ---------------------------------------------------------------
    async def add_record(self, record: ConsumptionRecord) -> ConsumptionRecord:
        self.session.add(record)
        await self.session.flush()
        return record

    async def records(self, booking_id: int) -> Sequence[ConsumptionRecord]:
        query = (
            select(ConsumptionRecord)
            .where(ConsumptionRecord.booking_id == booking_id)
            .order_by(ConsumptionRecord.id)
        )
        return (await self.session.scalars(query)).all()

    async def records_between(
        self, start: datetime, end: datetime
    ) -> Sequence[tuple[ConsumptionRecord, Booking]]:
        query = (
            select(ConsumptionRecord, Booking)
            .join(Booking, Booking.id == ConsumptionRecord.booking_id)
            .where(Booking.start_at >= start, Booking.start_at < end)
            .order_by(ConsumptionRecord.id)
        )
        return [tuple(row) for row in (await self.session.execute(query)).all()]  # type: ignore[misc]

    async def fee_of_booking(self, booking_id: int) -> FeeConfirmation | None:
        return await self.session.scalar(
            select(FeeConfirmation).where(FeeConfirmation.booking_id == booking_id)
        )

    async def fee(self, fee_id: int) -> FeeConfirmation | None:
        return await self.session.get(FeeConfirmation, fee_id, populate_existing=True)

    async def add_fee(self, fee: FeeConfirmation) -> FeeConfirmation:
        self.session.add(fee)
        await self.session.flush()
        return fee

    async def decide_fee(self, fee_id: int, status: str, reason: str | None, now: datetime) -> bool:
        result = await self.session.execute(
            update(FeeConfirmation)
            .where(FeeConfirmation.id == fee_id, FeeConfirmation.status == "sent")
            .values(status=status, dispute_reason=reason, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # ---- feedback -------------------------------------------------------------------------
    async def feedback(self, booking_id: int) -> Feedback | None:
        return await self.session.get(Feedback, booking_id, populate_existing=True)

    async def add_feedback(self, row: Feedback) -> None:
        insert = _insert(self.session)
        await self.session.execute(
            insert(Feedback)
            .values(booking_id=row.booking_id, organiser_id=row.organiser_id, asked_at=row.asked_at)
            .on_conflict_do_nothing()
        )

    async def rate(self, booking_id: int, score: int, comment: str | None, now: datetime) -> bool:
        """Store the score once; False if the meeting was rated already."""
        values: dict[str, Any] = {"score": score, "rated_at": now}
        if comment:
            values.update(comment=comment, commented_at=now)
        result = await self.session.execute(
            update(Feedback)
            .where(Feedback.booking_id == booking_id, Feedback.score.is_(None))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def comment(self, booking_id: int, comment: str, now: datetime) -> None:
        await self.session.execute(
            update(Feedback)
            .where(Feedback.booking_id == booking_id)
            .values(comment=comment, commented_at=now)
            .execution_options(synchronize_session=False)
        )

    async def feedback_between(self, start: datetime, end: datetime) -> Sequence[tuple[Feedback, Booking]]:
        query = (
            select(Feedback, Booking)
            .join(Booking, Booking.id == Feedback.booking_id)
            .where(Booking.start_at >= start, Booking.start_at < end, Feedback.score.is_not(None))
            .order_by(Booking.start_at, Booking.id)
        )
        return [tuple(row) for row in (await self.session.execute(query)).all()]  # type: ignore[misc]

    # ---- prompts --------------------------------------------------------------------------
    async def add_prompt(self, prompt: Prompt) -> None:
        self.session.add(prompt)
        await self.session.flush()

    async def prompt(self, chat_id: int, message_id: int) -> Prompt | None:
        return await self.session.scalar(
            select(Prompt).where(Prompt.chat_id == chat_id, Prompt.message_id == message_id)
        )

    async def drop_prompt(self, prompt: Prompt) -> None:
        await self.session.delete(prompt)
        await self.session.flush()

    async def drop_prompts_before(self, moment: datetime) -> None:
        stale = await self.session.scalars(select(Prompt).where(Prompt.created_at < moment))
        for prompt in stale.all():
            await self.session.delete(prompt)
        await self.session.flush()
