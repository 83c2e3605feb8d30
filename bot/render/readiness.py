"""The meeting's readiness as lines: every team's checks and preparations with how each stands.

Shown on the readiness check's card in the hotline's group (check 3: it verifies checks 1 and
2, so it shows them, and everything else due by the start) and under the supervisors' message
about the meeting. The lists are read from the database when the message is rendered, so an
edit after any change of the meeting's tasks shows the latest.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from html import unescape

from sqlalchemy.ext.asyncio import AsyncSession

from bot.render.booking import person_name
from bot.render.task_words import reason_text, team_name, template_name
from bot.render.text import Reader
from bot.services.readiness import MeetingReadiness, Readiness, ReadinessItem

READINESS_ICONS = {
    Readiness.done: "✅",
    Readiness.waiting: "⏳",
    Readiness.overdue: "⏰",
    Readiness.problem: "⚠️",
    Readiness.missed: "⌛",
}


def readiness_summary(reader: Reader, readiness: MeetingReadiness, as_of: datetime | None = None) -> str:
    """One line: how many are done, waiting, overdue, with a problem, missed; with ``as_of``,
    the moment it was read (a message not edited for every change of the meeting says so)."""
    _ = reader.gettext
    counts = " · ".join(
        f"{READINESS_ICONS[state]} {readiness.count(state)}" for state in Readiness if readiness.count(state)
    )
    if as_of is not None:
        return _("<b>Readiness</b> as of {time} ({counts})").format(
            time=reader.when(as_of), counts=counts or "—"
        )
    return _("<b>Readiness</b> ({counts})").format(counts=counts or "—")


async def readiness_lines(
    reader: Reader,
    session: AsyncSession,
    readiness: MeetingReadiness,
    said: Collection[int] = (),
    as_of: datetime | None = None,
) -> list[str]:
    """The summary, one line per team (its tasks in due order), then each problem and what it
    is — but for the tasks in ``said``, whose problem the message tells already."""
    site = reader.site
    _ = reader.gettext
    if not readiness.items:
        return []
    lines = [readiness_summary(reader, readiness, as_of)]
    teams: dict[str, list[ReadinessItem]] = {}
    for item in readiness.items:
        teams.setdefault(item.team_id, []).append(item)
    separator = "  " if reader.zh else " · "
    for team_id, items in teams.items():
        shown = separator.join(
            f"{READINESS_ICONS[item.state]}{'' if reader.zh else ' '}"
            f"{template_name(site, item.template_id, reader.language)}"
            for item in items
        )
        lines.append(f"{team_name(site, team_id, reader.language)}{'：' if reader.zh else ': '}{shown}")
    for item in readiness.items:
        if item.problem_reason is None or item.task_id in said:
            continue
        by = await person_name(session, site, item.problem_by_id) if item.problem_by_id else ""
        lines.append(
            _("⚠️ {team} · {task}: {name}: {reason}").format(
                team=team_name(site, item.team_id, reader.language),
                task=template_name(site, item.template_id, reader.language),
                name=by,
                reason=reason_text(reader, item.problem_reason),
            )
        )
    return lines


def blockers_text(reader: Reader, blockers: tuple[ReadinessItem, ...]) -> str:
    """What confirming the readiness check would go over: the answer to its Done press, an
    alert (plain text, at most 200 characters, so at most four items and how many more)."""
    _ = reader.gettext
    site = reader.site
    parts = [
        f"{READINESS_ICONS[item.state]} {unescape(team_name(site, item.team_id, reader.language))} · "
        f"{unescape(template_name(site, item.template_id, reader.language))}"
        for item in blockers[:4]
    ]
    if len(blockers) > 4:
        parts.append(_("… and {count} more").format(count=len(blockers) - 4))
    return _("Not ready yet:\n{items}\nPress “Confirm anyway” to confirm regardless.").format(
        items="\n".join(parts)
    )
