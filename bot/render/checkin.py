"""Check-in (docs/product.md §2): the Check in prompt (and, once someone checked in or said the
meeting runs late, the prompt saying who, without buttons), the organiser's no-show notice,
the answers to a press or a door's QR code, and the check-in line of /my, in the reader's
language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.notices import Keyboard, RenderContext, Rendered, renderer
from bot.render.booking import notice_audience, notice_booking, notice_reader, person_name
from bot.render.tasks import meeting_line
from bot.render.text import Reader
from bot.services.checkin import (
    CHECKED_IN,
    LATE,
    CheckInAnswer,
    CheckInRecord,
    checkin_records,
    prompt_was_shown,
    release_deadline,
)
from bot.services.types import BookingStatus, BookingView, Notice
from bot.telegram.callback_data import CheckInData


def checkin_keyboard(reader: Reader, booking_id: int) -> Keyboard:
    _ = reader.gettext
    return [
        [
            {
                "text": _("✅ Check in"),
                "callback_data": CheckInData(booking_id=booking_id, action="i").pack(),
            },
            {
                "text": _("⏳ We are running late"),
                "callback_data": CheckInData(booking_id=booking_id, action="l").pack(),
            },
        ]
    ]


def _deadline(reader: Reader, view: BookingView) -> datetime | None:
    return release_deadline(reader.site, view.room_id, view.start, view.end, view.confidential)


@renderer("checkin_prompt")
async def render_checkin_prompt(ctx: RenderContext, notice: Notice) -> Rendered | None:
    view = await notice_booking(ctx, notice)
    if view is None or view.status not in (BookingStatus.confirmed, BookingStatus.in_progress):
        return None  # cancelled, changed to pending or released before it went out: nothing to ask
    reader = notice_reader(ctx)
    _ = reader.gettext
    lines = [
        _("🔔 <b>Check in</b>: booking #{number}, {room} · {when}").format(
            number=view.id, room=reader.room_name(view.room_id), when=reader.when_span(view.start, view.end)
        ),
        meeting_line(reader, view, await notice_audience(ctx, notice)),
    ]
    record = (await checkin_records(ctx.session, ctx.site, [view.id])).get(view.id)
    if record is not None and record.state in (CHECKED_IN, LATE):
        # someone already did: a prompt shown says who, without buttons; one not sent yet is not sent
        if not await prompt_was_shown(ctx.session, notice.dedupe_key):
            return None
        name = await person_name(ctx.session, ctx.site, record.by) if record.by is not None else "?"
        return Rendered("\n".join([*lines, checkin_state_line(reader, record, name)]))
    deadline = _deadline(reader, view)
    if deadline is not None:
        lines.append(
            _(
                "Press Check in when you are there. If nobody checks in or says you are running late "
                "by {deadline}, the room is released and the teams' tasks are cancelled."
            ).format(deadline=reader.time(deadline))
        )
    return Rendered("\n".join(lines), checkin_keyboard(reader, view.id))


@renderer("booking_no_show")
async def render_booking_no_show(ctx: RenderContext, notice: Notice) -> Rendered | None:
    view = await notice_booking(ctx, notice)
    if view is None:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    deadline = notice.params.get("deadline")
    when = reader.time(deadline) if isinstance(deadline, datetime) else reader.time(view.start)
    return Rendered(
        "\n".join(
            [
                _("🚫 <b>Booking #{number} released</b>: {room} · {when}").format(
                    number=view.id,
                    room=reader.room_name(view.room_id),
                    when=reader.when_span(view.start, view.end),
                ),
                meeting_line(reader, view, await notice_audience(ctx, notice)),
                _(
                    "Nobody checked in or said the meeting was running late by {deadline}, so it was "
                    "recorded as a no-show: the room is free again and the teams' tasks were cancelled."
                ).format(deadline=when),
            ]
        )
    )


def checkin_state_line(reader: Reader, record: CheckInRecord, name: str | None = None) -> str:
    """What became of a meeting's check-in, in one line (``name``: who did it, escaped)."""
    _ = reader.gettext
    time = reader.time(record.at) if record.at is not None else "?"
    if record.state == CHECKED_IN:
        return _("✅ Checked in by {person} at {time}.").format(person=name or "?", time=time)
    if record.state == LATE:
        return _("⏳ {person} said at {time} that the meeting is running late.").format(
            person=name or "?", time=time
        )
    return _("🚫 Released as a no-show at {time}: nobody had checked in.").format(time=time)


async def checkin_lines(reader: Reader, session: AsyncSession, views: list[BookingView]) -> dict[int, str]:
    """The check-in line of each of these bookings that has one (/my): checked in, running
    late, or released as a no-show."""
    records = await checkin_records(session, reader.site, [view.id for view in views])
    lines: dict[int, str] = {}
    for booking_id, record in records.items():
        name = await person_name(session, reader.site, record.by) if record.by is not None else None
        lines[booking_id] = checkin_state_line(reader, record, name)
    return lines


def checkin_answer(reader: Reader, answer: CheckInAnswer, name: str | None = None) -> str:
    """What the person who pressed (or opened the link) is told."""
    _ = reader.gettext
    number = answer.booking_id
    match answer.code:
        case "checked_in":
            return _("✅ Checked in to booking #{number}. The room stays yours.").format(number=number)
        case "late":
            return _("⏳ Noted: booking #{number} is running late. The room stays yours.").format(
                number=number
            )
        case "already_checked_in":
            return _("Booking #{number} was already checked in to by {person}.").format(
                number=number, person=name or "?"
            )
        case "already_late":
            return _("{person} already said booking #{number} is running late; the room stays yours.").format(
                number=number, person=name or "?"
            )
        case "released":
            return _(
                "Booking #{number} was already released as a no-show: nobody had checked in by {time}."
            ).format(number=number, time=reader.time(answer.at) if answer.at else "?")
        case "too_early":
            return _("Check-in for booking #{number} opens at {time}.").format(
                number=number, time=reader.time(answer.at) if answer.at else "?"
            )
        case "not_allowed":
            return _(
                "Only the organiser, the members of the booking's department and the dispatchers can "
                "check in to booking #{number}. Nothing was changed."
            ).format(number=number)
        case "not_found":
            return _("Booking #{number} was not found.").format(number=number)
        case _:
            return _("Booking #{number} is not on now, so there is nothing to check in to.").format(
                number=number
            )
