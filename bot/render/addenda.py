"""Digest addenda as text (bot/services/addenda.py): a meeting added, changed or cancelled after
the daily digest that covers its day went out.

An addendum completes the digest, so it is read like the digest, as a report: what it shows of
the meeting is :func:`bot.services.visibility.meeting_view`'s for its reader in a report (a
confidential meeting reads "confidential", whoever gets it). Its room and times are the ones
the change had (kept in the notice); the rest is the booking's when it is sent. A team's copy
lists the team's tasks for the meeting, as its digest would have.
"""

from __future__ import annotations

from typing import Any

from bot.delivery.notices import RenderContext, Rendered, renderer
from bot.render.booking import notice_audience, notice_booking, notice_reader
from bot.render.digest import task_line
from bot.render.errors import status_name
from bot.render.task_changes import addendum_line, field_line
from bot.render.tasks import meeting_line
from bot.render.text import Reader
from bot.services.addenda import ADDENDUM, LateChange, team_tasks_of_meeting
from bot.services.types import BookingView, Notice


async def _team_lines(reader: Reader, ctx: RenderContext, view: BookingView, team_id: str) -> list[str]:
    """The team's tasks for the meeting, as its digest lists them, under the meeting's day."""
    _ = reader.gettext
    items = await team_tasks_of_meeting(ctx.session, view.id, team_id)
    if not items:
        return []
    day = reader.local(view.start).date()
    return [_("Your team's tasks:"), *(task_line(reader, item, day) for item in items)]


def _details(reader: Reader, view: BookingView) -> list[str]:
    _ = reader.gettext
    lines = [
        _("{count} people · reception level {level} · {state}").format(
            count=view.attendees, level=view.reception_level, state=status_name(reader, view.status)
        )
    ]
    if view.services:
        names = ("、" if reader.zh else ", ").join(reader.service_name(s) for s in view.services)
        lines.append(_("Services: {names}").format(names=names))
    else:
        lines.append(_("Services: none"))
    return lines


@renderer(ADDENDUM)
async def render_digest_addendum(ctx: RenderContext, notice: Notice) -> Rendered | None:
    view = await notice_booking(ctx, notice)
    if view is None:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    change = LateChange(str(notice.params["change"]))
    # the room and time the change had: cancelled, the meeting as it was; else as it is now
    slot: dict[str, Any] = notice.params["before" if change == LateChange.cancelled else "after"]
    room, when = reader.room_name(str(slot["room_id"])), reader.when_span(slot["start"], slot["end"])
    if change == LateChange.added:
        head = _("➕ <b>Meeting added</b>: {room} · {when}").format(room=room, when=when)
    elif change == LateChange.changed:
        head = _("🔁 <b>Meeting changed</b>: {room} · {when}").format(room=room, when=when)
    else:
        head = _("🚫 <b>Meeting cancelled</b>: {room} · {when}").format(room=room, when=when)
    audience = (await notice_audience(ctx, notice)).in_report()
    lines = [addendum_line(reader), head, meeting_line(reader, view, audience)]
    if change == LateChange.added:
        lines += _details(reader, view)
    lines += [field_line(reader, field) for field in notice.params.get("fields", [])]
    team_id = notice.params.get("team_id")
    if team_id is not None and change != LateChange.cancelled:
        lines += await _team_lines(reader, ctx, view, str(team_id))
    return Rendered("\n".join(lines))
