"""Escalations as text: the supervisor's and the manager's message about a meeting (one per
meeting and person, edited as its tasks change: docs/product.md §4), and the older per-task
alert and problem messages still rendered for rows queued before it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.notices import Keyboard, RenderContext, Rendered, renderer
from bot.render.booking import notice_audience, notice_booking, notice_reader, person_name
from bot.render.readiness import readiness_lines
from bot.render.task_words import reason_text, role_name, team_name, template_name
from bot.render.tasks import (
    STATE_ICONS,
    add_state,
    meeting_line,
    state_line,
    task_and_booking,
    task_text,
    where_line,
)
from bot.render.text import MESSAGE_LIMIT, Reader
from bot.services.dispatch import OPEN, TaskStatus, task_state
from bot.services.meeting_alerts import meeting_alert_tasks
from bot.services.readiness import meeting_readiness
from bot.services.types import BookingView, Notice
from bot.services.visibility import Audience
from bot.telegram.callback_data import EscalationData, MeetingAlertData
from storage.models import Task, TaskEvent


def supervisor_buttons(reader: Reader, task: Task) -> Keyboard | None:
    _ = reader.gettext
    if task.status not in OPEN or task.acknowledged_by_id is not None:
        return None
    return [
        [
            {
                "text": _("👌 Acknowledge"),
                "callback_data": EscalationData(task_id=task.id, action="a").pack(),
            },
            {
                "text": _("✅ Done on behalf"),
                "callback_data": EscalationData(task_id=task.id, action="d").pack(),
            },
        ],
        [
            {
                "text": _("🔁 Reassign to …"),
                "callback_data": EscalationData(task_id=task.id, action="r").pack(),
            }
        ],
    ]


async def _supervisor_body(
    reader: Reader, session: AsyncSession, task: Task, view: BookingView, audience: Audience
) -> list[str]:
    _ = reader.gettext
    site = reader.site
    lines = [
        f"{team_name(site, task.team_id, reader.language)}: "
        f"<b>{template_name(site, task.template_id, reader.language)}</b> #{task.id}",
        where_line(reader, view),
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
    loaded = await task_and_booking(ctx, notice)
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
    await add_state(reader, ctx.session, task, view, lines, with_problem=task.problem_reason is None)
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
            {
                "text": _("👌 #{number}").format(number=t.id),
                "callback_data": EscalationData(task_id=t.id, action="a").pack(),
            },
            {
                "text": _("✅ #{number}").format(number=t.id),
                "callback_data": EscalationData(task_id=t.id, action="d").pack(),
            },
            {
                "text": _("🔁 #{number}").format(number=t.id),
                "callback_data": EscalationData(task_id=t.id, action="r").pack(),
            },
        ]
        for t in waiting
    ]
    if len(waiting) > 1:
        rows.append(
            [
                {
                    "text": _("👌 Acknowledge all"),
                    "callback_data": MeetingAlertData(booking_id=booking_id, role=role).pack(),
                }
            ]
        )
    return rows or None


async def _escalated_late(session: AsyncSession, task_ids: Sequence[int], role: str) -> bool:
    """Whether a step of this role for one of these tasks came late (after a downtime): the
    message says so whichever step added the task, not only the one that sent it."""
    details = await session.scalars(
        select(TaskEvent.detail).where(TaskEvent.task_id.in_(task_ids), TaskEvent.kind == "escalated")
    )
    return any(detail.get("late") and detail.get("role") == role for detail in details)


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
    problems = sum(1 for t in tasks if t.status == TaskStatus.problem and t.acknowledged_by_id is None)
    if waiting and problems == waiting:  # a problem reported, nothing overdue: say so
        head = _("⚠️ <b>Problem reported</b> to the {role}: {open} of {count} tasks of this meeting need you")
    else:
        head = _("🔺 <b>Escalation to the {role}</b>: {open} of {count} tasks of this meeting need you")
    lines = [
        head.format(role=role_name(reader, role), open=waiting, count=len(tasks)),
        where_line(reader, view),
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
    if notice.params.get("late") or await _escalated_late(ctx.session, [t.id for t in tasks], role):
        lines.append(_("(This alert comes late: the bot was not running when it was due.)"))
    readiness = await meeting_readiness(ctx.session, site, view.id, ctx.clock.now())
    if view.start > ctx.clock.now():  # before the start, what else stands how
        lines += [
            "",
            *await readiness_lines(reader, ctx.session, readiness, {t.id for t in tasks}, ctx.clock.now()),
        ]
    text = "\n".join(lines)
    if len(text) > MESSAGE_LIMIT:  # cut between lines: a tag never spans one
        text = text[: text.rfind("\n", 0, MESSAGE_LIMIT - 2)] + "\n…"
    return Rendered(text, meeting_alert_buttons(reader, view.id, role, tasks))


@renderer("task_problem")
async def render_task_problem(ctx: RenderContext, notice: Notice) -> Rendered | None:
    loaded = await task_and_booking(ctx, notice)
    if loaded is None:
        return None
    task, view = loaded
    reader = notice_reader(ctx)
    _ = reader.gettext
    audience = await notice_audience(ctx, notice)
    body = await _supervisor_body(reader, ctx.session, task, view, audience)
    lines = [_("⚠️ <b>Problem reported</b>"), *body]
    await add_state(reader, ctx.session, task, view, lines)
    return Rendered("\n".join(lines), supervisor_buttons(reader, task))
