"""Booking rules (docs/product.md §2): notice, overlap with turnover buffer, capacity, approval.

A change of a confirmed booking that needs approval again (time, room or layout of a class-C
hall, a special layout) is stored at once with its new values, waiting for the approver; its
tasks are on hold. Its revisions keep the confirmed booking it would replace (``_held``):
approved, the teams are told old → new; rejected, the booking goes back to that confirmed
version when its old time is still ahead and free ("kept as before"), else it is rejected and
the teams hear it is cancelled.

Every change that the daily digest can no longer carry is told at once as an addendum
(bot/services/addenda.py); the booking service says which confirmed version stood before and
which stands after.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.addenda import DigestAddenda
from bot.services.approvals import may_decide, request_notices, start_waiting, stop_waiting
from bot.services.clock import Clock
from bot.services.strict import clean_text, has_foreign_digits, parse_count
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
from storage.repositories.checkin import CheckInRepository

MAX_ATTENDEES = 10_000
MAX_DURATION = timedelta(hours=16)
MAX_ADVANCE = timedelta(days=366)
MAX_TITLE = 200
MAX_NOTES = 1000
MAX_FIELD = 100
MAX_DETAIL = 500
OFFER_STEP = timedelta(minutes=5)
OFFER_SPARE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
THE_BOT = 0
"""The actor recorded for what the bot does by itself (a request rejected at its start)."""

Planner = Callable[[AsyncSession, BookingView, BookingView | None], Awaitable[list[Notice]]]


class BookingError(Exception):
    """A rule said no; ``code`` picks the message, ``params`` fill it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class BookingRequest:
    department_id: str
    requester_id: int
    booked_by_id: int
    room_id: str
    start: datetime
    end: datetime
    attendees: int
    layout: str
    reception_level: int
    title: str
    contact_name: str
    contact_phone: str
    confidential: bool = False
    notes: str = ""
    services: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class BookingChanges:
    start: datetime | None = None
    end: datetime | None = None
    room_id: str | None = None
    attendees: int | None = None
    layout: str | None = None
    services: dict[str, dict[str, Any]] | None = None


def parse_attendees(text: str) -> int:
    cleaned = text.strip().removesuffix("人")
    count = parse_count(cleaned, max_digits=6)
    if count is None:
        raise BookingError("digits_only" if has_foreign_digits(cleaned) else "attendees_not_number")
    if count < 1:
        raise BookingError("attendees_too_few")
    if count > MAX_ATTENDEES:
        raise BookingError("attendees_absurd", maximum=MAX_ATTENDEES)
    return count


def check_times(site: SiteConfig, room: Room | None, start: datetime, end: datetime, now: datetime) -> None:
    """Raise the first rule the times break; ``room`` None checks only what needs no room."""
    if end <= start:
        raise BookingError("end_before_start")
    if end - start > MAX_DURATION:
        raise BookingError("too_long", hours=int(MAX_DURATION.total_seconds() // 3600))
    if start < now:
        raise BookingError("in_past")
    if start - now > MAX_ADVANCE:
        raise BookingError("too_far")
    if room is not None:
        notice = site.room_class_of(room).min_notice
        if start < now + notice:
            raise BookingError("too_early", earliest=offered_start(now, notice), room_class=room.room_class)


def offered_start(now: datetime, notice: timedelta) -> datetime:
    """The earliest start to offer a person when ``notice`` is needed from ``now``.

    The rule itself allows ``now + notice`` to the second, but a time offered that way is
    refused by the time the person has read it and chosen it (offered "11:01" at 10:01:30
    means 11:01:00 < 11:01:30). So the offer is the first five-minute mark at least a minute
    after the notice runs out: a time people type, still allowed for a minute or more.
    (Five-minute marks are the same in UTC and in every zone in use, whose offsets are
    whole quarter hours.)"""
    after = now + notice + OFFER_SPARE
    step = OFFER_STEP // timedelta(microseconds=1)
    micro = (after - _EPOCH) // timedelta(microseconds=1)
    return _EPOCH + timedelta(microseconds=-(-micro // step) * step)


def earliest_start(site: SiteConfig, room: Room, now: datetime) -> datetime:
    """The earliest start offered for ``room`` (see :func:`offered_start`)."""
    return offered_start(now, site.room_class_of(room).min_notice)


def to_view(booking: Booking) -> BookingView:
    return BookingView(
        id=booking.id,
        status=BookingStatus(booking.status),
        revision=booking.revision,
        department_id=booking.department_id,
        requester_id=booking.requester_id,
        booked_by_id=booking.booked_by_id,
        room_id=booking.room_id,
        start=booking.start_at,
        end=booking.end_at,
        attendees=booking.attendees,
        layout=booking.layout,
        reception_level=booking.reception_level,
        confidential=booking.confidential,
        title=booking.title,
        contact_name=booking.contact_name,
        contact_phone=booking.contact_phone,
        notes=booking.notes,
        services=dict(booking.services or {}),
        decision_reason=booking.decision_reason,
    )


def _snapshot(view: BookingView) -> dict[str, Any]:
    data = asdict(view)
    data["status"] = view.status.value
    data["start"] = view.start.astimezone(UTC).isoformat()
    data["end"] = view.end.astimezone(UTC).isoformat()
    return data


def from_snapshot(snapshot: Mapping[str, Any]) -> BookingView:
    """The booking as a revision's snapshot (:func:`_snapshot`) recorded it."""
    values = {item.name: snapshot[item.name] for item in fields(BookingView) if item.name in snapshot}
    values["status"] = BookingStatus(values["status"])
    values["start"] = datetime.fromisoformat(values["start"])
    values["end"] = datetime.fromisoformat(values["end"])
    values["services"] = dict(values.get("services") or {})
    return BookingView(**values)


def _clean_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        key: {
            k: (clean_text(v, MAX_DETAIL, multiline=True) if isinstance(v, str) else v)
            for k, v in details.items()
        }
        for key, details in services.items()
    }


class BookingService:
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

    async def create(self, session: AsyncSession, request: BookingRequest) -> Outcome:
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

    async def _plan(
        self, session: AsyncSession, view: BookingView, previous: BookingView | None
    ) -> list[Notice]:
        """Plan the booking's tasks; ``previous`` is the booking as its teams knew it."""
        if self.planner is None:
            return []
        return await self.planner(session, view, previous)

    async def _held(self, session: AsyncSession, booking_id: int) -> BookingView | None:
        """The confirmed booking that a pending one would replace: the version before the
        change(s) waiting for approval; None for a request never confirmed."""
        for row in reversed(await BookingRepository(session).revisions(booking_id)):
            status = row.snapshot.get("status")
            if status == BookingStatus.pending:
                continue
            return from_snapshot(row.snapshot) if status == BookingStatus.confirmed else None
        return None

    async def _still_free(
        self, repo: BookingRepository, booking_id: int, held: BookingView, now: datetime
    ) -> bool:
        """Whether the booking can go back to ``held``: its time still ahead, its room free."""
        room = self.site.room(held.room_id)
        if room is None or held.start <= now:
            return False
        blocked_until = held.end + self.site.room_class_of(room).buffer
        return not await repo.conflicts(
            room.id, held.start, blocked_until, booking_id, span_bound=self.span_bound()
        )

    def _restore(self, booking: Booking, held: BookingView) -> None:
        room = self.site.room(held.room_id)
        assert room is not None  # checked by _still_free
        booking.room_id, booking.start_at, booking.end_at = held.room_id, held.start, held.end
        booking.blocked_until = held.end + self.site.room_class_of(room).buffer
        booking.attendees, booking.layout = held.attendees, held.layout
        booking.services = dict(held.services)

    # ---- deciding -------------------------------------------------------------------
    async def _load(self, session: AsyncSession, booking_id: int) -> Booking:
        booking = await BookingRepository(session).get(booking_id)
        if booking is None:
            raise BookingError("not_found")
        return booking

    async def _lock_request(
        self, session: AsyncSession, booking_id: int
    ) -> tuple[Booking, BookingView | None]:
        """The booking, read again under the lock of its room(s), and the confirmed booking a
        pending change would replace. Every path that ends a request (decide, withdraw,
        expire, cancel, change) takes these locks first, so of two at once exactly one acts
        and the other sees what it did."""
        repo = BookingRepository(session)
        booking = await self._load(session, booking_id)
        # a rejected change may take the booking back to its old room: both rooms, in one order
        held = await self._held(session, booking.id)
        locked = sorted({booking.room_id} | ({held.room_id} if held is not None else set()))
        for room_id in locked:
            await repo.lock_room(room_id)
        await session.refresh(booking)
        held = await self._held(session, booking.id)  # as of the lock
        if held is not None and held.room_id not in locked:
            await repo.lock_room(held.room_id)
        return booking, held

    async def why_not_decidable(
        self, session: AsyncSession, booking_id: int, revision: int
    ) -> BookingError | None:
        """Why the request shown at ``revision`` cannot be decided now (None: it can), read
        before asking an approver for a reason."""
        booking = await BookingRepository(session).get(booking_id)
        if booking is None:
            return BookingError("not_found")
        if booking.status != BookingStatus.pending:
            return await self.not_waiting(session, booking)
        if booking.revision != revision:
            return BookingError("changed_meanwhile")
        return None

    async def not_waiting(self, session: AsyncSession, booking: Booking) -> BookingError:
        """Why a request that is no longer pending cannot be decided: withdrawn, ended at its
        start, or decided (with its status)."""
        revisions = await BookingRepository(session).revisions(booking.id)
        last = revisions[-1].event if revisions else ""
        if last == "withdrawn":
            return BookingError("withdrawn")
        if last in ("expired", "change_expired"):
            return BookingError("expired")
        return BookingError("already_decided", status=booking.status)

    async def decide(
        self,
        session: AsyncSession,
        booking_id: int,
        approver_id: int,
        approve: bool,
        reason: str = "",
        revision: int | None = None,
    ) -> Outcome:
        """Approve or reject a pending booking; ``revision`` is the one the approver was shown."""
        if not may_decide(self.site, approver_id):
            raise BookingError("not_allowed")
        booking, held = await self._lock_request(session, booking_id)
        if booking.status != BookingStatus.pending:
            raise await self.not_waiting(session, booking)
        if revision is not None and booking.revision != revision:
            # the request the approver saw was changed since: a newer request is on its way
            raise BookingError("changed_meanwhile")
        now = self.clock.now()
        if approve and booking.start_at <= now:
            raise BookingError("in_past")
        return await self._conclude(session, booking, held, now, approver_id, approve=approve, reason=reason)

    async def expire(self, session: AsyncSession, booking_id: int, revision: int) -> Outcome | None:
        """A request still pending at its start is rejected by itself (a change waiting for
        approval: the booking stays as it was, if it still can); None when it was decided,
        changed or withdrawn meanwhile."""
        booking, held = await self._lock_request(session, booking_id)
        now = self.clock.now()
        if booking.status != BookingStatus.pending or booking.revision != revision or booking.start_at > now:
            return None
        return await self._conclude(session, booking, held, now, None, approve=False, expired=True)

    async def no_show(
        self, session: AsyncSession, booking_id: int, revision: int, deadline: datetime
    ) -> Outcome | None:
        """Nobody checked in by ``deadline`` (docs/product.md §2): the booking becomes a no-show,
        its room is free again, its open tasks are cancelled and their teams told, the organiser
        told why. None when it was checked in to, changed or ended meanwhile: the update names
        the revision and check-in state read, so of a release and a check-in exactly one acts."""
        repo = BookingRepository(session)
        booking = await self._load(session, booking_id)
        await repo.lock_room(booking.room_id)  # as cancel and change do: they see it released
        await session.refresh(booking)
        now = self.clock.now()
        if booking.revision != revision or deadline > now:
            return None
        known = to_view(booking)
        if not await CheckInRepository(session).release(booking, now):
            return None
        view = to_view(booking)
        await repo.add_revision(booking, "no_show", _snapshot(view), THE_BOT, now)
        outcome = Outcome(view)
        told = await self._plan(session, view, known)
        outcome.notices += await self.addenda.notices(session, view.id, view.revision, known, None, told)
        outcome.notices.append(
            Notice(
                "booking_no_show",
                booking.requester_id,
                {"booking_id": view.id, "deadline": deadline},
                dedupe_key=f"no-show:{view.id}:{booking.requester_id}",
            )
        )
        return outcome

    async def _conclude(
        self,
        session: AsyncSession,
        booking: Booking,
        held: BookingView | None,
        now: datetime,
        approver_id: int | None,
        *,
        approve: bool,
        reason: str = "",
        expired: bool = False,
    ) -> Outcome:
        """Approve or reject a locked pending booking: by an approver, or by itself at its start."""
        repo = BookingRepository(session)
        kept = not approve and held is not None and await self._still_free(repo, booking.id, held, now)
        if kept:
            assert held is not None
            self._restore(booking, held)
        rejected = not approve and not kept
        booking.status = (BookingStatus.rejected if rejected else BookingStatus.confirmed).value
        booking.decided_by_id = approver_id
        booking.decision_reason = clean_text(reason, MAX_NOTES, multiline=True) or None
        booking.revision += 1
        booking.updated_at = now
        stop_waiting(booking)
        await session.flush()
        view = to_view(booking)
        if expired:
            event = "change_expired" if kept else "expired"
        else:
            event = "approved" if approve else "change_rejected" if kept else "rejected"
        await repo.add_revision(booking, event, _snapshot(view), approver_id or THE_BOT, now)
        await ApprovalRepository(session).close_requests(booking.id, booking.revision, now)
        decided: dict[str, Any] = {"booking_id": view.id}
        if not approve and held is not None:
            decided["change"] = "kept" if kept else "lost"
        if expired:
            decided["expired"] = True
        outcome = Outcome(view, [Notice("booking_decided", booking.requester_id, decided)])
        if approve:
            # after a change: the teams knew the confirmed booking before it, and hear old → new
            told = await self._plan(session, view, held)
        elif kept:
            told = await self._plan(session, view, view)  # as before: the teams hear it stays
        elif held is not None:
            told = await self._plan(session, view, held)  # its old time is lost: cancelled
        else:
            told = []
        outcome.notices += await self.addenda.notices(
            session, view.id, view.revision, held, None if rejected else view, told
        )
        return outcome

    async def withdraw(
        self,
        session: AsyncSession,
        booking_id: int,
        actor_id: int,
        department_id: str | None,
        revision: int,
    ) -> Outcome:
        """The requester takes back a request waiting for approval: a new request ends
        (cancelled, never confirmed); a change waiting for approval is dropped and the
        booking stays as it was, which needs its old time still ahead and free
        (``withdraw_lost`` otherwise: cancel it, or wait for the approver)."""
        booking = await self._load(session, booking_id)
        if not self.can_manage(actor_id, department_id, to_view(booking)):
            raise BookingError("not_allowed")
        booking, held = await self._lock_request(session, booking_id)
        if booking.status != BookingStatus.pending:
            raise await self.not_waiting(session, booking)
        if booking.revision != revision:
            raise BookingError("changed_meanwhile")
        repo = BookingRepository(session)
        now = self.clock.now()
        if held is not None:
            if not await self._still_free(repo, booking.id, held, now):
                raise BookingError("withdraw_lost")
            self._restore(booking, held)
            booking.status = BookingStatus.confirmed.value
        else:
            booking.status = BookingStatus.cancelled.value
        booking.revision += 1
        booking.updated_at = now
        stop_waiting(booking)
        await session.flush()
        view = to_view(booking)
        await repo.add_revision(booking, "withdrawn", _snapshot(view), actor_id, now)
        await ApprovalRepository(session).close_requests(booking.id, booking.revision, now)
        outcome = Outcome(view)
        if held is not None:
            told = await self._plan(session, view, view)  # as before: the teams hear it stays
            outcome.notices += await self.addenda.notices(session, view.id, view.revision, held, view, told)
        if actor_id != booking.requester_id:
            outcome.notices.append(
                Notice(
                    "booking_withdrawn", booking.requester_id, {"booking_id": view.id, "actor_id": actor_id}
                )
            )
        return outcome

    # ---- the requester's own bookings -------------------------------------------------
    def can_manage(self, user_id: int, department_id: str | None, booking: BookingView) -> bool:
        roles = self.site.roles_of(user_id)
        if roles & {Role.dispatcher, Role.supervisor, Role.manager, Role.admin}:
            return True
        return booking.requester_id == user_id or (
            department_id is not None and booking.department_id == department_id
        )

    async def get(self, session: AsyncSession, booking_id: int) -> BookingView | None:
        booking = await BookingRepository(session).get(booking_id)
        return to_view(booking) if booking else None

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
        return outcome

    async def revisions(self, session: AsyncSession, booking_id: int) -> list[dict[str, Any]]:
        return [
            dict(row.snapshot, event=row.event)
            for row in await BookingRepository(session).revisions(booking_id)
        ]


def is_active(view: BookingView) -> bool:
    return view.status in ACTIVE_STATUSES
