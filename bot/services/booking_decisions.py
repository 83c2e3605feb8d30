"""Deciding a request waiting for approval (docs/product.md §2): approve, reject, withdraw,
end it at its start, and the no-show release; a mixin of ``BookingService``.

A change of a confirmed booking that needs approval again is stored at once with its new
values, waiting for the approver. Its revisions keep the confirmed booking it would replace
(``_held``): approved, the teams are told old → new; rejected, the booking goes back to that
confirmed version when its old time is still ahead and free ("kept as before"), else it is
rejected and the teams hear it is cancelled.

A series asked once for approval (bot/services/series_requests.py) is decided at once:
deciding one of its waiting meetings decides them all.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.addenda import DigestAddenda
from bot.services.approvals import may_decide, stop_waiting
from bot.services.booking_rules import (
    MAX_NOTES,
    THE_BOT,
    BookingError,
    Planner,
    _snapshot,
    from_snapshot,
    to_view,
)
from bot.services.clock import Clock
from bot.services.series_requests import REQUEST_REVISION, carry_on, series_request_members
from bot.services.strict import clean_text
from bot.services.types import BookingStatus, BookingView, Notice, Outcome
from bot.site import SiteConfig
from storage.models import Booking
from storage.repositories.approvals import ApprovalRepository
from storage.repositories.bookings import BookingRepository
from storage.repositories.checkin import CheckInRepository


class BookingDecisions:
    """What ends or keeps a request; ``BookingService`` provides the attributes below."""

    site: SiteConfig
    clock: Clock
    planner: Planner | None
    addenda: DigestAddenda

    def span_bound(self) -> timedelta:
        raise NotImplementedError

    def can_manage(self, user_id: int, department_id: str | None, booking: BookingView) -> bool:
        raise NotImplementedError

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
        # a series asked once is decided at once: lock all its rooms first, in one order
        members = await series_request_members(session, booking_id)
        together = [row.id for row in members]
        for room_id in sorted({row.room_id for row in members}):
            await BookingRepository(session).lock_room(room_id)
        booking, held = await self._lock_request(session, booking_id)
        if booking.status != BookingStatus.pending:
            raise await self.not_waiting(session, booking)
        if revision is not None and booking.revision != revision:
            # the request the approver saw was changed since: a newer request is on its way
            raise BookingError("changed_meanwhile")
        now = self.clock.now()
        if approve and booking.start_at <= now:
            raise BookingError("in_past")
        outcome = await self._conclude(
            session, booking, held, now, approver_id, approve=approve, reason=reason
        )
        decided = 1
        for other_id in together:
            if other_id == booking.id:
                continue
            other, other_held = await self._lock_request(session, other_id)
            if (
                other.status != BookingStatus.pending
                or other.revision != REQUEST_REVISION
                or other.start_at <= now  # left to end by itself at its start
            ):
                continue
            more = await self._conclude(
                session, other, other_held, now, approver_id, approve=approve, reason=reason
            )
            decided += 1
            # the requester hears of the series once, in the first meeting's message
            outcome.notices += [notice for notice in more.notices if notice.kind != "booking_decided"]
        if decided > 1:
            outcome.notices = [
                replace(notice, params={**notice.params, "series": decided})
                if notice.kind == "booking_decided"
                else notice
                for notice in outcome.notices
            ]
        return outcome

    async def expire(self, session: AsyncSession, booking_id: int, revision: int) -> Outcome | None:
        """A request still pending at its start is rejected by itself (a change waiting for
        approval: the booking stays as it was, if it still can); None when it was decided,
        changed or withdrawn meanwhile."""
        booking, held = await self._lock_request(session, booking_id)
        now = self.clock.now()
        if booking.status != BookingStatus.pending or booking.revision != revision or booking.start_at > now:
            return None
        outcome = await self._conclude(session, booking, held, now, None, approve=False, expired=True)
        outcome.notices += await carry_on(session, self.site, booking.series_id, now)
        return outcome

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
        outcome.notices += await carry_on(session, self.site, booking.series_id, now)
        return outcome
