"""The weekly briefing (周业务简报) as a caption, a chart picture and a spreadsheet.

The chart is drawn off-screen (matplotlib's Agg canvas, no pyplot state) at a size that
reads on a phone, with every label in the reader's language. Chinese needs a font with CJK
glyphs: :func:`cjk_font` finds one (``HUIWU_CJK_FONT``, else Noto Sans SC from the project's
own dependency ``pylopdf-fonts-zh-cn`` — SIL Open Font License 1.1 — so a fresh machine needs
no system font, else the Debian packages fonts-wqy-microhei / fonts-noto-cjk, else any
installed font that has them); without one the chart is still drawn, with a warning in the log.

The spreadsheet (openpyxl) has one sheet per table: summary, meetings, by room, by class,
services, teams, late tasks, escalations, problems, feedback, consumables.

**Confidential meetings.** The briefing is read as :data:`BRIEFING_READER` — a supervisor or
manager with no department, reading a report — whoever asked for it, so every copy is the
same. A file gets forwarded, so even the supervisor's copy shows a confidential meeting's
title AND unit (and its feedback's unit and comment) only as "(confidential)"; the meeting
is still counted everywhere, and the summary says how many there were. The chart and the
caption show only counts and the site's names (rooms, classes, services, teams).
:func:`bot.services.visibility.meeting_view` decides, as it does for every other view.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

from bot.render.digest import task_name
from bot.render.text import Reader, shorten
from bot.services.reports import WeekFigures
from bot.services.visibility import Audience, Medium, MeetingFacts, MeetingView, meeting_view
from bot.site import Role

log = logging.getLogger(__name__)

CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
PROBE = "会议周报满意度"
CHART_DPI = 100
BRIEFING_READER = Audience(frozenset({Role.supervisor, Role.manager}), medium=Medium.report)
"""Who the briefing is rendered for: every copy alike (see the module's docstring)."""
_DRAWING = threading.Lock()


def _has_glyphs(path: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        charmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in charmap for ch in PROBE)


def packaged_cjk_font() -> str:
    """Noto Sans SC as installed with the project (empty when the package is missing)."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return ""
    return str(pylopdf_fonts_zh_cn.sans_path())


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of a font with Chinese glyphs, registered with matplotlib; or None."""
    from matplotlib import font_manager

    candidates = [os.environ.get("HUIWU_CJK_FONT", ""), packaged_cjk_font(), *CJK_FONT_FILES]
    for path in candidates:
        if path and Path(path).is_file() and _has_glyphs(path):
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    for entry in font_manager.fontManager.ttflist:
        if any(word in entry.name for word in ("CJK", "WenQuanYi", "Hei", "Han Sans", "Ming", "Song")) and (
            _has_glyphs(entry.fname)
        ):
            return str(entry.name)
    log.warning("no font with Chinese glyphs found: install fonts-wqy-microhei or set HUIWU_CJK_FONT")
    return None


# ---------------------------------------------------------------------------- words


def room_label(reader: Reader, room_id: str) -> str:
    room = reader.site.room(room_id)
    return room.name.get(reader.language) if room else room_id


def service_label(reader: Reader, service_id: str) -> str:
    service = reader.site.service(service_id)
    return service.name.get(reader.language) if service else service_id


def team_label(reader: Reader, team_id: str) -> str:
    team = reader.site.team(team_id)
    return team.name.get(reader.language) if team else team_id


def department_label(reader: Reader, department_id: str) -> str:
    department = reader.site.department(department_id)
    return department.name.get(reader.language) if department else department_id


def consumable_label(reader: Reader, consumable_id: str) -> tuple[str, str]:
    consumable = reader.site.consumable(consumable_id)
    if consumable is None:
        return consumable_id, ""
    return consumable.name.get(reader.language), consumable.unit.get(reader.language)


def role_label(reader: Reader, role: str) -> str:
    _ = reader.gettext
    return {"supervisor": _("supervisor"), "manager": _("manager")}.get(role, role)


def money(reader: Reader, cents: int) -> str:
    return f"{cents / 100:.2f} {reader.site.aftercare.currency.get(reader.language)}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def week_title(reader: Reader, figures: WeekFigures) -> str:
    _ = reader.gettext
    week = figures.week
    return _("Weekly briefing {week} ({first} – {last})").format(
        week=week.label, first=reader.short_day(week.monday), last=reader.short_day(week.sunday)
    )


def caption(reader: Reader, figures: WeekFigures) -> str:
    """The text beside the chart (HTML, within a photo caption's 1024 characters)."""
    _ = reader.gettext
    average = figures.feedback_average
    lines = [
        f"📊 <b>{escape(week_title(reader, figures))}</b>",
        _("Meetings: {count} · attendees: {attendees}").format(
            count=len(figures.meetings), attendees=figures.attendees
        ),
        _("On-time confirmations: {rate} ({on_time} of {tasks})").format(
            rate=percent(figures.on_time / figures.tasks if figures.tasks else None),
            on_time=figures.on_time,
            tasks=figures.tasks,
        ),
        _("Late tasks: {late} (missed: {missed}) · escalations: {escalations} · problems: {problems}").format(
            late=len(figures.late),
            missed=len(figures.missed),
            escalations=len(figures.escalations),
            problems=len(figures.problems),
        ),
        _("Satisfaction: {average} average from {count} score(s)").format(
            average="—" if average is None else f"{average:.1f}", count=len(figures.feedback)
        ),
    ]
    if figures.consumables:
        lines.append(
            _("Consumables: {amount}").format(amount=escape(money(reader, figures.consumables_cents)))
        )
    if figures.no_shows:
        lines.append(
            _("No-shows (released, nobody checked in): {count}").format(
                count=sum(count for _department, count in figures.no_shows)
            )
        )
    lines.append(_("The spreadsheet follows with every table."))
    return "\n".join(lines)[:1024]


def file_name(figures: WeekFigures, extension: str) -> str:
    return f"huiwu-week-{figures.week.label}.{extension}"


# ---------------------------------------------------------------------------- the chart


def _bars(
    axes: Any,
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    empty: str,
    color: str,
    value_format: str = "{:.0f}",
    limit: float | None = None,
    integers: bool = True,
) -> None:
    axes.set_title(title, fontsize=17, loc="left")
    if not values:
        axes.text(0.5, 0.5, empty, ha="center", va="center", fontsize=15, color="#666666")
        axes.set_axis_off()
        return
    positions = list(range(len(values)))
    axes.barh(positions, values, color=color)
    axes.set_yticks(positions, [shorten(label, 16) for label in labels], fontsize=13)
    axes.invert_yaxis()
    axes.tick_params(axis="x", labelsize=12)
    top = limit if limit is not None else max(values) * 1.25 or 1
    axes.set_xlim(0, top)
    for position, value in zip(positions, values, strict=True):
        axes.text(value + top * 0.01, position, value_format.format(value), va="center", fontsize=13)
    axes.spines[["top", "right"]].set_visible(False)
    if integers:
        from matplotlib.ticker import MaxNLocator

        axes.xaxis.set_major_locator(MaxNLocator(integer=True))


def chart_png(reader: Reader, figures: WeekFigures) -> bytes:
    """The briefing's chart as PNG bytes (blocking: call it in a worker thread)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _ = reader.gettext
    font = cjk_font()
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with _DRAWING, matplotlib.rc_context({"font.family": families, "axes.unicode_minus": False}):
        figure = Figure(figsize=(10, 15), dpi=CHART_DPI, layout="constrained")
        FigureCanvasAgg(figure)
        figure.suptitle(week_title(reader, figures), fontsize=21)
        grid = figure.subplots(3, 2)
        none = _("none this week")

        _bars(
            grid[0][0],
            [room_label(reader, row.key) for row in figures.by_room],
            [row.meetings for row in figures.by_room],
            _("Meetings by room"),
            none,
            "#4C78A8",
        )
        _bars(
            grid[0][1],
            [_("Class {room_class}").format(room_class=row.key) for row in figures.by_class],
            [row.meetings for row in figures.by_class],
            _("Meetings by class"),
            none,
            "#72B7B2",
        )
        _bars(
            grid[1][0],
            [service_label(reader, key) for key, _count in figures.services],
            [count for _key, count in figures.services],
            _("Service items (meetings)"),
            none,
            "#F58518",
        )
        _bars(
            grid[1][1],
            [team_label(reader, row.team_id) for row in figures.teams],
            [100 * (row.rate or 0) for row in figures.teams],
            _("On-time confirmation (%)"),
            none,
            "#54A24B",
            "{:.0f}%",
            limit=115,
            integers=False,
        )
        scores = figures.score_counts
        _bars(
            grid[2][0],
            [f"{'★' * score}" for score in scores] if figures.feedback else [],
            list(scores.values()) if figures.feedback else [],
            _("Satisfaction scores"),
            none,
            "#E45756",
        )
        totals = grid[2][1]
        totals.set_axis_off()
        totals.set_title(_("This week"), fontsize=17, loc="left")
        average = figures.feedback_average
        rows = [
            (_("Meetings"), str(len(figures.meetings))),
            (_("Attendees"), str(figures.attendees)),
            (_("Tasks confirmed on time"), f"{figures.on_time}/{figures.tasks}"),
            (_("Late tasks"), str(len(figures.late))),
            (_("Missed tasks"), str(len(figures.missed))),
            (_("Escalations"), str(len(figures.escalations))),
            (_("Problems"), str(len(figures.problems))),
            (_("Average score"), "—" if average is None else f"{average:.1f}"),
        ]
        for index, (label, value) in enumerate(rows):
            y = 0.9 - index * 0.115
            totals.text(0.02, y, label, fontsize=15, transform=totals.transAxes, va="center")
            totals.text(
                0.98,
                y,
                value,
                fontsize=17,
                ha="right",
                transform=totals.transAxes,
                va="center",
            )
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=CHART_DPI, facecolor="white")
    return buffer.getvalue()


# ---------------------------------------------------------------------------- the spreadsheet


def _local(reader: Reader, moment: datetime | None) -> datetime | None:
    """A naive local time for a spreadsheet cell (spreadsheets keep no time zone)."""
    return reader.local(moment).replace(tzinfo=None) if moment is not None else None


def _briefing_view(department_id: str, title: str, confidential: bool) -> MeetingView:
    return meeting_view(MeetingFacts(department_id, title, confidential), BRIEFING_READER)


def sheets(reader: Reader, figures: WeekFigures) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Every table of the briefing: (sheet title, header, rows)."""
    _ = reader.gettext
    masked = _("(confidential)")
    average = figures.feedback_average
    summary: list[list[Any]] = [
        [_("Week"), figures.week.label],
        [_("From"), figures.week.monday],
        [_("To"), figures.week.sunday],
        [_("Meetings"), len(figures.meetings)],
        [_("Confidential meetings"), sum(1 for m in figures.meetings if m.confidential)],
        [_("Attendees"), figures.attendees],
        [_("Tasks due"), figures.tasks],
        [_("Confirmed on time"), figures.on_time],
        [_("On-time rate (%)"), round(100 * figures.on_time / figures.tasks, 1) if figures.tasks else None],
        [_("Late tasks"), len(figures.late)],
        [_("Missed tasks"), len(figures.missed)],
        [_("Escalations"), len(figures.escalations)],
        [_("Problems"), len(figures.problems)],
        [_("Feedback scores"), len(figures.feedback)],
        [_("Average score"), round(average, 2) if average is not None else None],
        [_("Consumables amount"), figures.consumables_cents / 100],
        [_("Generated at"), _local(reader, figures.generated_at)],
    ]
    meetings = []
    for m in figures.meetings:
        view = _briefing_view(m.department_id, m.title, m.confidential)
        meetings.append(
            [
                m.booking_id,
                _local(reader, m.start),
                _local(reader, m.end),
                room_label(reader, m.room_id),
                m.room_class,
                department_label(reader, view.department_id) if view.department_id else masked,
                view.title if view.title is not None else masked,
                m.attendees,
                ", ".join(service_label(reader, s) for s in m.services),
            ]
        )
    by_room = [
        [
            room_label(reader, r.key),
            next((room.room_class for room in reader.site.rooms if room.id == r.key), ""),
            r.meetings,
            r.attendees,
        ]
        for r in figures.by_room
    ]
    by_class = [[r.key, r.meetings, r.attendees] for r in figures.by_class]
    services = [[service_label(reader, key), count] for key, count in figures.services]
    teams = [
        [
            team_label(reader, t.team_id),
            t.tasks,
            t.on_time,
            t.late,
            t.missed,
            round(100 * t.rate, 1) if t.rate is not None else None,
            round(t.median_minutes, 1) if t.median_minutes is not None else None,
        ]
        for t in figures.teams
    ]

    def task_rows(rows: Sequence[Any], detail: bool = False, roles: bool = False) -> list[list[Any]]:
        result = []
        for row in rows:
            cells = [
                row.task_id,
                row.booking_id,
                team_label(reader, row.team_id),
                _plain(task_name(reader.site, row.template_id, reader.language)),
                room_label(reader, row.room_id),
                _local(reader, row.due_at),
                _local(reader, row.confirmed_at),
                _("yes") if row.on_behalf else _("no"),
            ]
            if detail:
                cells.append(role_label(reader, row.detail) if roles else row.detail)
            result.append(cells)
        return result

    task_header = [
        _("Task"),
        _("Booking"),
        _("Team"),
        _("Task name"),
        _("Room"),
        _("Due"),
        _("Confirmed at"),
        _("On behalf"),
    ]
    feedback = []
    for f in figures.feedback:
        # the organiser's comment may name the meeting: it goes with the unit
        view = _briefing_view(f.department_id, "", f.confidential)
        feedback.append(
            [
                f.booking_id,
                _local(reader, f.start),
                room_label(reader, f.room_id),
                department_label(reader, view.department_id) if view.department_id else masked,
                f.score,
                masked if view.hidden and f.comment else (f.comment or ""),
            ]
        )
    consumables = []
    for c in figures.consumables:
        name, unit = consumable_label(reader, c.consumable_id)
        consumables.append([name, unit, c.quantity, c.amount_cents / 100])
    return [
        (_("Summary"), [_("Figure"), _("Value")], summary),
        (
            _("Meetings"),
            [
                _("Booking"),
                _("Start"),
                _("End"),
                _("Room"),
                _("Class"),
                _("Unit"),
                _("Title"),
                _("Attendees"),
                _("Services"),
            ],
            meetings,
        ),
        (_("By room"), [_("Room"), _("Class"), _("Meetings"), _("Attendees")], by_room),
        (_("By class"), [_("Class"), _("Meetings"), _("Attendees")], by_class),
        (_("Services"), [_("Service item"), _("Meetings")], services),
        (
            _("Teams"),
            [
                _("Team"),
                _("Tasks due"),
                _("On time"),
                _("Late"),
                _("Missed"),
                _("On-time rate (%)"),
                _("Median minutes to confirm"),
            ],
            teams,
        ),
        (_("Late tasks"), task_header, task_rows(figures.late)),
        (_("Escalations"), [*task_header, _("Highest level")], task_rows(figures.escalations, True, True)),
        (_("Problems"), [*task_header, _("Reason")], task_rows(figures.problems, True)),
        (_("Feedback"), [_("Booking"), _("Start"), _("Room"), _("Unit"), _("Score"), _("Comment")], feedback),
        (_("Consumables"), [_("Item"), _("Unit of measure"), _("Quantity"), _("Amount")], consumables),
        (
            _("No-shows"),
            [_("Unit"), _("No-shows")],
            [[department_label(reader, department), count] for department, count in figures.no_shows],
        ),
    ]


def _plain(html_text: str) -> str:
    from html import unescape

    return unescape(html_text)


_BAD_SHEET_CHARACTERS = str.maketrans({c: " " for c in "[]:*?/\\"})


def workbook_bytes(reader: Reader, figures: WeekFigures) -> bytes:
    """The briefing as an .xlsx file, one sheet per table (blocking: call it in a worker thread)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for title, header, rows in sheets(reader, figures):
        name = title.translate(_BAD_SHEET_CHARACTERS)[:31] or "Sheet"
        while name in used:
            name = f"{name[:28]}_{len(used)}"
        used.add(name)
        sheet = workbook.create_sheet(name)
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        for index, column in enumerate(header, start=1):
            width = max(
                [len(str(column)), *(len(str(r[index - 1])) for r in rows if r[index - 1] is not None)]
            )
            sheet.column_dimensions[get_column_letter(index)].width = min(max(10, width * 1.6 + 2), 60)
            for row_cells in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                for cell in row_cells:
                    if isinstance(cell.value, datetime):
                        cell.number_format = "yyyy-mm-dd hh:mm"
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
