"""Tasks as text: the card in a team's group, reminders, escalations, change notices, views.

Every renderer reads the task's current state from the database, so re-rendering a message
(an edit after Done, a cancel, a move) always shows the latest. What a message shows of the
meeting is decided by :func:`bot.services.visibility.meeting_view` for the chat it goes to (a
team's group never sees the title, unit, notes, banner or names of a confidential meeting).
Times are in the site's zone, said from the reader's today (:meth:`bot.render.text.Reader.when`).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.notices import Keyboard, RenderContext, Rendered, renderer
from bot.render.booking import notice_audience, notice_booking, notice_reader, person_name
from bot.render.text import MESSAGE_LIMIT, Reader, shorten, user_text
from bot.services.booking import to_view
from bot.services.dispatch import OPEN, TaskState, TaskStatus, task_state, team_chats
from bot.services.meeting_alerts import meeting_alert_tasks
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
    TaskState.missed: "⌛",
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
        "due": reader.when(task.due_at) if task is not None and task.due_at is not None else "",
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
    return f"📍 {reader.room_name(view.room_id)} · {reader.when_span(view.start, view.end)}"


async def _add_state(
    reader: Reader,
    session: AsyncSession,
    task: Task,
    view: BookingView,
    *texts: list[str],
    with_problem: bool = True,
) -> None:
    """Append the task's :func:`state_line` (if any) to each of ``texts``."""
    state = await state_line(reader, session, task, view, with_problem=with_problem)
    if state:
        for lines in texts:
            lines.append(state)


async def state_line(
    reader: Reader, session: AsyncSession, task: Task, view: BookingView, *, with_problem: bool = True
) -> str | None:
    """How the task stands, for every message that shows it; None while it simply waits.
    ``with_problem=False``: the message says the problem already (an escalation's head)."""
    _ = reader.gettext
    status = TaskStatus(task.status)
    if status == TaskStatus.done and task.confirmed_by_id is not None and task.confirmed_at is not None:
        name = await person_name(session, reader.site, task.confirmed_by_id)
        if task.on_behalf:
            return _("✅ Done — confirmed by {name} on behalf of the team, {time}").format(
                name=name, time=reader.when(task.confirmed_at)
            )
        return _("✅ Done — {name}, {time}").format(name=name, time=reader.when(task.confirmed_at))
    if status == TaskStatus.cancelled:
        if view.status.value in ("cancelled", "rejected"):
            return _("🚫 Cancelled: the meeting was cancelled.")
        if view.status.value == "pending":
            return _("🚫 Cancelled: the meeting is waiting for approval again.")
        return _("🚫 Cancelled: no longer needed after a change of the meeting.")
    if status == TaskStatus.planned and task.pushed_at is None:
        return _("🔁 The meeting was changed: this task will be posted again ({time}).").format(
            time=reader.when(task.push_at)
        )
    if status == TaskStatus.skipped:
        return _("⏭ Skipped: its time had passed.")
    if with_problem and status in (TaskStatus.problem, TaskStatus.missed) and task.problem_reason is not None:
        by = await person_name(session, reader.site, task.problem_by_id) if task.problem_by_id else ""
        problem = _("⚠️ Problem reported by {name}: {reason}").format(
            name=by, reason=reason_text(reader, task.problem_reason)
        )
    else:
        problem = None
    if status == TaskStatus.missed:
        closed = task.expires_at or task.updated_at
        missed = _("⌛ Missed: not confirmed before its time ran out ({time}).").format(
            time=reader.when(closed)
        )
        return missed if problem is None else f"{missed}\n{problem}"
    return problem


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
    short = [f"{icon} <b>{name}</b> #{task.id} · {reader.room_name(view.room_id)} {reader.when(view.start)}"]
    short.append(what)
    if task.due_at is not None and task.needs_confirmation:
        due = _("⏰ Due: {time}").format(time=reader.when(task.due_at))
        lines.append(due)
        short.append(due)
    if task.late and task.pushed_at is not None:
        lines.append(_("⚠️ Posted late (planned for {time}).").format(time=reader.when(task.push_at)))
    if task.assignee_id is not None and task.status in OPEN:
        assignee = mention(task.assignee_id, await person_name(ctx.session, ctx.site, task.assignee_id))
        lines.append(_("👤 Assigned to {name}").format(name=assignee))
    if task.status in OPEN and task.stage >= 1 and task.needs_confirmation:
        # reminded: the card says so itself rather than a second message with a second keyboard
        reminder = await _reminder_line(reader, ctx.session, task, name)
        lines.append(reminder)
        short.append(reminder)
    await _add_state(reader, ctx.session, task, view, lines, short)
    return Rendered("\n".join(lines), task_buttons(reader, task), merge_text="\n".join(short))


async def _reminder_line(reader: Reader, session: AsyncSession, task: Task, name: str) -> str:
    _ = reader.gettext
    team = reader.site.team(task.team_id)
    leader = mention(team.leader, await person_name(session, reader.site, team.leader)) if team else ""
    head = _("⏰ <b>Not confirmed yet</b>: {task} #{number}").format(task=name, number=task.id)
    due = _("It was due by {time}.").format(time=reader.when(task.due_at)) if task.due_at else ""
    ask = _("{leader}, please see to it and press Done.").format(leader=leader) if leader else ""
    return f"{head}\n{due} {ask}".strip()


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
    due = _("It was due by {time}.").format(time=reader.when(task.due_at)) if task.due_at else ""
    ask = _("{leader}, please see to it and press Done.").format(leader=leader) if leader else ""
    what = task_text(reader, view, task, await notice_audience(ctx, notice))
    lines = [head, where, f"👉 {what}", f"{due} {ask}".strip()]
    short = [head + f" · {reader.room_name(view.room_id)} {reader.when(view.start)}", f"{due} {ask}".strip()]
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
    # no buttons: the task's card keeps its only keyboard in the group (docs/product.md §4)
    return Rendered("\n".join(lines), merge_text="\n".join([head, *lines[-1:]]))


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
        lines.append(_("⏰ Due: {time}").format(time=reader.when(task.due_at)))
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
    if task.problem_reason is not None:
        # what happened: a problem, reported before or after the due time, not a silence
        by = await person_name(ctx.session, ctx.site, task.problem_by_id) if task.problem_by_id else ""
        head = _("🔺 <b>Escalation to the {role}</b>: problem reported by {name}: {reason}").format(
            role=role_name(reader, role), name=by, reason=reason_text(reader, task.problem_reason)
        )
    else:
        head = _("🔺 <b>Escalation to the {role}</b>: a task is not confirmed").format(
            role=role_name(reader, role)
        )
    audience = await notice_audience(ctx, notice)
    lines = [head, *await _supervisor_body(reader, ctx.session, task, view, audience)]
    if notice.params.get("late"):
        lines.append(_("(This alert comes late: the bot was not running when it was due.)"))
    await _add_state(reader, ctx.session, task, view, lines, with_problem=task.problem_reason is None)
    return Rendered("\n".join(lines), supervisor_buttons(reader, task))


def _what_happened(reader: Reader, task: Task, reported_by: str) -> str | None:
    """One task of a meeting's escalation: overdue and unconfirmed, or the problem reported."""
    _ = reader.gettext
    if task.status not in OPEN:
        return None
    if task.problem_reason is not None:
        return _("⚠️ Problem reported by {name}: {reason}").format(
            name=reported_by, reason=reason_text(reader, task.problem_reason)
        )
    if task.due_at is not None:
        return _("⏰ Overdue and not confirmed (due {time})").format(time=reader.when(task.due_at))
    return None


def meeting_alert_buttons(
    reader: Reader, booking_id: int, role: str, tasks: Sequence[Task]
) -> Keyboard | None:
    """A row per open task not yet acknowledged (the buttons of the per-task message, same
    data), and one to acknowledge them all when there are several."""
    _ = reader.gettext
    waiting = [t for t in tasks if t.status in OPEN and t.acknowledged_by_id is None]
    rows: Keyboard = [
        [
            {"text": _("👌 #{number}").format(number=t.id), "callback_data": escalation_callback(t.id, "a")},
            {"text": _("✅ #{number}").format(number=t.id), "callback_data": escalation_callback(t.id, "d")},
            {"text": _("🔁 #{number}").format(number=t.id), "callback_data": escalation_callback(t.id, "r")},
        ]
        for t in waiting
    ]
    if len(waiting) > 1:
        rows.append(
            [{"text": _("👌 Acknowledge all"), "callback_data": meeting_alert_callback(booking_id, role)}]
        )
    return rows or None


def meeting_alert_callback(booking_id: int, role: str) -> str:
    """Opaque button data of "acknowledge all" on a meeting's escalation: ``g:<booking id>:<role>:a``."""
    return f"g:{booking_id}:{role}:a"


@renderer("meeting_escalation")
async def render_meeting_escalation(ctx: RenderContext, notice: Notice) -> Rendered | None:
    """Every task of one meeting escalated to this person, each with what happened to it."""
    view = await notice_booking(ctx, notice)
    if view is None:
        return None
    role = str(notice.params.get("role") or "")
    tasks = await meeting_alert_tasks(ctx.session, notice.chat_id, role, view.id)
    if not tasks:
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    site = ctx.site
    audience = await notice_audience(ctx, notice)
    waiting = sum(1 for t in tasks if t.status in OPEN and t.acknowledged_by_id is None)
    lines = [
        _("🔺 <b>Escalation to the {role}</b>: {open} of {count} tasks of this meeting need you").format(
            role=role_name(reader, role), open=waiting, count=len(tasks)
        ),
        _where(reader, view),
        meeting_line(reader, view, audience),
    ]
    for task in tasks:
        icon = STATE_ICONS.get(task_state(task, ctx.clock.now()), "▫️")
        head = (
            f"{icon} {team_name(site, task.team_id, reader.language)}: "
            f"<b>{template_name(site, task.template_id, reader.language)}</b> #{task.id}"
        )
        by = await person_name(ctx.session, site, task.problem_by_id) if task.problem_by_id else ""
        happened = _what_happened(reader, task, by)
        lines.append(f"{head} — {happened}" if happened else head)
        if task.assignee_id is not None and task.status in OPEN:
            lines.append(
                _("👤 Assigned to {name}").format(name=await person_name(ctx.session, site, task.assignee_id))
            )
        if task.acknowledged_by_id is not None and task.status in OPEN:
            lines.append(
                _("👌 Acknowledged by {name}.").format(
                    name=await person_name(ctx.session, site, task.acknowledged_by_id)
                )
            )
        state = await state_line(reader, ctx.session, task, view, with_problem=happened is None)
        if state:
            lines.append(state)
    if notice.params.get("late"):
        lines.append(_("(This alert comes late: the bot was not running when it was due.)"))
    text = "\n".join(lines)
    if len(text) > MESSAGE_LIMIT:  # cut between lines: a tag never spans one
        text = text[: text.rfind("\n", 0, MESSAGE_LIMIT - 2)] + "\n…"
    return Rendered(text, meeting_alert_buttons(reader, view.id, role, tasks))


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
        detail = _("done by {name}, {time}").format(name=who, time=reader.when(line.confirmed_at))
        if line.on_behalf:
            detail += _(" (on behalf)")
    elif line.state == TaskState.problem:
        detail = _("problem: {reason}").format(reason=reason_text(reader, line.problem_reason))
    elif line.state == TaskState.escalated:
        detail = _("escalated to the {role}, due {time}").format(
            role=role_name(reader, line.escalated_to), time=reader.when(line.due_at) if line.due_at else "—"
        )
    elif line.state == TaskState.late:
        detail = _("late, due {time}").format(time=reader.when(line.due_at) if line.due_at else "—")
    elif line.state == TaskState.skipped:
        detail = _("skipped")
    elif line.state == TaskState.missed:
        detail = _("missed, due {time}").format(time=reader.when(line.due_at) if line.due_at else "—")
    elif line.due_at is not None:
        detail = _("pending, due {time}").format(time=reader.when(line.due_at))
    else:
        detail = _("not posted yet, {time}").format(time=reader.when(line.push_at))
    return f"{text} — {detail}"


async def meetings_text(
    reader: Reader,
    session: AsyncSession,
    heading: str,
    meetings: Sequence[MeetingTasks],
    *,
    audience: Audience,
    with_team: bool = True,
    empty: str = "",
) -> list[str]:
    """A heading and one block per meeting, split into messages that fit Telegram's limit.

    Times are said from ``reader``'s today (give it a ``now``): a meeting or a done time of
    another day carries its day."""
    blocks = [heading]
    if not meetings and empty:
        blocks.append(empty)
    for meeting in meetings:
        view = meeting.booking
        lines = [
            f"<b>{reader.when_span(view.start, view.end)} · {reader.room_name(view.room_id)}</b>",
            meeting_line(reader, view, audience),
        ]
        lines += [await task_line(reader, session, line, with_team) for line in meeting.tasks]
        blocks.append("\n".join(lines))
    return split_messages(blocks)
