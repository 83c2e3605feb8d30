"""Change notices as text: a meeting's tasks changed, kept or cancelled (old → new), a team
without a group, a message that could not be delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.delivery.notices import RenderContext, Rendered, renderer
from bot.render.booking import notice_audience, notice_booking, notice_reader, person_name
from bot.render.task_words import team_name, template_name
from bot.render.tasks import meeting_line
from bot.render.text import Reader, user_text
from bot.services.dispatch import team_chats
from bot.services.planning import TaskChange
from bot.services.types import Notice


def addendum_line(reader: Reader) -> str:
    """The first line of a change the daily digest no longer carries (bot/services/addenda.py)."""
    return reader.gettext("📎 <b>Addendum</b>: a change after the daily digest")


def slot_text(reader: Reader, slot: Any) -> str:
    """A meeting's room and time as a notice's parameters keep them (``meeting_slot``)."""
    return f"{reader.room_name(str(slot['room_id']))} · {reader.when_span(slot['start'], slot['end'])}"


def _change_line(reader: Reader, change: TaskChange) -> str:
    _ = reader.gettext
    name = template_name(reader.site, change.template_id, reader.language)
    if change.change == "new":
        assert change.new_push is not None
        return _(" • New: {task}, {time}").format(task=name, time=reader.when(change.new_push))
    if change.change == "resumed":
        assert change.new_push is not None
        return _(" • Resumed: {task}, {time}").format(task=name, time=reader.when(change.new_push))
    if change.change == "cancelled":
        assert change.old_push is not None
        return _(" • Cancelled: {task} (was {time})").format(task=name, time=reader.when(change.old_push))
    assert change.old_push is not None and change.new_push is not None
    return _(" • Moved: {task} {old} → {new}").format(
        task=name, old=reader.when(change.old_push), new=reader.when(change.new_push)
    )


def field_line(reader: Reader, change: dict[str, Any]) -> str:
    """One changed field of a booking, old → new (``planning.field_changes``)."""
    _ = reader.gettext
    field, old, new = change["field"], change["old"], change["new"]
    if field == "time":
        return _("Time: {old} → {new}").format(old=reader.when_span(*old), new=reader.when_span(*new))
    if field == "room":
        return _("Room: {old} → {new}").format(old=reader.room_name(old), new=reader.room_name(new))
    if field == "attendees":
        return _("Attendees: {old} → {new}").format(old=old, new=new)
    if field == "layout":
        return _("Layout: {old} → {new}").format(old=reader.layout_name(old), new=reader.layout_name(new))
    separator = "、" if reader.zh else ", "
    nothing = _("none")
    return _("Service items: {old} → {new}").format(
        old=separator.join(reader.service_name(s) for s in old) or nothing,
        new=separator.join(reader.service_name(s) for s in new) or nothing,
    )


@renderer("tasks_changed")
async def render_tasks_changed(ctx: RenderContext, notice: Notice) -> Rendered | None:
    view = await notice_booking(ctx, notice)
    if view is None:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    lines = [
        _("🔁 <b>Meeting changed</b>: {room} · {when}").format(
            room=reader.room_name(view.room_id), when=reader.when_span(view.start, view.end)
        ),
        meeting_line(reader, view, await notice_audience(ctx, notice)),
    ]
    lines += [field_line(reader, change) for change in notice.params.get("fields", [])]
    changes: Sequence[TaskChange] = notice.params.get("tasks", [])
    if changes:
        lines.append(_("Your team's tasks:"))
        lines += [_change_line(reader, change) for change in changes]
    else:
        lines.append(_("Your team's tasks keep their times."))
    if notice.params.get("addendum"):
        lines.insert(0, addendum_line(reader))
    return Rendered("\n".join(lines))


@renderer("tasks_kept")
async def render_tasks_kept(ctx: RenderContext, notice: Notice) -> Rendered | None:
    """A change that waited for approval was rejected: the meeting stays as the team knew it."""
    view = await notice_booking(ctx, notice)
    if view is None:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    lines = [
        _("↩️ <b>Change not approved: the meeting stays as before</b>: {room} · {when}").format(
            room=reader.room_name(view.room_id), when=reader.when_span(view.start, view.end)
        ),
        meeting_line(reader, view, await notice_audience(ctx, notice)),
    ]
    changes: Sequence[TaskChange] = notice.params.get("tasks", [])
    if changes:
        lines.append(_("Your team's tasks are back at their times:"))
        lines += [_change_line(reader, change) for change in changes]
    if notice.params.get("addendum"):
        lines.insert(0, addendum_line(reader))
    return Rendered("\n".join(lines))


@renderer("tasks_cancelled")
async def render_tasks_cancelled(ctx: RenderContext, notice: Notice) -> Rendered | None:
    view = await notice_booking(ctx, notice)
    if view is None:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    # the meeting as the team knew it (a row queued before it was kept: the booking now)
    known = notice.params.get("was") or {"room_id": view.room_id, "start": view.start, "end": view.end}
    on_hold = notice.params.get("reason") == "pending"
    if on_hold:
        head = _("⏸ <b>Meeting change waiting for approval</b>, booked now: {meeting}")
    else:
        head = _("🚫 <b>Meeting cancelled</b>: {meeting}")
    lines = [
        head.format(meeting=slot_text(reader, known)),
        meeting_line(reader, view, await notice_audience(ctx, notice)),
    ]
    proposed = notice.params.get("proposed")
    if on_hold and proposed:
        lines.append(_("Proposed: {meeting}").format(meeting=slot_text(reader, proposed)))
    if notice.params.get("reason") == "rejected":
        lines.append(_("The change was not approved, and its old time could not be kept."))
    if notice.params.get("reason") == "no_show":
        lines.append(_("Nobody checked in to the meeting in time, so its room was released (a no-show)."))
    changes: Sequence[TaskChange] = notice.params.get("tasks", [])
    if changes:
        if on_hold:
            lines.append(_("Your team's tasks for it are on hold until the approver decides:"))
        else:
            lines.append(_("Your team's tasks for it are cancelled:"))
        lines += [
            f" • {template_name(ctx.site, c.template_id, reader.language)} ({reader.when(c.old_push)})"
            for c in changes
            if c.old_push is not None
        ]
    if on_hold:
        lines.append(_("You will be told when it is decided: the new times, or the meeting as before."))
    if notice.params.get("addendum"):
        lines.insert(0, addendum_line(reader))
    return Rendered("\n".join(lines))


@renderer("team_unbound")
async def render_team_unbound(ctx: RenderContext, notice: Notice) -> Rendered | None:
    reader = notice_reader(ctx)
    _ = reader.gettext
    team_id = str(notice.params["team_id"])
    return Rendered(
        _(
            "⚠️ The team {team} has no group, so its tasks cannot be posted (first: task #{number}). "
            "An admin can add the bot to the team's group and send /bind {team_id} there."
        ).format(
            team=team_name(ctx.site, team_id, reader.language),
            number=notice.params["task_id"],
            team_id=team_id,
        )
    )


@renderer("delivery_failed")
async def render_delivery_failed(ctx: RenderContext, notice: Notice) -> Rendered | None:
    reader = notice_reader(ctx)
    _ = reader.gettext
    chat_id = int(notice.params["chat_id"])
    chats = await team_chats(ctx.session, ctx.site)
    team = next((team_id for team_id, chat in chats.items() if chat == chat_id), None)
    if team is not None:
        where = _("the group of {team}").format(team=team_name(ctx.site, team, reader.language))
    else:
        where = await person_name(ctx.session, ctx.site, chat_id) if chat_id > 0 else str(chat_id)
    return Rendered(
        _(
            "⚠️ Messages to {where} cannot be delivered ({error}). Was the bot removed from the group, "
            "or blocked? Until this is fixed, open tasks there escalate as usual."
        ).format(where=where, error=user_text(str(notice.params.get("error", "")), 200))
    )
