"""Booking rules (docs/product.md §2): notice, overlap with turnover buffer, capacity, approval.

Making, changing and cancelling a booking live here; deciding a request waiting for approval
(approve, reject, withdraw, its end at its start, the no-show release) in
bot/services/booking_decisions.py, and the rules that need no database in
bot/services/booking_rules.py (imported from here as before).

Every change that the daily digest can no longer carry is told at once as an addendum
(bot/services/addenda.py); the booking service says which confirmed version stood before and
which stands after.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.addenda import DigestAddenda
from bot.services.approvals import request_notices, start_waiting, stop_waiting
from bot.services.booking_decisions import BookingDecisions
from bot.services.booking_rules import MAX_ADVANCE as MAX_ADVANCE
from bot.services.booking_rules import MAX_ATTENDEES as MAX_ATTENDEES
from bot.services.booking_rules import MAX_DETAIL as MAX_DETAIL
from bot.services.booking_rules import MAX_DURATION as MAX_DURATION
from bot.services.booking_rules import MAX_FIELD as MAX_FIELD
from bot.services.booking_rules import MAX_NOTES as MAX_NOTES
from bot.services.booking_rules import MAX_TITLE as MAX_TITLE
from bot.services.booking_rules import OFFER_SPARE as OFFER_SPARE
from bot.services.booking_rules import OFFER_STEP as OFFER_STEP
from bot.services.booking_rules import THE_BOT as THE_BOT
from bot.services.booking_rules import BookingChanges as BookingChanges
from bot.services.booking_rules import BookingError as BookingError
from bot.services.booking_rules import BookingRequest as BookingRequest
from bot.services.booking_rules import Planner as Planner
from bot.services.booking_rules import _clean_services as _clean_services
from bot.services.booking_rules import _snapshot as _snapshot
from bot.services.booking_rules import check_times as check_times
from bot.services.booking_rules import earliest_start as earliest_start
from bot.services.booking_rules import from_snapshot as from_snapshot
from bot.services.booking_rules import offered_start as offered_start
from bot.services.booking_rules import parse_attendees as parse_attendees
from bot.services.booking_rules import to_view as to_view
from bot.services.clock import Clock
from bot.services.series_requests import carry_on
from bot.services.strict import clean_text
from bot.services.types import (
    ACTIVE_STATUSES,
    BookingStatus,
    BookingView,
    Notice,
    Outcome,
    RoomOffer,
)
from bot.site import Role, Room, SiteConfig
from storage.models import Booking
from storage.repositories.approvals import ApprovalRepository
from storage.repositories.bookings import BookingRepository


async def booking_view(session: AsyncSession, booking_id: int) -> BookingView | None:
    """The booking as it is now, or None if it is gone."""
    booking = await BookingRepository(session).get(booking_id)
    return to_view(booking) if booking is not None else None


class BookingService(BookingDecisions):
    def __init__(self, site: SiteConfig, clock: Clock, planner: Planner | None = None) -> None:
        self.site = site
        self.clock = clock
        self.planner = planner
        self.addenda = DigestAddenda(site, clock)

    # ---- searching ------------------------------------------------------------------
    async def free_rooms(
        self,
        session: AsyncSession,
        start: datetime,
        end: datetime,
        attendees: int,
        layout: str | None = None,
        exclude_booking_id: int | None = None,
    ) -> list[RoomOffer]:
        candidates = [
            room
            for room in self.site.rooms
            if room.capacity >= attendees and (layout is None or layout in room.layouts)
        ]
        if not candidates:
            return []
        # a new booking would hold each room until its end plus that room's buffer
        until = {room.id: end + self.site.room_class_of(room).buffer for room in candidates}
        taken = await BookingRepository(session).rooms_taken(
            start, until, span_bound=self.span_bound(), exclude_id=exclude_booking_id
        )
        offers = [
            RoomOffer(room.id, room.room_class, room.capacity) for room in candidates if room.id not in taken
        ]
        return sorted(offers, key=lambda offer: (offer.capacity, offer.room_id))

    def span_bound(self) -> timedelta:
        """How long a booking made by the rules holds its room at most: the longest booking
        plus the longest buffer. The overlap queries read bookings starting after ``start`` minus
        this by their start times, and longer ones (made before a rule or buffer changed) by
        their span, so the bound makes them fast and never makes them miss a booking."""
        return MAX_DURATION + max(room_class.buffer for room_class in self.site.room_classes.values())

    def largest_capacity(self) -> int:
        return max(room.capacity for room in self.site.rooms)

    # ---- creating -------------------------------------------------------------------
    def _validate(self, request: BookingRequest, now: datetime) -> Room:
        room = self.site.room(request.room_id)
        if room is None:
            raise BookingError("unknown_room")
        check_times(self.site, room, request.start, request.end, now)
        if request.attendees < 1 or request.attendees > MAX_ATTENDEES:
            raise BookingError("attendees_too_few" if request.attendees < 1 else "attendees_absurd")
        if request.attendees > room.capacity:
            raise BookingError("over_capacity", capacity=room.capacity)
        if request.layout not in room.layouts:
            raise BookingError("layout_not_supported")
        if request.reception_level not in (1, 2, 3, 4):
            raise BookingError("bad_level")
        if self.site.department(request.department_id) is None:
            raise BookingError("unknown_department")
        for service_id in request.services:
            if self.site.service(service_id) is None:
                raise BookingError("unknown_service")
        if not clean_text(request.title, MAX_TITLE):
            raise BookingError("title_missing")
        return room

    def _needs_approval(self, room: Room, layout: str) -> bool:
        layout_item = self.site.layout(layout)
        return self.site.room_class_of(room).needs_approval or bool(
            layout_item and layout_item.needs_approval
        )

    async def _ensure_free(
        self, repo: BookingRepository, room: Room, start: datetime, end: datetime, exclude_id: int | None
    ) -> datetime:
        await repo.lock_room(room.id)  # taken again by change(): bumping a row twice is harmless
        blocked_until = end + self.site.room_class_of(room).buffer
        if await repo.conflicts(room.id, start, blocked_until, exclude_id, span_bound=self.span_bound()):
            raise BookingError("slot_taken")
        return blocked_until

    async def create(
        self, session: AsyncSession, request: BookingRequest, *, series: tuple[int, int] | None = None
    ) -> Outcome:
        """Book ``request``; ``series`` (series id, place) for a meeting of a recurring series
        (bot/services/series.py), recorded from its first revision on."""
        now = self.clock.now()
        if request.start.tzinfo is None or request.end.tzinfo is None:
            raise ValueError("booking times must be timezone-aware")
        request = replace(request, start=request.start.astimezone(UTC), end=request.end.astimezone(UTC))
        room = self._validate(request, now)
        repo = BookingRepository(session)
        blocked_until = await self._ensure_free(repo, room, request.start, request.end, None)
        pending = self._needs_approval(room, request.layout)
        booking = Booking(
            status=(BookingStatus.pending if pending else BookingStatus.confirmed).value,
            revision=1,
            department_id=request.department_id,
            requester_id=request.requester_id,
            booked_by_id=request.booked_by_id,
            room_id=room.id,
            start_at=request.start,
            end_at=request.end,
            blocked_until=blocked_until,
            attendees=request.attendees,
            layout=request.layout,
            reception_level=request.reception_level,
            confidential=request.confidential,
            title=clean_text(request.title, MAX_TITLE),
            contact_name=clean_text(request.contact_name, MAX_FIELD),
            contact_phone=clean_text(request.contact_phone, MAX_FIELD),
            notes=clean_text(request.notes, MAX_NOTES, multiline=True),
            services=_clean_services(request.services),
            created_at=now,
            updated_at=now,
            series_id=series[0] if series is not None else None,
            series_index=series[1] if series is not None else None,
        )
        if pending:
            start_waiting(self.site, booking, now)
        await repo.add(booking)
        view = to_view(booking)
        await repo.add_revision(booking, "created", _snapshot(view), request.booked_by_id, now)
        outcome = Outcome(view)
        if pending:
            outcome.notices += self._approval_requests(view)
        else:
            told = await self._plan(session, view, None)
            outcome.notices += await self.addenda.notices(session, view.id, view.revision, None, view, told)
        if request.booked_by_id != request.requester_id:
            outcome.notices.append(
                Notice(
                    "booked_on_behalf",
                    request.requester_id,
                    {"booking_id": view.id, "actor_id": request.booked_by_id},
                )
            )
        return outcome

    def _approval_requests(self, view: BookingView) -> list[Notice]:
        return request_notices(self.site, view.id, view.revision)

    # ---- the requester's own bookings -------------------------------------------------
    def can_manage(self, user_id: int, department_id: str | None, booking: BookingView) -> bool:
        roles = self.site.roles_of(user_id)
        if roles & {Role.dispatcher, Role.supervisor, Role.manager, Role.admin}:
            return True
        return booking.requester_id == user_id or (
            department_id is not None and booking.department_id == department_id
        )

    async def get(self, session: AsyncSession, booking_id: int) -> BookingView | None:
        return await booking_view(session, booking_id)

    async def upcoming(
        self, session: AsyncSession, user_id: int, department_id: str | None
    ) -> list[BookingView]:
        roles = self.site.roles_of(user_id)
        sees_all = bool(roles & {Role.dispatcher, Role.supervisor, Role.manager, Role.admin})
        if not sees_all and department_id is None:
            return []
        rows = await BookingRepository(session).upcoming(
            self.clock.now(), department_id=None if sees_all else department_id
        )
        return [to_view(row) for row in rows]

    async def cancel(
        self,
        session: AsyncSession,
        booking_id: int,
        actor_id: int,
        department_id: str | None,
        revision: int | None = None,
    ) -> Outcome:
        """Cancel a booking; ``revision`` is the one the person confirmed cancelling."""
        repo = BookingRepository(session)
        booking = await self._load(session, booking_id)
        if not self.can_manage(actor_id, department_id, to_view(booking)):
            raise BookingError("not_allowed")
        await repo.lock_room(booking.room_id)
        await session.refresh(booking)
        if (
            revision is not None
            and booking.revision != revision
            and booking.status
            in (
                BookingStatus.pending,
                BookingStatus.confirmed,
            )
        ):
            raise BookingError("changed_meanwhile")
        if booking.status not in (BookingStatus.pending, BookingStatus.confirmed):
            raise BookingError("cannot_cancel", status=booking.status)
        previous = to_view(booking)
        # what the teams knew: the booking, or the confirmed one behind a change awaiting approval
        known = (
            previous if previous.status == BookingStatus.confirmed else await self._held(session, booking.id)
        )
        now = self.clock.now()
        was_pending = booking.status == BookingStatus.pending
        booking.status = BookingStatus.cancelled.value
        booking.revision += 1
        booking.updated_at = now
        stop_waiting(booking)
        await session.flush()
        view = to_view(booking)
        await repo.add_revision(booking, "cancelled", _snapshot(view), actor_id, now)
        if was_pending:
            await ApprovalRepository(session).close_requests(booking.id, booking.revision, now)
        outcome = Outcome(view)
        if known is not None:
            told = await self._plan(session, view, known)
            outcome.notices += await self.addenda.notices(session, view.id, view.revision, known, None, told)
        if actor_id != booking.requester_id:
            outcome.notices.append(
                Notice(
                    "booking_cancelled", booking.requester_id, {"booking_id": view.id, "actor_id": actor_id}
                )
            )
        # a meeting that carried its series' approval request hands it on (series_requests.py)
        outcome.notices += await carry_on(session, self.site, booking.series_id, now)
        return outcome

    async def change(
        self,
        session: AsyncSession,
        booking_id: int,
        actor_id: int,
        department_id: str | None,
        changes: BookingChanges,
    ) -> Outcome:
        repo = BookingRepository(session)
        booking = await self._load(session, booking_id)
        previous = to_view(booking)
        if not self.can_manage(actor_id, department_id, previous):
            raise BookingError("not_allowed")
        if previous.status not in (BookingStatus.pending, BookingStatus.confirmed):
            raise BookingError("cannot_change", status=previous.status)
        wanted = replace(
            previous,
            start=(changes.start or previous.start).astimezone(UTC),
            end=(changes.end or previous.end).astimezone(UTC),
            room_id=changes.room_id or previous.room_id,
            attendees=changes.attendees or previous.attendees,
            layout=changes.layout or previous.layout,
            services=previous.services if changes.services is None else changes.services,
        )
        if wanted == previous:
            raise BookingError("nothing_changed")
        room = self.site.room(wanted.room_id)
        if room is None:
            raise BookingError("unknown_room")
        if any(self.site.service(service_id) is None for service_id in wanted.services):
            raise BookingError("unknown_service")
        if wanted.attendees < 1 or wanted.attendees > MAX_ATTENDEES:
            raise BookingError("attendees_too_few" if wanted.attendees < 1 else "attendees_absurd")
        if wanted.layout not in room.layouts:
            wanted = replace(wanted, layout=room.layouts[0])
        now = self.clock.now()
        time_or_room = (wanted.start, wanted.end, wanted.room_id) != (
            previous.start,
            previous.end,
            previous.room_id,
        )
        if time_or_room:
            check_times(self.site, room, wanted.start, wanted.end, now)
        if wanted.attendees > room.capacity:
            raise BookingError("over_capacity", capacity=room.capacity)
        # lock both rooms in one order, so two changes swapping rooms cannot deadlock
        for room_id in sorted({previous.room_id, room.id}):
            await repo.lock_room(room_id)
        blocked_until = await self._ensure_free(repo, room, wanted.start, wanted.end, booking.id)
        await session.refresh(booking)
        if booking.revision != previous.revision:
            raise BookingError("changed_meanwhile")
        if booking.status not in (BookingStatus.pending, BookingStatus.confirmed):
            raise BookingError("cannot_change", status=booking.status)
        # what the teams knew: the booking, or the confirmed one behind a change awaiting approval
        known = (
            previous if previous.status == BookingStatus.confirmed else await self._held(session, booking.id)
        )
        # a pending booking is re-sent with its new values; a confirmed one needs approval again
        # only when what the approver judges (time, room, layout) changed
        judged_changed = time_or_room or wanted.layout != previous.layout
        needs_approval = self._needs_approval(room, wanted.layout) and (
            judged_changed or previous.status == BookingStatus.pending
        )
        booking.start_at, booking.end_at, booking.blocked_until = wanted.start, wanted.end, blocked_until
        booking.room_id, booking.attendees, booking.layout = room.id, wanted.attendees, wanted.layout
        booking.services = _clean_services(wanted.services)
        booking.revision += 1
        if wanted.start != previous.start:
            # a meeting at another time is checked in to anew (docs/product.md §2)
            booking.checkin_state, booking.checked_in_at, booking.checked_in_by = "", None, None
        booking.updated_at = now
        if needs_approval:
            booking.status = BookingStatus.pending.value
            start_waiting(self.site, booking, now)  # a new request: asked anew, chased anew
        elif previous.status == BookingStatus.pending:
            # moved to a room and layout that need no approval: nothing is left to wait for
            booking.status = BookingStatus.confirmed.value
            stop_waiting(booking)
        await session.flush()
        view = to_view(booking)
        await repo.add_revision(booking, "changed", _snapshot(view), actor_id, now)
        if previous.status == BookingStatus.pending:
            # the approvers' messages about the request as it was say it was changed
            await ApprovalRepository(session).close_requests(booking.id, booking.revision, now)
        outcome = Outcome(view)
        told: list[Notice] = []
        if previous.status == BookingStatus.confirmed or view.status == BookingStatus.confirmed:
            told = await self._plan(session, view, known)
        # a change waiting for approval changes nothing the digest showed yet
        now_known = view if view.status == BookingStatus.confirmed else known
        outcome.notices += await self.addenda.notices(session, view.id, view.revision, known, now_known, told)
        if needs_approval:
            outcome.notices += self._approval_requests(view)
        if actor_id != booking.requester_id:
            outcome.notices.append(
                Notice(
                    "booking_changed",
                    booking.requester_id,
                    {"booking_id": view.id, "revision": view.revision, "actor_id": actor_id},
                )
            )
        # a meeting that carried its series' approval request hands it on (series_requests.py)
        outcome.notices += await carry_on(session, self.site, booking.series_id, now)
        return outcome

    async def revisions(self, session: AsyncSession, booking_id: int) -> list[dict[str, Any]]:
        return [
            dict(row.snapshot, event=row.event)
            for row in await BookingRepository(session).revisions(booking_id)
        ]


def is_active(view: BookingView) -> bool:
    return view.status in ACTIVE_STATUSES
