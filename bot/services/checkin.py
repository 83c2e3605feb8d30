"""Check-in and no-show release (docs/product.md §2).

``[checkin] prompt_minutes`` before a meeting's start its organiser and the department's
members get a Check in button; a meeting nobody checked in to, and nobody said is running
late, by its start plus its class's release time becomes a no-show: the room is free again,
its open tasks are cancelled and their teams told, the organiser told why. The state is in the
booking's row (``checkin_state``); every step is a conditional update naming the state it
read, so two presses at once, a press at the release instant, a restart or a second instance
each give exactly one outcome. Once someone checks in (or says the meeting runs late), the
prompts the others got are shown again saying who did it, without buttons: nobody presses a
button that no longer means anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.booking import BookingService
from bot.services.types import BookingStatus, Notice
from bot.site import Role, SiteConfig
from storage.models import Booking
from storage.repositories.checkin import NOT_YET, PROMPT_NOTICE, CheckInRepository, prompt_key

PROMPTED = "prompted"
CHECKED_IN = "checked_in"
LATE = "late"
RELEASED = "released"
DUE_BATCH = 200
"""Meetings looked at per transaction by the clock job."""
MAX_PROMPTED = 30
"""People a meeting's Check in button goes to at most: the requester first, then the
department's members (the site file's, then those who joined by invite)."""
_WATCHED = (BookingStatus.confirmed, BookingStatus.in_progress)


def release_deadline(
    site: SiteConfig, room_id: str, start: datetime, end: datetime, confidential: bool
) -> datetime | None:
    """When a meeting nobody checked in to is released; None when it never is (check-in off,
    its room or class off, a confidential meeting the site keeps, or a meeting that ends before)."""
    checkin = site.checkin
    room = site.room(room_id)
    if not checkin.enabled or room is None:
        return None
    if room.id in checkin.off_rooms or room.room_class in checkin.off_classes:
        return None
    if confidential and not checkin.release_confidential:
        return None
    deadline = start + checkin.release_after(room.room_class)
    return deadline if deadline < end else None


def deadline_of(site: SiteConfig, booking: Booking) -> datetime | None:
    return release_deadline(site, booking.room_id, booking.start_at, booking.end_at, booking.confidential)


def skipped_rooms(site: SiteConfig) -> set[str]:
    """Rooms whose meetings are never released, for the queries to leave out."""
    checkin = site.checkin
    return {
        room.id
        for room in site.rooms
        if room.id in checkin.off_rooms or room.room_class in checkin.off_classes
    }


def may_check_in(site: SiteConfig, user_id: int, department_id: str | None, booking: Booking) -> bool:
    """The requester, whoever booked it, the members of its department, the dispatchers."""
    if Role.dispatcher in site.roles_of(user_id):
        return True
    return user_id in (booking.requester_id, booking.booked_by_id) or (
        department_id is not None and department_id == booking.department_id
    )


@dataclass(frozen=True)
class PromptEdit:
    """A Check in prompt someone else was shown, to be shown again as the check-in is now."""

    notice: Notice
    edit_of: int
    """The outbox row of the prompt's message."""


@dataclass(frozen=True)
class CheckInAnswer:
    """What became of a press (or a /start link): ``code`` picks the sentence."""

    code: str
    booking_id: int
    at: datetime | None = None
    by: int | None = None
    prompt_edits: tuple[PromptEdit, ...] = ()
    """The other people's prompts to edit, when this press moved the check-in on."""

    @property
    def kept(self) -> bool:
        return self.code in (CHECKED_IN, LATE)


@dataclass
class CheckInRun:
    notices: list[Notice] = field(default_factory=list)
    prompted: int = 0
    released: int = 0


class CheckInService:
    def __init__(self, site: SiteConfig, booking_service: BookingService) -> None:
        self.site = site
        self.bookings = booking_service
        self.clock = booking_service.clock

    # ---- a person checks in ---------------------------------------------------------------
    async def check_in(
        self,
        session: AsyncSession,
        booking_id: int,
        user_id: int,
        department_id: str | None,
        late: bool = False,
        answered_in: int | None = None,
    ) -> CheckInAnswer:
        """Check in (or say the meeting runs late) for ``user_id``; refused without a change
        when they may not, when it is too early, or when the meeting is no longer on.

        ``answered_in``: the chat whose prompt the press came from, whose message the handler
        shows the answer in itself; every other prompt of the meeting is edited."""
        repo = CheckInRepository(session)
        booking = await session.get(Booking, booking_id)
        if booking is None:
            return CheckInAnswer("not_found", booking_id)
        await session.refresh(booking)
        if not may_check_in(self.site, user_id, department_id, booking):
            return CheckInAnswer("not_allowed", booking_id)
        now = self.clock.now()
        if booking.status == BookingStatus.no_show:
            return CheckInAnswer(RELEASED, booking_id, at=deadline_of(self.site, booking))
        if booking.status not in _WATCHED or booking.end_at <= now:
            return CheckInAnswer("not_on", booking_id)
        opens = booking.start_at - self.site.checkin.prompt_before
        if now < opens:
            return CheckInAnswer("too_early", booking_id, at=opens)
        state, from_states = (LATE, NOT_YET) if late else (CHECKED_IN, (*NOT_YET, LATE))
        if await repo.check_in(booking_id, state, from_states, user_id, now):
            # one edit per prompt and state: a repeated answer queues nothing twice
            edits = tuple(
                PromptEdit(
                    Notice(
                        PROMPT_NOTICE,
                        shown.chat_id,
                        shown.params,
                        dedupe_key=f"checkin-shown:{shown.row_id}:{state}",
                    ),
                    shown.row_id,
                )
                for shown in await repo.shown_prompts(booking_id)
                if shown.chat_id != answered_in
            )
            return CheckInAnswer(state, booking_id, at=now, by=user_id, prompt_edits=edits)
        # someone else moved it first: say what the row holds now
        await session.refresh(booking)
        if booking.status == BookingStatus.no_show:
            return CheckInAnswer(RELEASED, booking_id, at=deadline_of(self.site, booking))
        if booking.checkin_state == CHECKED_IN:
            return CheckInAnswer(
                "already_checked_in", booking_id, at=booking.checked_in_at, by=booking.checked_in_by
            )
        if booking.checkin_state == LATE:
            return CheckInAnswer(
                "already_late", booking_id, at=booking.checked_in_at, by=booking.checked_in_by
            )
        return CheckInAnswer("not_on", booking_id)

    # ---- the clock job ---------------------------------------------------------------------
    async def run(self, session: AsyncSession, limit: int = DUE_BATCH) -> tuple[CheckInRun, int]:
        """Send the Check in buttons that came due and release the meetings whose deadline
        passed, for one batch; the result and how many meetings were looked at."""
        now = self.clock.now()
        result = CheckInRun()
        if not self.site.checkin.enabled:
            return result, 0
        repo = CheckInRepository(session)
        watched = list(
            await repo.watched(
                now,
                now + self.site.checkin.prompt_before,
                skipped_rooms(self.site),
                not self.site.checkin.release_confidential,
                limit,
            )
        )
        for booking in watched:
            deadline = deadline_of(self.site, booking)
            if deadline is None:
                continue
            if deadline <= now:
                outcome = await self.bookings.no_show(session, booking.id, booking.revision, deadline)
                if outcome is not None:
                    result.released += 1
                    result.notices += outcome.notices
            elif booking.checkin_state == "" and await repo.claim_prompt(booking):
                result.prompted += 1
                result.notices += await self._prompts(repo, booking)
        return result, len(watched)

    async def _prompts(self, repo: CheckInRepository, booking: Booking) -> list[Notice]:
        people = [booking.requester_id]
        placed = [person.id for person in self.site.people if person.department == booking.department_id]
        joined = [
            user_id
            for user_id in await repo.department_members(booking.department_id, MAX_PROMPTED * 2)
            if not self.site.placed_by_site(user_id)
        ]
        for person in placed + joined:
            if person not in people:
                people.append(person)
        return [
            Notice(
                "checkin_prompt",
                person,
                {"booking_id": booking.id, "revision": booking.revision},
                dedupe_key=prompt_key(booking.id, booking.revision, person),
            )
            for person in people[:MAX_PROMPTED]
        ]


@dataclass(frozen=True)
class CheckInRecord:
    """What became of a meeting's check-in, for those who read about it (/my, the prompts)."""

    state: str
    """:data:`CHECKED_IN`, :data:`LATE` or :data:`RELEASED`."""
    at: datetime | None
    """When it was checked in, said to run late, or released."""
    by: int | None = None


async def checkin_records(
    session: AsyncSession, site: SiteConfig, booking_ids: list[int]
) -> dict[int, CheckInRecord]:
    """The check-in of each of these bookings that has one to tell (not those still waiting)."""
    records: dict[int, CheckInRecord] = {}
    for booking in await CheckInRepository(session).checkin_of(booking_ids):
        if booking.status == BookingStatus.no_show:
            records[booking.id] = CheckInRecord(RELEASED, deadline_of(site, booking))
        elif booking.checkin_state in (CHECKED_IN, LATE):
            records[booking.id] = CheckInRecord(
                booking.checkin_state, booking.checked_in_at, booking.checked_in_by
            )
    return records


async def prompt_was_shown(session: AsyncSession, dedupe_key: str | None) -> bool:
    """Whether the prompt queued with this key went out (it has a message to edit)."""
    return await CheckInRepository(session).prompt_was_shown(dedupe_key)


async def next_checkin_moment(session: AsyncSession, site: SiteConfig, after: datetime) -> datetime | None:
    """The first prompt or release after ``after`` (for a clock that jumps)."""
    if not site.checkin.enabled:
        return None
    found: list[datetime] = []
    rows = await CheckInRepository(session).upcoming(
        after, skipped_rooms(site), not site.checkin.release_confidential, 50
    )
    for booking in rows:
        deadline = deadline_of(site, booking)
        if deadline is None:
            continue
        prompt = booking.start_at - site.checkin.prompt_before
        found += [
            moment
            for moment in (prompt if booking.checkin_state == "" else None, deadline)
            if moment is not None and moment > after
        ]
    return min(found, default=None)
