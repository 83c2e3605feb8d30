"""Bookings as text: the shared summary, and the notices the booking service emits."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.notices import Keyboard, RenderContext, Rendered, renderer
from bot.render.errors import status_name
from bot.render.repeat import on_behalf_series_text
from bot.render.text import SAFE_LIMIT, Reader, fit_message, user_text
from bot.services.booking import booking_view
from bot.services.people import known_name
from bot.services.types import BookingStatus, BookingView, Notice
from bot.services.visibility import Audience, audience_of_chat, booking_facts, meeting_view
from bot.site import DetailKind, SiteConfig
from bot.telegram.callback_data import ApprovalData

STATUS_ICONS = {
    BookingStatus.pending: "⏳",
    BookingStatus.confirmed: "✅",
    BookingStatus.in_progress: "▶️",
    BookingStatus.finished: "☑️",
    BookingStatus.rejected: "❌",
    BookingStatus.cancelled: "🚫",
    BookingStatus.no_show: "🈳",
}

# How much of each typed text a summary shows; the second set is used when the first is
# still too long for one Telegram message.
_ROOMY = {"title": 200, "name": 100, "notes": 800, "detail": 300}
_TIGHT = {"title": 120, "name": 60, "notes": 200, "detail": 60}


def approval_callback(booking_id: int, revision: int, decision: Literal["a", "r"]) -> str:
    """Approval button data: the booking and the revision the approver is shown."""
    return ApprovalData(booking_id=booking_id, revision=revision, decision=decision).pack()


def _services_lines(reader: Reader, services: dict[str, dict[str, Any]], limit: int) -> list[str]:
    lines = []
    for service_id, details in services.items():
        service = reader.site.service(service_id)
        name = reader.service_name(service_id)
        parts = []
        if service is not None:
            for detail in service.details:
                value = details.get(detail.key)
                if value in (None, ""):
                    continue
                label = escape(detail.label.get(reader.language))
                shown = str(value) if detail.kind == DetailKind.number else user_text(str(value), limit)
                parts.append(f"{label}: {shown}")
        lines.append(f" • {name}" + (f" — {'; '.join(parts)}" if parts else ""))
    return lines


class _MarkedLines(list[str]):
    """Summary lines; ``add`` puts the line's mark, if it has one, in front of it."""

    def __init__(self, marks: Mapping[str, str]) -> None:
        super().__init__()
        self.marks = marks

    def add(self, key: str, line: str) -> None:
        mark = self.marks.get(key)
        self.append(f"{mark} {line}" if mark else line)


def _summary(
    reader: Reader,
    view: BookingView,
    limits: dict[str, int],
    audience: Audience,
    with_status: bool,
    marks: Mapping[str, str] | None = None,
) -> str:
    _ = reader.gettext
    room = reader.site.room(view.room_id)
    visible = meeting_view(booking_facts(reader.site, view), audience)
    lines = _MarkedLines(marks or {})
    if visible.title is None:
        if view.confidential:
            lines.append(_("Title: {title}").format(title=_("(confidential)")))
    else:
        lines.add(
            "title", _("Title: {title}").format(title=f"<b>{user_text(visible.title, limits['title'])}</b>")
        )
    if visible.department_id is not None:
        lines.add(
            "unit", _("Organising unit: {unit}").format(unit=reader.department_name(visible.department_id))
        )
    lines.add("time", _("Time: {when}").format(when=reader.span(view.start, view.end)))
    if room is not None:
        lines.add(
            "room",
            _("Room: {room} (class {room_class}, floor {floor}, up to {capacity} people)").format(
                room=reader.room_name(room.id),
                room_class=room.room_class,
                floor=room.floor,
                capacity=room.capacity,
            ),
        )
    else:
        lines.add("room", _("Room: {room}").format(room=reader.room_name(view.room_id)))
    lines.add("attendees", _("Attendees: {count}").format(count=view.attendees))
    lines.add("layout", _("Layout: {layout}").format(layout=reader.layout_name(view.layout)))
    lines.add("level", _("Reception level: {level}").format(level=view.reception_level))
    lines.add(
        "confidential", _("Confidential: {answer}").format(answer=_("yes") if view.confidential else _("no"))
    )
    if visible.contact_name is not None and visible.contact_phone is not None:
        lines.add(
            "contact",
            _("Contact: {name}, {phone}").format(
                name=user_text(visible.contact_name, limits["name"]),
                phone=user_text(visible.contact_phone, limits["name"]),
            ),
        )
    if visible.services:
        lines.add("services", _("Services:"))
        lines += _services_lines(reader, visible.services, limits["detail"])
    else:
        lines.append(_("Services: none"))
    if visible.notes:
        lines.append(_("Notes: {notes}").format(notes=user_text(visible.notes, limits["notes"])))
    if with_status:
        lines.append(
            _("Status: {status}").format(
                status=f"{STATUS_ICONS.get(view.status, '')} {status_name(reader, view.status)}".strip()
            )
        )
        if view.status == BookingStatus.rejected and view.decision_reason:
            lines.append(
                _("Reason: {reason}").format(reason=user_text(view.decision_reason, limits["notes"]))
            )
    return "\n".join(lines)


def booking_summary(
    reader: Reader,
    view: BookingView,
    *,
    heading: str | None = None,
    footer: str | None = None,
    audience: Audience | None = None,
    with_status: bool = True,
    limit: int = SAFE_LIMIT,
    marks: Mapping[str, str] | None = None,
) -> str:
    """The booking as the service notice lists it, escaped, in the reader's language and zone.

    ``audience`` is who reads it (:func:`bot.services.visibility.meeting_view` decides what
    they see); None: the booking's own department, which sees it all (the requester, and
    those who act for them: the dispatcher who books it, the approver who decides it).
    ``heading`` and ``footer`` are HTML the caller has already escaped. The result is at most
    ``limit`` characters, so that it fits one Telegram message with what the caller adds.
    ``marks`` puts a sign before some lines (keys: title, unit, time, room, attendees, layout,
    level, confidential, contact, services), e.g. ✓ for what was read from a typed request.
    """
    extra = len(heading or "") + len(footer or "") + 4
    reading = audience if audience is not None else Audience.organiser(view.department_id)
    for limits in (_ROOMY, _TIGHT):
        body = _summary(reader, view, limits, reading, with_status, marks)
        if len(body) + extra <= limit:
            break
    text = "\n\n".join(part for part in (heading, body, footer) if part)
    return fit_message(text, limit)


def booking_line(reader: Reader, view: BookingView, audience: Audience | None = None) -> str:
    """One line for a list: number, time, room, status and the title (when ``audience``, by
    default the booking's own department, may see it)."""
    icon = STATUS_ICONS.get(view.status, "")
    reading = audience if audience is not None else Audience.organiser(view.department_id)
    title = meeting_view(booking_facts(reader.site, view), reading).title
    shown = user_text(title, 60) if title is not None else reader.gettext("confidential")
    return (
        f"{icon} <b>#{view.id}</b> {reader.short_span(view.start, view.end)} · "
        f"{reader.room_name(view.room_id)} · {shown}"
    )


def booking_heading(reader: Reader, view: BookingView) -> str:
    _ = reader.gettext
    return _("<b>Booking #{number}</b>").format(number=view.id)


async def person_name(session: AsyncSession, site: SiteConfig, user_id: int) -> str:
    """A person's name for a message (escaped): the site file's name, else their Telegram name."""
    name = await known_name(session, site, user_id)
    return escape(name) if name is not None else str(user_id)


def notice_reader(ctx: RenderContext) -> Reader:
    """The reader a notice is rendered for, reading it now (a re-render, an edit, reads anew)."""
    return Reader(ctx.i18n, ctx.language, ctx.site, ctx.clock.now())


async def notice_audience(ctx: RenderContext, notice: Notice) -> Audience:
    """Who reads the chat a notice goes to: what they may see of a meeting follows from it."""
    return await audience_of_chat(ctx.session, ctx.site, notice.chat_id)


async def notice_booking(ctx: RenderContext, notice: Notice) -> BookingView | None:
    """The booking a notice is about (``booking_id``), or None if it is gone."""
    return await booking_view(ctx.session, int(notice.params["booking_id"]))


async def _actor_name(reader: Reader, ctx: RenderContext, notice: Notice) -> str:
    """Who made the change the notice is about; no actor means the service centre did."""
    _ = reader.gettext
    actor = notice.params.get("actor_id")
    if actor is None:
        return _("the service centre")
    return await person_name(ctx.session, ctx.site, int(actor))


def approval_keyboard(reader: Reader, view: BookingView) -> Keyboard:
    _ = reader.gettext
    return [
        [
            {"text": _("✅ Approve"), "callback_data": approval_callback(view.id, view.revision, "a")},
            {"text": _("❌ Reject"), "callback_data": approval_callback(view.id, view.revision, "r")},
        ]
    ]


@renderer("booking_decided")
async def render_booking_decided(ctx: RenderContext, notice: Notice) -> Rendered | None:
    view = await notice_booking(ctx, notice)
    if view is None:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    change = notice.params.get("change")
    if notice.params.get("expired"):
        # nobody decided it before its start (docs/product.md §2)
        if change == "kept":
            heading = _(
                "⌛ The change of your booking #{number} was not decided before its start, so it is "
                "<b>rejected</b>; the booking stays as before:"
            )
        else:
            heading = _(
                "⌛ Your booking #{number} was still waiting for approval at its start, so it is "
                "<b>rejected</b> by itself."
            )
            if change == "lost":
                heading += "\n" + _("Its old time could not be kept (taken meanwhile, or already past).")
        return Rendered(
            booking_summary(reader, view, heading=heading.format(number=view.id), with_status=False)
        )
    if change == "kept":
        heading = _(
            "❌ The change of your booking #{number} was <b>not approved</b>; the booking stays as before:"
        )
    elif view.status == BookingStatus.rejected:
        heading = _("❌ Your booking #{number} was <b>rejected</b>.")
        if change == "lost":
            heading += "\n" + _("Its old time could not be kept (taken meanwhile, or already past).")
    else:
        heading = _("✅ Your booking #{number} was <b>approved</b>.")
    heading = heading.format(number=view.id)
    series = notice.params.get("series")
    if isinstance(series, int) and series > 1:  # a series asked once is decided at once
        heading += "\n" + _("🔁 This decides all {count} meetings of the series asked together.").format(
            count=series
        )
    if view.decision_reason and (change == "kept" or view.status == BookingStatus.rejected):
        heading += "\n" + _("Reason: {reason}").format(reason=user_text(view.decision_reason, 800))
    return Rendered(booking_summary(reader, view, heading=heading, with_status=False))


@renderer("booking_cancelled")
async def render_booking_cancelled(ctx: RenderContext, notice: Notice) -> Rendered | None:
    view = await notice_booking(ctx, notice)
    if view is None:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    who = await _actor_name(reader, ctx, notice)
    heading = _("🚫 Your booking #{number} was cancelled by {person}.").format(number=view.id, person=who)
    return Rendered(booking_summary(reader, view, heading=heading, with_status=False))


@renderer("booking_changed")
async def render_booking_changed(ctx: RenderContext, notice: Notice) -> Rendered | None:
    view = await notice_booking(ctx, notice)
    if view is None:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    who = await _actor_name(reader, ctx, notice)
    heading = _("✏️ Your booking #{number} was changed by {person}. It is now:").format(
        number=view.id, person=who
    )
    return Rendered(booking_summary(reader, view, heading=heading))


@renderer("booked_on_behalf")
async def render_booked_on_behalf(ctx: RenderContext, notice: Notice) -> Rendered | None:
    view = await notice_booking(ctx, notice)
    if view is None:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    actor = notice.params.get("actor_id", view.booked_by_id)
    who = await person_name(ctx.session, ctx.site, int(actor))
    if "series" not in notice.params:
        heading = _("📌 {person} booked a room for you (booking #{number}).").format(
            person=who, number=view.id
        )
        return Rendered(booking_summary(reader, view, heading=heading))
    # a series: one notice, its first meeting's details, then how far it reaches
    heading = _(
        "📌 {person} booked a recurring series for you (bookings #{first}–#{last}); the first meeting:"
    ).format(person=who, first=view.id, last=notice.params.get("last_booking_id", view.id))
    series = on_behalf_series_text(reader, notice.params, reader.local(view.start).date())
    return Rendered(booking_summary(reader, view, heading=heading, footer=series or None, limit=3000))
