"""Recurring bookings (docs/product.md §2): a series is a rule and the bookings it gave.

Every meeting of a series is an ordinary booking (its own tasks, cards, check-in and
revisions), made, changed and cancelled through :class:`BookingService`; this module adds
what a series needs on top: the dates a rule gives and which of them cannot be booked
(``preview``), booking them together (``create``), and changing or cancelling one meeting,
"this and following", or the whole series (``change``, ``cancel``).

A series in rooms that need approval is asked once: the first waiting meeting carries the
request (and its timer, reminders and escalation), the others wait with it, and deciding it
decides them all (bot/services/series_requests.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.approvals import request_notices
from bot.services.booking import (
    BookingChanges,
    BookingError,
    BookingRequest,
    BookingService,
    check_times,
    to_view,
)
from bot.services.clock import Clock
from bot.services.recurrence import Occurrence, RecurrenceError, RecurrenceRule, expand
from bot.services.series_requests import REQUEST_REVISION, series_request_members, wait_with_series
from bot.services.types import BookingStatus, BookingView, Notice, Outcome
from bot.site import SiteConfig
from storage.models import Booking, BookingSeries
from storage.repositories.bookings import BookingRepository
from storage.repositories.series import SeriesRepository

__all__ = [
    "OccurrenceOutcome",
    "OccurrencePlan",
    "RecurrenceError",
    "SeriesOutcome",
    "SeriesScope",
    "SeriesService",
]

_CHANGEABLE = (BookingStatus.pending.value, BookingStatus.confirmed.value)


class SeriesScope(StrEnum):
    """Which meetings of a series a change or cancellation takes."""

    one = "one"
    following = "following"
    all = "all"


@dataclass(frozen=True)
class OccurrencePlan:
    """One meeting a rule gives, and why it cannot be booked as asked (None: it can)."""

    index: int
    start: datetime
    end: datetime
    room_id: str
    problem: str | None = None
    """A ``BookingError`` code: ``slot_taken``, or a rule's (``too_early``, ``too_far`` …)."""
    problem_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SeriesOutcome:
    series_id: int
    bookings: list[BookingView]
    """The meetings booked, in their order."""
    skipped: list[int]
    """The indexes of the meetings not booked: asked to skip, or taken meanwhile."""
    notices: list[Notice]


@dataclass
class OccurrenceOutcome(Outcome):
    """One meeting of a series change or cancellation; ``problem`` (a ``BookingError`` code)
    when it could not take it and was left as it was."""

    problem: str | None = None
    problem_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SeriesPlace:
    """Where a booking stands in its series, for /my: ``index`` 0-based, of ``total``."""

    series_id: int
    index: int
    total: int


class SeriesService:
    def __init__(self, site: SiteConfig, clock: Clock, booking: BookingService) -> None:
        self.site = site
        self.clock = clock
        self.booking = booking

    # ---- the dates ---------------------------------------------------------------------
    def occurrences(self, request: BookingRequest, rule: RecurrenceRule) -> list[Occurrence]:
        """The meetings ``rule`` gives from the first one ``request`` describes; raises
        ``RecurrenceError`` for a rule past the site's bounds or ending before it starts."""
        if request.start.tzinfo is None or request.end.tzinfo is None:
            raise ValueError("booking times must be timezone-aware")
        if request.end <= request.start:
            raise BookingError("end_before_start")
        bounds = self.site.series
        return expand(
            rule,
            request.start,
            request.end,
            self.site.zone,
            self.site.digest.is_working_day,
            horizon_days=bounds.horizon_days,
            max_occurrences=bounds.max_occurrences,
        )

    async def preview(
        self, session: AsyncSession, request: BookingRequest, rule: RecurrenceRule
    ) -> list[OccurrencePlan]:
        """Every meeting of the series, each with the first rule it breaks or ``slot_taken``.

        The room's bookings over the whole series are read in one query and each meeting is
        checked against them here: the confirmation shows the preview each time it is drawn,
        and a query per meeting would be up to a few hundred."""
        now = self.clock.now()
        occurrences = self.occurrences(request, rule)
        room = self.site.room(request.room_id)
        held: Sequence[Booking] = []
        if room is not None and occurrences:
            buffer = self.site.room_class_of(room).buffer
            held = await BookingRepository(session).conflicts(
                request.room_id,
                occurrences[0].start,
                occurrences[-1].end + buffer,
                span_bound=self.booking.span_bound(),
            )
        return [
            self._plan(request, occurrence.index, occurrence.start, occurrence.end, now, held)
            for occurrence in occurrences
        ]

    def _plan(
        self,
        request: BookingRequest,
        index: int,
        start: datetime,
        end: datetime,
        now: datetime,
        held: Sequence[Booking],
    ) -> OccurrencePlan:
        """The meeting checked against the rules and ``held``: the active bookings of its room
        that meet the series' span (what ``BookingRepository.conflicts`` would find for it)."""
        plan = OccurrencePlan(index, start, end, request.room_id)
        try:
            room = self.booking._validate(_at(request, start, end, request.room_id), now)
            blocked_until = end + self.site.room_class_of(room).buffer
            if any(row.start_at < blocked_until and row.blocked_until > start for row in held):
                raise BookingError("slot_taken")
        except BookingError as error:
            return replace(plan, problem=error.code, problem_params=dict(error.params))
        return plan

    async def free_rooms_for(
        self, session: AsyncSession, request: BookingRequest, plan: OccurrencePlan
    ) -> list[str]:
        """The rooms that fit the request and are free for that meeting, smallest first."""
        now = self.clock.now()
        offers = await self.booking.free_rooms(
            session, plan.start, plan.end, request.attendees, request.layout
        )
        rooms = []
        for offer in offers:
            room = self.site.room(offer.room_id)
            if room is None:
                continue
            try:
                check_times(self.site, room, plan.start, plan.end, now)
            except BookingError:
                continue
            rooms.append(offer.room_id)
        return rooms

    # ---- booking a series ----------------------------------------------------------------
    async def create(
        self,
        session: AsyncSession,
        request: BookingRequest,
        rule: RecurrenceRule,
        *,
        rooms: dict[int, str] | None = None,
        skip: set[int] | None = None,
    ) -> SeriesOutcome:
        """Book every meeting of the series not in ``skip``, in ``rooms[index]`` when given.

        A meeting that cannot be booked (taken meanwhile, or a rule it breaks by now) is
        skipped and reported, the others are booked: each check is made before anything of
        that meeting is written, so nothing is left half done. Raises ``BookingError``
        (``series_nothing_booked``) when no meeting at all could be booked.
        """
        occurrences = self.occurrences(request, rule)
        rooms = rooms or {}
        skip = skip or set()
        now = self.clock.now()
        series = await SeriesRepository(session).add(
            BookingSeries(
                rule=rule.to_json(),
                department_id=request.department_id,
                requester_id=request.requester_id,
                booked_by_id=request.booked_by_id,
                occurrences=len(occurrences),
                created_at=now,
            )
        )
        repo = BookingRepository(session)
        booked: list[BookingView] = []
        skipped: list[int] = []
        notices: list[Notice] = []
        waiting: list[int] = []
        for occurrence in occurrences:
            if occurrence.index in skip:
                skipped.append(occurrence.index)
                continue
            room_id = rooms.get(occurrence.index, request.room_id)
            try:
                outcome = await self.booking.create(
                    session,
                    _at(request, occurrence.start, occurrence.end, room_id),
                    series=(series.id, occurrence.index),
                )
            except BookingError:
                skipped.append(occurrence.index)
                continue
            row = await repo.get(outcome.booking.id)
            assert row is not None
            if row.status == BookingStatus.pending:
                # asked once for the series: the first waiting meeting carries the request
                if waiting:
                    wait_with_series(row)
                waiting.append(row.id)
            await session.flush()
            booked.append(to_view(row))
            notices += [
                notice
                for notice in outcome.notices
                if notice.kind != "approval_request" and notice.kind != "booked_on_behalf"
            ]
        if not booked:
            raise BookingError("series_nothing_booked")
        if waiting:
            notices += request_notices(self.site, waiting[0], REQUEST_REVISION)
        if request.booked_by_id != request.requester_id:
            # one notice for the series: how many meetings, the rule, and the dates skipped
            zone = self.site.zone
            notices.append(
                Notice(
                    "booked_on_behalf",
                    request.requester_id,
                    {
                        "booking_id": booked[0].id,
                        "actor_id": request.booked_by_id,
                        "series": len(booked),
                        "rule": rule.to_json(),
                        "last_booking_id": booked[-1].id,
                        "last_day": booked[-1].start.astimezone(zone).date().isoformat(),
                        "skipped": [
                            occurrences[index].start.astimezone(zone).date().isoformat() for index in skipped
                        ],
                    },
                )
            )
        return SeriesOutcome(series.id, booked, skipped, notices)

    # ---- the meetings of a series ----------------------------------------------------------
    async def _in_scope(self, session: AsyncSession, booking_id: int, scope: SeriesScope) -> list[int]:
        """The bookings ``scope`` takes from ``booking_id``: itself alone, or with the later
        (``following``) or all (``all``) meetings of its series not yet started and still on."""
        booking = await BookingRepository(session).get(booking_id)
        if booking is None:
            raise BookingError("not_found")
        if booking.series_id is None or scope is SeriesScope.one:
            return [booking.id]
        from_index = (booking.series_index or 0) if scope is SeriesScope.following else 0
        rows = await SeriesRepository(session).meetings(
            booking.series_id,
            from_index=from_index,
            statuses=_CHANGEABLE,
            starting_after=self.clock.now(),
        )
        return [row.id for row in rows]

    async def cancel(
        self,
        session: AsyncSession,
        booking_id: int,
        actor_id: int,
        scope: SeriesScope,
        *,
        department_id: str | None = None,
    ) -> list[Outcome]:
        """Cancel the meetings of ``scope``; one that cannot be is reported and left as it was.
        Raises ``BookingError`` when the person may not manage the booking at all."""
        await self._check_allowed(session, booking_id, actor_id, department_id)
        outcomes: list[Outcome] = []
        for meeting_id in await self._in_scope(session, booking_id, scope):
            try:
                outcomes.append(await self.booking.cancel(session, meeting_id, actor_id, department_id))
            except BookingError as error:
                if scope is SeriesScope.one:
                    raise
                outcomes.append(await self._left_as_it_was(session, meeting_id, error))
        return outcomes

    async def change(
        self,
        session: AsyncSession,
        booking_id: int,
        actor_id: int,
        changes: BookingChanges,
        scope: SeriesScope,
        *,
        department_id: str | None = None,
    ) -> list[Outcome]:
        """Apply ``changes`` to every meeting of ``scope``. A new start and end are taken as a
        new time of day (and a shift of as many days) for each meeting, as they are for the
        meeting ``booking_id``; the room, attendees, layout and services as they are. A
        meeting the change cannot take (taken, a rule it breaks) is left as it was and
        reported in its :class:`OccurrenceOutcome`."""
        chosen = await self._check_allowed(session, booking_id, actor_id, department_id)
        outcomes: list[Outcome] = []
        for meeting_id in await self._in_scope(session, booking_id, scope):
            view = await self.booking.get(session, meeting_id)
            assert view is not None
            own = replace(changes, **self._moved(chosen, view, changes))
            try:
                outcomes.append(await self.booking.change(session, meeting_id, actor_id, department_id, own))
            except BookingError as error:
                if scope is SeriesScope.one:
                    raise
                outcomes.append(await self._left_as_it_was(session, meeting_id, error))
        return outcomes

    def _moved(self, chosen: BookingView, view: BookingView, changes: BookingChanges) -> dict[str, Any]:
        """The new start and end of ``view`` when ``chosen`` moves as ``changes`` say: the same
        wall-clock time of day, as many days later or earlier, the same length."""
        if changes.start is None and changes.end is None:
            return {}
        zone = self.site.zone
        new_start = (changes.start or chosen.start).astimezone(zone)
        new_end = (changes.end or chosen.end).astimezone(zone)
        days = new_start.date() - chosen.start.astimezone(zone).date()
        length = new_end.replace(tzinfo=None) - new_start.replace(tzinfo=None)
        day = view.start.astimezone(zone).date() + days
        start = datetime.combine(day, new_start.time().replace(tzinfo=None), zone)
        end = (start.replace(tzinfo=None) + length).replace(tzinfo=zone)
        return {"start": start, "end": end}

    async def _check_allowed(
        self, session: AsyncSession, booking_id: int, actor_id: int, department_id: str | None
    ) -> BookingView:
        view = await self.booking.get(session, booking_id)
        if view is None:
            raise BookingError("not_found")
        if not self.booking.can_manage(actor_id, department_id, view):
            raise BookingError("not_allowed")
        return view

    async def _left_as_it_was(
        self, session: AsyncSession, booking_id: int, error: BookingError
    ) -> OccurrenceOutcome:
        view = await self.booking.get(session, booking_id)
        assert view is not None
        return OccurrenceOutcome(view, problem=error.code, problem_params=dict(error.params))

    # ---- what /my shows ----------------------------------------------------------------------
    async def places(self, session: AsyncSession, views: list[BookingView]) -> dict[int, SeriesPlace]:
        """Each booking of ``views`` that is a meeting of a series: its place ("3/12")."""
        return await series_places(session, views)

    async def request_dates(self, session: AsyncSession, booking_id: int) -> list[BookingView]:
        """The meetings a series' approval request decides together (for the approver's
        message); empty for a booking asked on its own."""
        return await series_request_dates(session, booking_id)


async def series_places(session: AsyncSession, views: list[BookingView]) -> dict[int, SeriesPlace]:
    """Each booking of ``views`` that is a meeting of a series: its place ("3/12")."""
    series_ids = [view.series_id for view in views if view.series_id is not None]
    rows = await SeriesRepository(session).of_ids(series_ids)
    return {
        view.id: SeriesPlace(view.series_id, view.series_index or 0, rows[view.series_id].occurrences)
        for view in views
        if view.series_id is not None and view.series_id in rows
    }


async def series_rules(session: AsyncSession, series_ids: Sequence[int]) -> dict[int, RecurrenceRule]:
    """The rule of each series of ``series_ids`` (for the /approvals line of a series)."""
    rows = await SeriesRepository(session).of_ids(series_ids)
    return {series_id: RecurrenceRule.from_json(row.rule) for series_id, row in rows.items()}


async def series_request_dates(session: AsyncSession, booking_id: int) -> list[BookingView]:
    """The meetings a series' approval request decides together, in their order (for the
    approver's message); empty for a booking asked on its own."""
    return [to_view(row) for row in await series_request_members(session, booking_id)]


def _at(request: BookingRequest, start: datetime, end: datetime, room_id: str) -> BookingRequest:
    return replace(request, start=start, end=end, room_id=room_id)
