"""Tasks as text: the card in a team's group, reminders, escalations, change notices, views.

Every renderer reads the task's current state from the database, so re-rendering a message
(an edit after Done, a cancel, a move) always shows the latest. What a message shows of the
meeting is decided by :func:`bot.services.visibility.meeting_view` for the chat it goes to (a
team's group never sees the title, unit, notes, banner or names of a confidential meeting).
Times are in the site's zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.notices import Keyboard, RenderContext, Rendered, renderer
from bot.render.booking import notice_audience, notice_booking, notice_reader, person_name
from bot.render.text import MESSAGE_LIMIT, Reader, shorten, user_text
from bot.services.booking import to_view
from bot.services.dispatch import OPEN, TaskState, TaskStatus, team_chats
from bot.services.planning import TaskChange
from bot.services.tasks import MeetingTasks, TaskLine
from bot.services.types import BookingView, Notice
from bot.services.visibility import Audience, MeetingView, booking_facts, meeting_view
from bot.site import DetailKind, SiteConfig, TaskKind
from storage.models import Task
from storage.repositories.bookings import BookingRepository
from storage.repositories.tasks import TaskRepository

STATE_ICONS = {
    TaskState.pending: "▫️",
    TaskState.done: "✅",
    TaskState.late: "⏰",
    TaskState.problem: "⚠️",
    TaskState.escalated: "🔺",
    TaskState.skipped: "⏭",
    TaskState.cancelled: "🚫",
    TaskState.sent: "☕",
}
KIND_ICONS = {TaskKind.task: "📋", TaskKind.check: "☑️", TaskKind.reminder: "☕"}


def task_callback(task_id: int, action: str) -> str:
    """Opaque button data of a task in a group: ``t:<task id>:<d|p|o|r:<n>>``."""
    return f"t:{task_id}:{action}"


def escalation_callback(task_id: int, action: str) -> str:
    """Opaque button data of a supervisor's message: ``e:<task id>:<a|d|r|b|m:<user id>>``."""
    return f"e:{task_id}:{action}"


def mention(user_id: int, name: str) -> str:
    """A clickable name that notifies the person; ``name`` must already be escaped."""
    return f'<a href="tg://user?id={user_id}">{name}</a>'


def template_name(site: SiteConfig, template_id: str, language: str) -> str:
    template = next((t for t in site.task_templates if t.id == template_id), None)
    if template is None:
        return escape(template_id)
    if template.name is not None:
        return escape(template.name.get(language))
    return escape(shorten(template.text.get(language).format_map(_Blank()), 30))


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def team_name(site: SiteConfig, team_id: str, language: str) -> str:
    team = site.team(team_id)
    return escape(team.name.get(language)) if team else escape(team_id)


def reason_text(reader: Reader, reason: str | None) -> str:
    _ = reader.gettext
    presets = {
        "preset:equipment": _("Equipment broken"),
        "preset:locked": _("Room locked"),
        "preset:supplies": _("Supplies missing"),
        "preset:staff": _("Not enough staff"),
    }
    if reason is None:
        return ""
    return presets.get(reason) or user_text(reason, 300)


def role_name(reader: Reader, role: str | None) -> str:
    _ = reader.gettext
    return {"supervisor": _("supervisor"), "manager": _("manager")}.get(role or "", escape(role or ""))


def shown(reader: Reader, view: BookingView, audience: Audience) -> MeetingView:
    """What ``audience`` may see of the booking."""
    return meeting_view(booking_facts(reader.site, view), audience)


def placeholders(reader: Reader, view: BookingView, task: Task | None, audience: Audience) -> dict[str, str]:
    """Values of the template placeholders (escaped); title, unit and banner empty when the
    reader may not see them."""
    site = reader.site
    visible = shown(reader, view, audience)
    banner = visible.banner
    microphones = (view.services.get("microphones") or {}).get("count")
    if microphones in (None, "") and "microphones" in view.services:
        service = site.service("microphones")
        detail = next((d for d in service.details if d.kind == DetailKind.number), None) if service else None
        microphones = detail.default if detail else ""
    return {
        "room": reader.room_name(view.room_id),
        "date": reader.day(reader.local(view.start).date()),
        "start": reader.time(view.start),
        "end": reader.time(view.end),
        "attendees": str(view.attendees),
        "title": user_text(visible.title, 120) if visible.title is not None else "",
        "unit": reader.department_name(visible.department_id) if visible.department_id else "",
        "level": str(view.reception_level),
        "layout": reader.layout_name(view.layout),
        "banner": user_text(banner, 120) if banner else "",
        "microphones": escape(str(microphones)) if microphones not in (None, "") else "",
        "services": "、".join(reader.service_name(s) for s in view.services)
        if reader.zh
        else ", ".join(reader.service_name(s) for s in view.services),
        "due": reader.time(task.due_at) if task is not None and task.due_at is not None else "",
    }


def task_text(reader: Reader, view: BookingView, task: Task, audience: Audience) -> str:
    template = next((t for t in reader.site.task_templates if t.id == task.template_id), None)
    if template is None:
        return escape(task.template_id)
    # the site's text is escaped first; the values filled in are escaped already
    return escape(template.text.get(reader.language), quote=False).format_map(
        placeholders(reader, view, task, audience)
    )


def meeting_line(reader: Reader, view: BookingView, audience: Audience) -> str:
    _ = reader.gettext
    visible = shown(reader, view, audience)
    if visible.title is None or visible.department_id is None:
        return _("🔒 Confidential meeting") if view.confidential else _("Booked")
    return f"{user_text(visible.title, 80)} — {reader.department_name(visible.department_id)}"


async def _task_and_booking(ctx: RenderContext, notice: Notice) -> tuple[Task, BookingView] | None:
    task = await TaskRepository(ctx.session).get(int(notice.params["task_id"]))
    if task is None:
        return None
    booking = await BookingRepository(ctx.session).get(task.booking_id)
    if booking is None:
        return None
    return task, to_view(booking)


def _where(reader: Reader, view: BookingView) -> str:
    return f"📍 {reader.room_name(view.room_id)} · {reader.span(view.start, view.end)}"


async def _add_state(
    reader: Reader, session: AsyncSession, task: Task, view: BookingView, *texts: list[str]
) -> None:
    """Append the task's :func:`state_line` (if any) to each of ``texts``."""
    state = await state_line(reader, session, task, view)
    if state:
        for lines in texts:
            lines.append(state)


async def state_line(reader: Reader, session: AsyncSession, task: Task, view: BookingView) -> str | None:
    """How the task stands, for every message that shows it; None while it simply waits."""
    _ = reader.gettext
    status = TaskStatus(task.status)
    if status == TaskStatus.done and task.confirmed_by_id is not None and task.confirmed_at is not None:
        name = await person_name(session, reader.site, task.confirmed_by_id)
        if task.on_behalf:
            return _("✅ Done — confirmed by {name} on behalf of the team at {time}").format(
                name=name, time=reader.time(task.confirmed_at)
            )
        return _("✅ Done — {name} at {time}").format(name=name, time=reader.time(task.confirmed_at))
    if status == TaskStatus.cancelled:
        if view.status.value in ("cancelled", "rejected"):
            return _("🚫 Cancelled: the meeting was cancelled.")
        if view.status.value == "pending":
            return _("🚫 Cancelled: the meeting is waiting for approval again.")
        return _("🚫 Cancelled: no longer needed after a change of the meeting.")
    if status == TaskStatus.planned and task.pushed_at is None:
        return _("🔁 The meeting was changed: this task will be posted again at {time}.").format(
            time=reader.moment(task.push_at)
        )
    if status == TaskStatus.skipped:
        return _("⏭ Skipped: its time had passed.")
    if status == TaskStatus.problem:
        by = await person_name(session, reader.site, task.problem_by_id) if task.problem_by_id else ""
        return _("⚠️ Problem reported by {name}: {reason}").format(
            name=by, reason=reason_text(reader, task.problem_reason)
        )
    return None


def task_buttons(reader: Reader, task: Task) -> Keyboard | None:
    _ = reader.gettext
    if task.status not in OPEN or not task.needs_confirmation:
        return None
    return [
        [
            {"text": _("✅ Done"), "callback_data": task_callback(task.id, "d")},
            {"text": _("⚠️ Problem"), "callback_data": task_callback(task.id, "p")},
        ]
    ]


@renderer("task_card")
async def render_task_card(ctx: RenderContext, notice: Notice) -> Rendered | None:
    loaded = await _task_and_booking(ctx, notice)
    if loaded is None:
        return None
    task, view = loaded
    reader = notice_reader(ctx)
    _ = reader.gettext
    audience = await notice_audience(ctx, notice)
    icon = KIND_ICONS.get(TaskKind(task.kind), "📋")
    name = template_name(ctx.site, task.template_id, reader.language)
    what = task_text(reader, view, task, audience)
    where = _where(reader, view)
    lines = [
        f"{icon} <b>{name}</b> · {team_name(ctx.site, task.team_id, reader.language)} · #{task.id}",
        where,
    ]
    lines.append(meeting_line(reader, view, audience))
    lines.append(f"👉 {what}")
    short = [f"{icon} <b>{name}</b> #{task.id} · {reader.room_name(view.room_id)} {reader.time(view.start)}"]
    short.append(what)
    if task.due_at is not None and task.needs_confirmation:
        due = _("⏰ Due: {time}").format(time=reader.time(task.due_at))
        lines.append(due)
        short.append(due)
    if task.late and task.pushed_at is not None:
        lines.append(_("⚠️ Posted late (planned for {time}).").format(time=reader.time(task.push_at)))
    if task.assignee_id is not None and task.status in OPEN:
        assignee = mention(task.assignee_id, await person_name(ctx.session, ctx.site, task.assignee_id))
        lines.append(_("👤 Assigned to {name}").format(name=assignee))
    await _add_state(reader, ctx.session, task, view, lines, short)
    return Rendered("\n".join(lines), task_buttons(reader, task), merge_text="\n".join(short))


@renderer("task_reminder")
async def render_task_reminder(ctx: RenderContext, notice: Notice) -> Rendered | None:
    loaded = await _task_and_booking(ctx, notice)
    if loaded is None:
        return None
    task, view = loaded
    reader = notice_reader(ctx)
    _ = reader.gettext
    team = ctx.site.team(task.team_id)
    leader = mention(team.leader, await person_name(ctx.session, ctx.site, team.leader)) if team else ""
    name = template_name(ctx.site, task.template_id, reader.language)
    head = _("⏰ <b>Not confirmed yet</b>: {task} #{number}").format(task=name, number=task.id)
    where = _where(reader, view)
    due = _("It was due at {time}.").format(time=reader.time(task.due_at)) if task.due_at else ""
    ask = _("{leader}, please see to it and press Done.").format(leader=leader) if leader else ""
    what = task_text(reader, view, task, await notice_audience(ctx, notice))
    lines = [head, where, f"👉 {what}", f"{due} {ask}".strip()]
    short = [head + f" · {reader.room_name(view.room_id)} {reader.time(view.start)}", f"{due} {ask}".strip()]
    await _add_state(reader, ctx.session, task, view, lines, short)
    return Rendered("\n".join(lines), task_buttons(reader, task), merge_text="\n".join(short))


@renderer("task_reassigned")
async def render_task_reassigned(ctx: RenderContext, notice: Notice) -> Rendered | None:
    loaded = await _task_and_booking(ctx, notice)
    if loaded is None or loaded[0].assignee_id is None:
        return None
    task, view = loaded
    reader = notice_reader(ctx)
    _ = reader.gettext
    assert task.assignee_id is not None
    assignee = mention(task.assignee_id, await person_name(ctx.session, ctx.site, task.assignee_id))
    name = template_name(ctx.site, task.template_id, reader.language)
    head = _("🔁 {task} #{number} is now assigned to {name}.").format(
        task=name, number=task.id, name=assignee
    )
    lines = [head, _where(reader, view)]
    lines.append(f"👉 {task_text(reader, view, task, await notice_audience(ctx, notice))}")
    await _add_state(reader, ctx.session, task, view, lines)
    return Rendered("\n".join(lines), task_buttons(reader, task), merge_text="\n".join([head, *lines[-1:]]))


def supervisor_buttons(reader: Reader, task: Task) -> Keyboard | None:
    _ = reader.gettext
    if task.status not in OPEN or task.acknowledged_by_id is not None:
        return None
    return [
        [
            {"text": _("👌 Acknowledge"), "callback_data": escalation_callback(task.id, "a")},
            {"text": _("✅ Done on behalf"), "callback_data": escalation_callback(task.id, "d")},
        ],
        [{"text": _("🔁 Reassign to …"), "callback_data": escalation_callback(task.id, "r")}],
    ]


async def _supervisor_body(
    reader: Reader, session: AsyncSession, task: Task, view: BookingView, audience: Audience
) -> list[str]:
    _ = reader.gettext
    site = reader.site
    lines = [
        f"{team_name(site, task.team_id, reader.language)}: "
        f"<b>{template_name(site, task.template_id, reader.language)}</b> #{task.id}",
        _where(reader, view),
        meeting_line(reader, view, audience),
        f"👉 {task_text(reader, view, task, audience)}",
    ]
    if task.due_at is not None:
        lines.append(_("⏰ Due: {time}").format(time=reader.time(task.due_at)))
    if task.assignee_id is not None:
        lines.append(
            _("👤 Assigned to {name}").format(name=await person_name(session, site, task.assignee_id))
        )
    if task.acknowledged_by_id is not None and task.status in OPEN:
        lines.append(
            _("👌 Acknowledged by {name}.").format(
                name=await person_name(session, site, task.acknowledged_by_id)
            )
        )
    return lines


@renderer("task_escalation")
async def render_task_escalation(ctx: RenderContext, notice: Notice) -> Rendered | None:
    loaded = await _task_and_booking(ctx, notice)
    if loaded is None:
        return None
    task, view = loaded
    reader = notice_reader(ctx)
    _ = reader.gettext
    role = str(notice.params.get("role") or "")
    head = _("🔺 <b>Escalation to the {role}</b>: a task is not confirmed").format(
        role=role_name(reader, role)
    )
    audience = await notice_audience(ctx, notice)
    lines = [head, *await _supervisor_body(reader, ctx.session, task, view, audience)]
    if notice.params.get("late"):
        lines.append(_("(This alert comes late: the bot was not running when it was due.)"))
    await _add_state(reader, ctx.session, task, view, lines)
    return Rendered("\n".join(lines), supervisor_buttons(reader, task))


@renderer("task_problem")
async def render_task_problem(ctx: RenderContext, notice: Notice) -> Rendered | None:
    loaded = await _task_and_booking(ctx, notice)
    if loaded is None:
        return None
    task, view = loaded
    reader = notice_reader(ctx)
    _ = reader.gettext
    audience = await notice_audience(ctx, notice)
    body = await _supervisor_body(reader, ctx.session, task, view, audience)
    lines = [_("⚠️ <b>Problem reported</b>"), *body]
    await _add_state(reader, ctx.session, task, view, lines)
    return Rendered("\n".join(lines), supervisor_buttons(reader, task))


# ---------------------------------------------------------------------------- change notices


def _change_line(reader: Reader, change: TaskChange) -> str:
    _ = reader.gettext
    name = template_name(reader.site, change.template_id, reader.language)
    if change.change == "new":
        assert change.new_push is not None
        return _(" • New: {task} at {time}").format(task=name, time=reader.moment(change.new_push))
    if change.change == "cancelled":
        assert change.old_push is not None
        return _(" • Cancelled: {task} (was at {time})").format(
            task=name, time=reader.moment(change.old_push)
        )
    assert change.old_push is not None and change.new_push is not None
    return _(" • Moved: {task} {old} → {new}").format(
        task=name, old=reader.moment(change.old_push), new=reader.moment(change.new_push)
    )


def _field_line(reader: Reader, change: dict[str, Any]) -> str:
    _ = reader.gettext
    field, old, new = change["field"], change["old"], change["new"]
    if field == "time":
        return _("Time: {old} → {new}").format(old=reader.span(*old), new=reader.span(*new))
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
            room=reader.room_name(view.room_id), when=reader.span(view.start, view.end)
        ),
        meeting_line(reader, view, await notice_audience(ctx, notice)),
    ]
    lines += [_field_line(reader, change) for change in notice.params.get("fields", [])]
    changes: Sequence[TaskChange] = notice.params.get("tasks", [])
    if changes:
        lines.append(_("Your team's tasks:"))
        lines += [_change_line(reader, change) for change in changes]
    else:
        lines.append(_("Your team's tasks keep their times."))
    return Rendered("\n".join(lines))


@renderer("tasks_cancelled")
async def render_tasks_cancelled(ctx: RenderContext, notice: Notice) -> Rendered | None:
    view = await notice_booking(ctx, notice)
    if view is None:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    if notice.params.get("reason") == "pending":
        head = _("⏸ <b>Meeting waiting for approval again</b>: {room} · {when}")
    else:
        head = _("🚫 <b>Meeting cancelled</b>: {room} · {when}")
    lines = [
        head.format(room=reader.room_name(view.room_id), when=reader.span(view.start, view.end)),
        meeting_line(reader, view, await notice_audience(ctx, notice)),
    ]
    changes: Sequence[TaskChange] = notice.params.get("tasks", [])
    if changes:
        lines.append(_("Your team's tasks for it are cancelled:"))
        lines += [
            f" • {template_name(ctx.site, c.template_id, reader.language)} ({reader.moment(c.old_push)})"
            for c in changes
            if c.old_push is not None
        ]
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


# ---------------------------------------------------------------------------- views


def split_messages(blocks: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join blocks into as few messages as fit ``limit``; a block too long alone is cut by lines."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        pieces = [block]
        if len(block) > limit:
            pieces, part = [], ""
            for line in block.split("\n"):
                line = line if len(line) <= limit else line[: limit - 1] + "…"
                if part and len(part) + 1 + len(line) > limit:
                    pieces.append(part)
                    part = ""
                part = f"{part}\n{line}" if part else line
            if part:
                pieces.append(part)
        for piece in pieces:
            if current and len(current) + 2 + len(piece) > limit:
                messages.append(current)
                current = ""
            current = f"{current}\n\n{piece}" if current else piece
    if current:
        messages.append(current)
    return messages


async def task_line(reader: Reader, session: AsyncSession, line: TaskLine, with_team: bool) -> str:
    _ = reader.gettext
    site = reader.site
    name = template_name(site, line.template_id, reader.language)
    team = f" · {team_name(site, line.team_id, reader.language)}" if with_team else ""
    text = f"{STATE_ICONS.get(line.state, '▫️')} {name}{team} #{line.task_id}"
    if line.state == TaskState.done and line.confirmed_by_id is not None and line.confirmed_at is not None:
        who = await person_name(session, site, line.confirmed_by_id)
        detail = _("done by {name} at {time}").format(name=who, time=reader.time(line.confirmed_at))
        if line.on_behalf:
            detail += _(" (on behalf)")
    elif line.state == TaskState.problem:
        detail = _("problem: {reason}").format(reason=reason_text(reader, line.problem_reason))
    elif line.state == TaskState.escalated:
        detail = _("escalated to the {role}, due {time}").format(
            role=role_name(reader, line.escalated_to), time=reader.time(line.due_at) if line.due_at else "—"
        )
    elif line.state == TaskState.late:
        detail = _("late, due {time}").format(time=reader.time(line.due_at) if line.due_at else "—")
    elif line.state == TaskState.skipped:
        detail = _("skipped")
    elif line.due_at is not None:
        detail = _("pending, due {time}").format(time=reader.time(line.due_at))
    else:
        detail = _("pending, at {time}").format(time=reader.time(line.push_at))
    return f"{text} — {detail}"


async def meetings_text(
    reader: Reader,
    session: AsyncSession,
    heading: str,
    meetings: Sequence[MeetingTasks],
    *,
    today: date,
    audience: Audience,
    with_team: bool = True,
    empty: str = "",
) -> list[str]:
    """A heading and one block per meeting, split into messages that fit Telegram's limit."""
    blocks = [heading]
    if not meetings and empty:
        blocks.append(empty)
    for meeting in meetings:
        view = meeting.booking
        lines = [
            f"<b>{reader.time(view.start)}–{reader.time(view.end)} · {reader.room_name(view.room_id)}</b>",
            meeting_line(reader, view, audience),
        ]
        if reader.local(view.start).date() != today:
            lines[0] = f"<b>{reader.short_span(view.start, view.end)} · {reader.room_name(view.room_id)}</b>"
        lines += [await task_line(reader, session, line, with_team) for line in meeting.tasks]
        blocks.append("\n".join(lines))
    return split_messages(blocks)
