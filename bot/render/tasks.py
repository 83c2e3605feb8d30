"""Tasks as text: the card in a team's group, reminders, escalations, change notices, views.

Every renderer reads the task's current state from the database, so re-rendering a message
(an edit after Done, a cancel, a move) always shows the latest. What a message shows of the
meeting is decided by :func:`bot.services.visibility.meeting_view` for the chat it goes to (a
team's group never sees the title, unit, notes, banner or names of a confidential meeting).
Times are in the site's zone, said from the reader's today (:meth:`bot.render.text.Reader.when`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.notices import Keyboard, RenderContext, Rendered, renderer
from bot.render.booking import notice_audience, notice_reader, person_name
from bot.render.readiness import readiness_lines
from bot.render.task_words import mention, reason_text, role_name, team_name, template_name
from bot.render.text import MESSAGE_LIMIT, Reader, user_text
from bot.services.dispatch import OPEN, TaskState, TaskStatus
from bot.services.people import known_name
from bot.services.readiness import is_readiness_check, meeting_readiness
from bot.services.tasks import MeetingTasks, TaskLine, task_with_booking
from bot.services.types import BookingView, Notice
from bot.services.visibility import Audience, MeetingView, booking_facts, meeting_view
from bot.site import DetailKind, TaskKind
from bot.telegram.callback_data import TaskData
from storage.models import Task

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
SHORT_NAME = 10
"""A name in a merged message's line (who confirmed, who reported a problem) is cut to this:
the room kept for a line's later edits (bot/delivery/merging.py) counts on it."""
SHORT_REASON = 40
"""A problem's reason in a merged message's line is cut to this."""


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
    values = placeholders(reader, view, task, audience)
    # the site's text is escaped first; the values filled in are escaped already
    text = without_empty_asides(escape(template.text.get(reader.language), quote=False), values)
    return text.format_map(values)


_ASIDE_BRACKETS = {"（": "）", "(": ")", "「": "」", "《": "》"}
# an aside: a bracket, anything but brackets with at least one placeholder, its closing
# bracket (with the space before an opening "(")
_ASIDE = re.compile(
    "|".join(
        f" ?{re.escape(opening)}[^{re.escape(opening + closing)}]*\\{{\\w+\\}}"
        f"[^{re.escape(opening + closing)}]*{re.escape(closing)}"
        for opening, closing in _ASIDE_BRACKETS.items()
    )
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def without_empty_asides(template: str, values: dict[str, str]) -> str:
    """The template without the asides in brackets whose placeholders are all empty: "摆放话筒
    （{microphones}个）" for a meeting without microphones reads "摆放话筒", not "摆放话筒（个）";
    a confidential meeting's "会标「{banner}」" in a team's group reads "会标"."""
    return _without_asides(template, frozenset(name for name, value in values.items() if not value))


@functools.lru_cache(maxsize=512)
def _without_asides(template: str, empty: frozenset[str]) -> str:
    # a site has a few dozen templates and a few combinations of empty values: each pair is
    # worked out once (the sender renders every card it sends)
    def keep_or_drop(aside: re.Match[str]) -> str:
        names = _PLACEHOLDER.findall(aside.group(0))
        return "" if all(name in empty for name in names) else aside.group(0)

    return _ASIDE.sub(keep_or_drop, template)


def meeting_line(reader: Reader, view: BookingView, audience: Audience) -> str:
    _ = reader.gettext
    visible = shown(reader, view, audience)
    if visible.title is None or visible.department_id is None:
        return _("🔒 Confidential meeting") if view.confidential else _("Booked")
    return f"{user_text(visible.title, 80)} — {reader.department_name(visible.department_id)}"


async def task_and_booking(ctx: RenderContext, notice: Notice) -> tuple[Task, BookingView] | None:
    return await task_with_booking(ctx.session, int(notice.params["task_id"]))


def where_line(reader: Reader, view: BookingView) -> str:
    return f"📍 {reader.room_name(view.room_id)} · {reader.when_span(view.start, view.end)}"


async def add_state(
    reader: Reader,
    session: AsyncSession,
    task: Task,
    view: BookingView,
    *texts: list[str],
    with_problem: bool = True,
) -> None:
    """Append the task's :func:`state_line` (if any) to each of ``texts``; the last of several
    is a merged message's line, which gets the short form (a reason cut to a few words, a name
    to :data:`SHORT_NAME` characters)."""
    state = await state_line(reader, session, task, view, with_problem=with_problem)
    if not state:
        return
    for lines in texts[:-1] if len(texts) > 1 else texts:
        lines.append(state)
    if len(texts) > 1:
        short = await state_line(
            reader, session, task, view, with_problem=with_problem, reason_limit=SHORT_REASON, short=True
        )
        texts[-1].append(short or state)


async def state_line(
    reader: Reader,
    session: AsyncSession,
    task: Task,
    view: BookingView,
    *,
    with_problem: bool = True,
    reason_limit: int = 300,
    short: bool = False,
) -> str | None:
    """How the task stands, for every message that shows it; None while it simply waits.
    ``with_problem=False``: the message says the problem already (an escalation's head);
    ``short``: for a merged message's line, names cut to :data:`SHORT_NAME` characters."""
    _ = reader.gettext
    status = TaskStatus(task.status)
    if status == TaskStatus.done and task.confirmed_by_id is not None and task.confirmed_at is not None:
        name = await _name(reader, session, task.confirmed_by_id, short)
        if task.on_behalf and short:
            done = _("✅ Done — {name}, {time}").format(name=name, time=reader.when(task.confirmed_at))
            return done + _(" (on behalf)")
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
        by = await _name(reader, session, task.problem_by_id, short) if task.problem_by_id else ""
        problem = _("⚠️ Problem reported by {name}: {reason}").format(
            name=by, reason=reason_text(reader, task.problem_reason, reason_limit)
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


async def _name(reader: Reader, session: AsyncSession, user_id: int, short: bool) -> str:
    """A person's name for a state line (escaped); ``short``: cut for a merged message's line."""
    if not short:
        return await person_name(session, reader.site, user_id)
    name = await known_name(session, reader.site, user_id)
    return user_text(name, SHORT_NAME) if name is not None else str(user_id)


def task_buttons(reader: Reader, task: Task) -> Keyboard | None:
    _ = reader.gettext
    if task.status not in OPEN or not task.needs_confirmation:
        return None
    return [
        [
            {"text": _("✅ Done"), "callback_data": TaskData(task_id=task.id, action="d").pack()},
            {"text": _("⚠️ Problem"), "callback_data": TaskData(task_id=task.id, action="p").pack()},
        ]
    ]


@renderer("task_card")
async def render_task_card(ctx: RenderContext, notice: Notice) -> Rendered | None:
    loaded = await task_and_booking(ctx, notice)
    if loaded is None:
        return None
    task, view = loaded
    reader = notice_reader(ctx)
    _ = reader.gettext
    audience = await notice_audience(ctx, notice)
    icon = KIND_ICONS.get(TaskKind(task.kind), "📋")
    name = template_name(ctx.site, task.template_id, reader.language)
    what = task_text(reader, view, task, audience)
    where = where_line(reader, view)
    lines = [
        f"{icon} <b>{name}</b> · {team_name(ctx.site, task.team_id, reader.language)} · #{task.id}",
        where,
    ]
    lines.append(meeting_line(reader, view, audience))
    lines.append(f"👉 {what}")
    # a merged message's line: what, where and when; the task's text; then while the task is
    # open its due (once reminded: that it is overdue), else its state line in the due's place,
    # so that a line grows little when its task is done (bot/delivery/merging.py keeps room
    # per line for that)
    short = [f"{icon} <b>{name}</b> #{task.id} · {reader.room_name(view.room_id)} {reader.when(view.start)}"]
    short.append(what)
    short_due: str | None = None
    if task.due_at is not None and task.needs_confirmation:
        due = _("⏰ Due: {time}").format(time=reader.when(task.due_at))
        lines.append(due)
        short_due = due
    if task.late and task.pushed_at is not None:
        lines.append(_("⚠️ Posted late (planned for {time}).").format(time=reader.when(task.push_at)))
    if task.assignee_id is not None and task.status in OPEN:
        assignee = mention(task.assignee_id, await person_name(ctx.session, ctx.site, task.assignee_id))
        lines.append(_("👤 Assigned to {name}").format(name=assignee))
    if task.status in OPEN and task.stage >= 1 and task.needs_confirmation:
        # reminded: the card says so itself rather than a second message with a second keyboard
        lines.append(await _reminder_line(reader, ctx.session, task, name))
        if task.due_at is not None:
            short_due = _("⏰ Not confirmed, due {time}").format(time=reader.when(task.due_at))
    short_state: list[str] = []
    await add_state(reader, ctx.session, task, view, lines, short_state)
    if short_due is not None and (task.status in OPEN or not short_state):
        short.append(short_due)
    short += short_state
    if is_readiness_check(ctx.site, task):
        # the meeting's readiness card: its own message (never a line of a merged one), the
        # checks it verifies in view, and "confirm anyway" while one of them or a problem is open
        now = ctx.clock.now()
        readiness = await meeting_readiness(ctx.session, ctx.site, task.booking_id, now, check=task)
        lines += await readiness_lines(reader, ctx.session, readiness)
        return Rendered("\n".join(lines), readiness_buttons(reader, task, bool(readiness.blockers)))
    return Rendered("\n".join(lines), task_buttons(reader, task), merge_text="\n".join(short))


def readiness_buttons(reader: Reader, task: Task, blocked: bool) -> Keyboard | None:
    """Done, or while something it verifies is not done (or a problem is open) "Confirm anyway"."""
    _ = reader.gettext
    buttons = task_buttons(reader, task)
    if buttons is None or not blocked:
        return buttons
    return [
        [
            {"text": _("☑️ Confirm anyway"), "callback_data": TaskData(task_id=task.id, action="f").pack()},
            {"text": _("⚠️ Problem"), "callback_data": TaskData(task_id=task.id, action="p").pack()},
        ]
    ]


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
    loaded = await task_and_booking(ctx, notice)
    if loaded is None:
        return None
    task, view = loaded
    reader = notice_reader(ctx)
    _ = reader.gettext
    team = ctx.site.team(task.team_id)
    leader = mention(team.leader, await person_name(ctx.session, ctx.site, team.leader)) if team else ""
    name = template_name(ctx.site, task.template_id, reader.language)
    head = _("⏰ <b>Not confirmed yet</b>: {task} #{number}").format(task=name, number=task.id)
    where = where_line(reader, view)
    due = _("It was due by {time}.").format(time=reader.when(task.due_at)) if task.due_at else ""
    ask = _("{leader}, please see to it and press Done.").format(leader=leader) if leader else ""
    what = task_text(reader, view, task, await notice_audience(ctx, notice))
    lines = [head, where, f"👉 {what}", f"{due} {ask}".strip()]
    short = [head + f" · {reader.room_name(view.room_id)} {reader.when(view.start)}", f"{due} {ask}".strip()]
    await add_state(reader, ctx.session, task, view, lines, short)
    if is_readiness_check(ctx.site, task):
        # the meeting's readiness card: its own message (never a line of a merged one), the
        # checks it verifies in view, and "confirm anyway" while one of them or a problem is open
        now = ctx.clock.now()
        readiness = await meeting_readiness(ctx.session, ctx.site, task.booking_id, now, check=task)
        lines += await readiness_lines(reader, ctx.session, readiness)
        return Rendered("\n".join(lines), readiness_buttons(reader, task, bool(readiness.blockers)))
    return Rendered("\n".join(lines), task_buttons(reader, task), merge_text="\n".join(short))


@renderer("task_reassigned")
async def render_task_reassigned(ctx: RenderContext, notice: Notice) -> Rendered | None:
    loaded = await task_and_booking(ctx, notice)
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
    lines = [head, where_line(reader, view)]
    lines.append(f"👉 {task_text(reader, view, task, await notice_audience(ctx, notice))}")
    await add_state(reader, ctx.session, task, view, lines)
    # no buttons: the task's card keeps its only keyboard in the group (docs/product.md §4)
    return Rendered("\n".join(lines), merge_text="\n".join([head, *lines[-1:]]))


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
