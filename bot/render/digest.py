"""The daily digest as text: tomorrow's meetings (supervisors) and a team's tasks (its group).

A digest that is longer than one Telegram message is cut between meetings (or days) into
numbered parts; the scheduled digest sends every part (``digest_part`` notices, each with
its own dedupe key), ``/tomorrow`` shows one part at a time with ‹ › buttons.

A digest is a report (its text is kept in the outbox): what it shows of each meeting is
:func:`bot.services.visibility.meeting_view`'s for the reader in a report, so a confidential
meeting reads "confidential" with its time, room and people, whoever gets it.

The digest is laid out by day, so a time on its section's day is a bare "14:00"; one on any
other day (a task posted the evening before, a meeting past midnight) carries its day as
:meth:`bot.render.text.Reader.when` says it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from html import escape
from typing import TypeVar

from bot.delivery.notices import Keyboard, RenderContext, Rendered, renderer
from bot.render.errors import status_name
from bot.render.tasks import split_messages, team_name
from bot.render.text import MESSAGE_LIMIT, Reader, user_text
from bot.services.digest import DayMeetings, DayTasks, MeetingItem, TaskItem
from bot.services.types import Notice
from bot.services.visibility import Audience, MeetingFacts, meeting_view
from bot.site import SiteConfig, TaskKind

T = TypeVar("T")

PART_LIMIT = MESSAGE_LIMIT - 40
"""Room for the "(2/3)" mark added to each part."""
STATUS_ICONS = {"pending": "⏳", "confirmed": "✅", "in_progress": "▶️", "finished": "☑️"}


def task_name(site: SiteConfig, template_id: str, language: str) -> str:
    template = next((t for t in site.task_templates if t.id == template_id), None)
    if template is None:
        return escape(template_id)
    if template.name is not None:
        return escape(template.name.get(language))
    return escape(template.id)


def window_title(reader: Reader, days: Sequence[date]) -> str:
    """ "tomorrow, Wed 2 Dec 2026" or "Sat 5 Dec 2026 – Mon 7 Dec 2026"."""
    if len(days) == 1:
        return reader.day(days[0])
    return f"{reader.day(days[0])} – {reader.day(days[-1])}"


def split_blocks(blocks: Sequence[str], limit: int = PART_LIMIT) -> list[str]:
    """As few messages as fit ``limit``, cut only between blocks (or, for a huge block, lines)."""
    return split_messages(blocks, limit) or [""]


def number_parts(parts: list[str]) -> list[str]:
    if len(parts) == 1:
        return parts
    return [f"{part}\n\n({index}/{len(parts)})" for index, part in enumerate(parts, start=1)]


def _approval(reader: Reader, meeting: MeetingItem) -> str:
    _ = reader.gettext
    if meeting.status == "pending":
        return "⏳ " + _("awaiting approval")
    room = reader.site.room(meeting.room_id)
    needed = room is not None and reader.site.room_class_of(room).needs_approval
    icon = STATUS_ICONS.get(meeting.status, "")
    if needed and meeting.status == "confirmed":
        return f"{icon} " + _("approved")
    return f"{icon} {status_name(reader, meeting.status)}"


def clock_on(reader: Reader, moment: datetime, day: date) -> str:
    """``moment`` read under the heading of ``day``: the bare time on that day, else with its day."""
    return reader.time(moment) if reader.local(moment).date() == day else reader.when(moment)


def meeting_block(reader: Reader, meeting: MeetingItem, audience: Audience) -> str:
    _ = reader.gettext
    day = reader.local(meeting.start).date()
    when = f"{reader.time(meeting.start)}–{clock_on(reader, meeting.end, day)}"
    visible = meeting_view(
        MeetingFacts(meeting.department_id, meeting.title, meeting.confidential), audience.in_report()
    )
    if visible.department_id is None or visible.title is None:
        unit = "🔒 " + _("confidential") if meeting.confidential else _("Booked")
    else:
        unit = reader.department_name(visible.department_id)
    lines = [f"<b>{when}</b> · {reader.room_name(meeting.room_id)} · {unit}"]
    if visible.title is not None:
        lines.append(f"   {user_text(visible.title, 120)}")
    lines.append(
        "   "
        + _("{count} people · reception level {level} · {state}").format(
            count=meeting.attendees, level=meeting.reception_level, state=_approval(reader, meeting)
        )
    )
    if meeting.services:
        names = ("、" if reader.zh else ", ").join(reader.service_name(s) for s in meeting.services)
        lines.append("   " + _("Services: {names}").format(names=names))
    else:
        lines.append("   " + _("Services: none"))
    return "\n".join(lines)


def meetings_digest(reader: Reader, days: Sequence[DayMeetings], audience: Audience) -> list[str]:
    """The supervisors' digest as ``audience`` may read it: one block per day and per meeting;
    numbered parts."""
    _ = reader.gettext
    dates = [d.day for d in days]
    total = sum(len(d.meetings) for d in days)
    if len(dates) == 1:
        heading = _("📅 <b>Tomorrow's meetings</b> — {day}").format(day=reader.day(dates[0]))
    else:
        heading = _("📅 <b>Meetings up to the next working day</b> — {days}").format(
            days=window_title(reader, dates)
        )
    heading += "\n" + _("{count} meeting in all.", "{count} meetings in all.", total).format(count=total)
    blocks = [heading]
    for day in days:
        if len(dates) > 1 or not day.meetings:
            count = len(day.meetings)
            title = f"<b>{reader.day(day.day)}</b>"
            if count:
                title += " — " + _("{count} meeting", "{count} meetings", count).format(count=count)
            else:
                title += "\n" + _("No meetings.")
            blocks.append(title)
        blocks += [meeting_block(reader, meeting, audience) for meeting in day.meetings]
    return number_parts(split_blocks(blocks))


def task_line(reader: Reader, task: TaskItem, day: date) -> str:
    """One task under the heading of ``day``."""
    _ = reader.gettext
    name = task_name(reader.site, task.template_id, reader.language)
    room = reader.room_name(task.room_id)
    meeting = f"{clock_on(reader, task.meeting_start, day)}–{clock_on(reader, task.meeting_end, day)}"
    if task.kind == TaskKind.reminder:
        last = task.last_at or task.push_at
        return "☕ " + _("{name} ×{count}, {first}–{last} · {room}").format(
            name=name,
            count=task.count,
            first=clock_on(reader, task.push_at, day),
            last=clock_on(reader, last, day),
            room=room,
        )
    icon = "☑️" if task.kind == TaskKind.check else "📋"
    if task.due_at is not None and task.due_at != task.push_at:
        when = f"{clock_on(reader, task.push_at, day)}→{clock_on(reader, task.due_at, day)}"
    else:
        when = clock_on(reader, task.due_at or task.push_at, day)
    return f"{icon} <b>{when}</b> {name} · {room} " + _("(meeting {time})").format(time=meeting)


def team_digest(reader: Reader, team_id: str, days: Sequence[DayTasks]) -> list[str]:
    """A team's tasks for the window, one block per day; numbered parts."""
    _ = reader.gettext
    dates = [d.day for d in days]
    team = team_name(reader.site, team_id, reader.language)
    if len(dates) == 1:
        heading = _("📋 <b>{team}: tomorrow's tasks</b> — {day}").format(team=team, day=reader.day(dates[0]))
    else:
        heading = _("📋 <b>{team}: tasks up to the next working day</b> — {days}").format(
            team=team, days=window_title(reader, dates)
        )
    blocks = [heading]
    for day in days:
        title = f"<b>{reader.day(day.day)}</b>" if len(dates) > 1 else ""
        if not day.tasks:
            line = _("No tasks.")
            blocks.append(f"{title}\n{line}" if title else line)
            continue
        lines = [title] if title else []
        lines += [task_line(reader, task, day.day) for task in day.tasks]
        blocks.append("\n".join(lines))
    return number_parts(split_blocks(blocks))


def page_of(items: Sequence[T], page: int, size: int) -> tuple[Sequence[T], int, int]:
    """The items shown on ``page`` of ``size`` each, the page (kept within range) and how many pages."""
    pages = max(1, (len(items) + size - 1) // size)
    page = min(max(page, 0), pages - 1)
    return items[page * size : (page + 1) * size], page, pages


def two_a_row(buttons: Sequence[dict[str, str]]) -> Keyboard:
    """Buttons laid out two to a row."""
    return [list(buttons[index : index + 2]) for index in range(0, len(buttons), 2)]


def pager(reader: Reader, page_data: Callable[[int], str], page: int, pages: int) -> Keyboard:
    """‹ page/pages › for a paged view; ``page_data(page)`` is a page's button data (packed
    from the view's class in bot/telegram/callback_data.py)."""
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append({"text": "‹", "callback_data": page_data(page - 1)})
    row.append({"text": f"{page + 1}/{pages}", "callback_data": page_data(page)})
    if page < pages - 1:
        row.append({"text": "›", "callback_data": page_data(page + 1)})
    return [row]


@renderer("digest_part")
async def render_digest_part(ctx: RenderContext, notice: Notice) -> Rendered | None:
    """One part of a digest, rendered in its reader's language by the digest job."""
    text = str(notice.params.get("text") or "")
    return Rendered(text) if text else None
