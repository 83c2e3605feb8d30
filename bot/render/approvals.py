"""Requests waiting for approval as text: the request, its reminder and its escalation (each
with Approve / Reject while it waits, and showing what became of it once it does not), the
/approvals list and the state a requester reads in /my (docs/product.md §2).

What each reader sees of a confidential meeting is decided by
:func:`bot.services.visibility.meeting_view` (through :func:`booking_summary`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.notices import Keyboard, RenderContext, Rendered, renderer
from bot.render.booking import (
    approval_callback,
    approval_keyboard,
    booking_summary,
    notice_audience,
    notice_reader,
    person_name,
)
from bot.render.repeat import series_extent
from bot.render.text import Reader, fit_message, user_text
from bot.services.approvals import (
    ESCALATED,
    REMINDED,
    ApprovalState,
    approval_states,
    last_change,
    may_decide,
    request_was_shown,
)
from bot.services.booking import booking_view
from bot.services.series import series_request_dates, series_rules
from bot.services.types import BookingStatus, BookingView, Notice
from bot.services.visibility import Audience, booking_facts, meeting_view
from bot.site import Role
from bot.telegram.callback_data import ApprovalsPageData

PAGE_SIZE = 5
"""Requests per page of /approvals: each has its summary line and a row of buttons."""


def approvals_page_callback(page: int) -> str:
    return ApprovalsPageData(page=page).pack()


SERIES_DATES_SHOWN = 20
"""Dates of a series listed in its approval request; the rest are counted."""


def series_dates_text(reader: Reader, meetings: list[BookingView]) -> str:
    """The dates a series' request decides together (nothing for a booking asked alone)."""
    if len(meetings) < 2:
        return ""
    _ = reader.gettext
    lines = [
        _("🔁 A recurring series: deciding this request decides all {count} meetings:").format(
            count=len(meetings)
        )
    ]
    lines += [
        f"• {reader.short_span(meeting.start, meeting.end)} · {reader.room_name(meeting.room_id)}"
        for meeting in meetings[:SERIES_DATES_SHOWN]
    ]
    if len(meetings) > SERIES_DATES_SHOWN:
        lines.append(_("… and {count} more.").format(count=len(meetings) - SERIES_DATES_SHOWN))
    return "\n" + "\n".join(lines)


async def series_extents(
    reader: Reader, session: AsyncSession, views: Sequence[BookingView]
) -> dict[int, str]:
    """For each request of ``views`` that decides a series: "🔁 12 meetings, every Monday until
    2027-03-01" (the /approvals list shows such a request once, by its first meeting)."""
    rules = await series_rules(session, [view.series_id for view in views if view.series_id is not None])
    extents: dict[int, str] = {}
    for view in views:
        rule = rules.get(view.series_id) if view.series_id is not None else None
        if rule is None:
            continue
        meetings = await series_request_dates(session, view.id)
        if len(meetings) < 2:
            continue  # a meeting asked again on its own
        first, last = (reader.local(meeting.start).date() for meeting in (meetings[0], meetings[-1]))
        extents[view.id] = "🔁 " + series_extent(reader, rule, first, len(meetings), last)
    return extents


# ---- the request and its chasers ------------------------------------------------------------
async def approval_request_text(
    reader: Reader,
    session: AsyncSession,
    view: BookingView,
    *,
    audience: Audience | None = None,
    kind: str = "approval_request",
    state: ApprovalState | None = None,
    pending: bool = True,
    footer: str | None = None,
) -> str:
    """What an approver (or whoever it is escalated to) reads about a request; ``pending``
    False once it no longer waits (the message is then history, ``footer`` says why)."""
    _ = reader.gettext
    requester = await person_name(session, reader.site, view.requester_id)
    since = state.since if state is not None else None
    if pending and kind == "approval_reminder" and since is not None:
        heading = _(
            "⏰ <b>Reminder: approval needed</b> for booking #{number}, requested by {person}; "
            "waiting since {since}."
        ).format(number=view.id, person=requester, since=reader.when(since))
    elif pending and kind == "approval_escalated" and since is not None:
        heading = _(
            "⏫ <b>Escalated: approval needed</b> for booking #{number}, requested by {person}; "
            "waiting since {since}, the approvers were reminded. Please decide it."
        ).format(number=view.id, person=requester, since=reader.when(since))
    else:
        heading = _("📝 <b>Approval needed</b> for booking #{number}, requested by {person}.").format(
            number=view.id, person=requester
        )
    if view.booked_by_id != view.requester_id:
        heading += "\n" + _("Booked by {person}.").format(
            person=await person_name(session, reader.site, view.booked_by_id)
        )
    if pending and view.revision > 1:
        heading += "\n" + _("The booking was changed; this request replaces any earlier one.")
    if pending and view.series_id is not None:
        heading += series_dates_text(reader, await series_request_dates(session, view.id))
    return booking_summary(reader, view, heading=heading, footer=footer, with_status=False, audience=audience)


async def closed_footer(reader: Reader, session: AsyncSession, view: BookingView, revision: int) -> str:
    """What became of the request shown at ``revision``: decided, withdrawn, rejected by
    itself at its start, cancelled, or replaced by a newer request."""
    _ = reader.gettext
    if view.status == BookingStatus.pending:
        return _("✏️ The booking was changed since; a newer request replaces this one.")
    last = await last_change(session, view.id)
    event = last.event if last is not None else ""
    actor = await person_name(session, reader.site, last.actor_id) if last is not None else ""
    if event == "approved":
        return _("✅ Approved by {person}. The requester is told.").format(person=actor)
    if event in ("rejected", "change_rejected"):
        return _("❌ Rejected by {person}. Reason: {reason}").format(
            person=actor, reason=user_text(view.decision_reason or "", 500)
        )
    if event == "withdrawn":
        return _("↩️ Withdrawn by {person}: there is nothing to decide any more.").format(person=actor)
    if event in ("expired", "change_expired"):
        return _("⌛ Still waiting at its start: rejected by itself. The requester is told.")
    if event == "cancelled":
        return _("🚫 Cancelled by {person}: there is nothing to decide any more.").format(person=actor)
    return _("✏️ Changed to a room and layout that need no approval: there is nothing to decide.")


async def closed_request_text(
    reader: Reader, session: AsyncSession, view: BookingView, revision: int, audience: Audience
) -> str:
    """A request message once its request no longer waits: no buttons, and why."""
    footer = await closed_footer(reader, session, view, revision)
    return await approval_request_text(reader, session, view, audience=audience, pending=False, footer=footer)


async def _render_ask(ctx: RenderContext, notice: Notice) -> Rendered | None:
    view = await booking_view(ctx.session, int(notice.params["booking_id"]))
    if view is None:
        return None
    reader = notice_reader(ctx)
    audience = await notice_audience(ctx, notice)
    revision = int(notice.params.get("revision", view.revision))
    if view.status == BookingStatus.pending and view.revision == revision:
        state = (await approval_states(ctx.session, [view.id])).get(view.id)
        text = await approval_request_text(
            reader, ctx.session, view, audience=audience, kind=notice.kind, state=state
        )
        keyboard = approval_keyboard(reader, view) if may_decide(ctx.site, notice.chat_id) else None
        return Rendered(text, keyboard)
    # no longer waiting: a message already shown says what became of it; one not sent yet is
    # not sent at all
    if not await request_was_shown(ctx.session, notice.dedupe_key):
        return None
    return Rendered(await closed_request_text(reader, ctx.session, view, revision, audience))


@renderer("approval_request")
async def render_approval_request(ctx: RenderContext, notice: Notice) -> Rendered | None:
    return await _render_ask(ctx, notice)


@renderer("approval_reminder")
async def render_approval_reminder(ctx: RenderContext, notice: Notice) -> Rendered | None:
    return await _render_ask(ctx, notice)


@renderer("approval_escalated")
async def render_approval_escalated(ctx: RenderContext, notice: Notice) -> Rendered | None:
    return await _render_ask(ctx, notice)


@renderer("booking_withdrawn")
async def render_booking_withdrawn(ctx: RenderContext, notice: Notice) -> Rendered | None:
    """To the requester, when someone else (their department, a dispatcher) withdrew it."""
    view = await booking_view(ctx.session, int(notice.params["booking_id"]))
    if view is None:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    who = await person_name(ctx.session, ctx.site, int(notice.params.get("actor_id", view.booked_by_id)))
    if view.status == BookingStatus.confirmed:
        heading = _("↩️ {person} withdrew the change of your booking #{number}; the booking stays as before:")
    else:
        heading = _("↩️ {person} withdrew your request for booking #{number}.")
    return Rendered(
        booking_summary(reader, view, heading=heading.format(person=who, number=view.id), with_status=False)
    )


# ---- the state, for /my and /approvals ---------------------------------------------------------
def approval_state_line(reader: Reader, state: ApprovalState) -> str:
    """ "Waiting for approval since …", and whether the approvers were reminded or it was escalated."""
    _ = reader.gettext
    if state.since is None:
        return _("⏳ Waiting for approval.")
    parts = [_("⏳ Waiting for approval since {since}.").format(since=reader.when(state.since))]
    if state.stage >= ESCALATED and state.stage_at is not None:
        parts.append(_("Escalated {when}.").format(when=reader.when(state.stage_at)))
    elif state.stage >= REMINDED and state.stage_at is not None:
        parts.append(_("The approvers were reminded {when}.").format(when=reader.when(state.stage_at)))
    return ("" if reader.zh else " ").join(parts)


def _escalation_target(reader: Reader) -> str:
    _ = reader.gettext
    target = reader.site.approvals.escalate_to
    if isinstance(target, tuple):
        return _("the second approver")
    return _("the manager") if target == Role.manager else _("the supervisor")


def approvals_page(
    reader: Reader,
    requests: list[tuple[BookingView, ApprovalState, str]],
    page: int,
    total: int,
    audience: Audience,
    can_decide: bool,
    series: Mapping[int, str] | None = None,
) -> tuple[str, Keyboard]:
    """One page of the requests waiting for approval, longest waiting first: each with its
    line and, for whoever may decide, its Approve / Reject buttons (the request's own).
    ``series``: the extent of each request that decides a series (``series_extents``)."""
    _ = reader.gettext
    if total == 0:
        return _("No request is waiting for approval."), []
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    heading = _("📝 <b>Waiting for approval</b>: {count}, longest waiting first.").format(count=total)
    if pages > 1:
        heading += " " + _("Page {page} of {pages}.").format(page=page + 1, pages=pages)
    lines = [heading]
    keyboard: Keyboard = []
    for view, state, requester in requests:
        title = meeting_view(booking_facts(reader.site, view), audience).title
        shown = user_text(title, 60) if title is not None else _("confidential")
        lines.append(
            f"\n<b>#{view.id}</b> {reader.span(view.start, view.end)} · {reader.room_name(view.room_id)}"
            f" · {shown}\n"
            + (f"{series[view.id]}\n" if series and view.id in series else "")
            + ("" if reader.zh else " ").join(
                (_("Requested by {person}.").format(person=requester), approval_state_line(reader, state))
            )
        )
        if can_decide:
            keyboard.append(
                [
                    {
                        "text": _("✅ Approve #{number}").format(number=view.id),
                        "callback_data": approval_callback(view.id, view.revision, "a"),
                    },
                    {
                        "text": _("❌ Reject #{number}").format(number=view.id),
                        "callback_data": approval_callback(view.id, view.revision, "r"),
                    },
                ]
            )
    if not can_decide:
        lines.append(
            "\n"
            + _("The approvers decide these requests; one left waiting is escalated to {target}.").format(
                target=_escalation_target(reader)
            )
        )
    pager: list[dict[str, str]] = []
    if page > 0:
        pager.append({"text": _("‹ Earlier"), "callback_data": approvals_page_callback(page - 1)})
    pager.append({"text": _("🔄 Refresh"), "callback_data": approvals_page_callback(page)})
    if page + 1 < pages:
        pager.append({"text": _("Later ›"), "callback_data": approvals_page_callback(page + 1)})
    keyboard.append(pager)
    return fit_message("\n".join(lines)), keyboard
