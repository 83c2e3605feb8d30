"""The monthly statement per department as a message with Accept / Dispute, a spreadsheet,
the supervisors' summary of every department and the notice of a dispute.

**Confidential meetings.** A department's statement goes to its own contacts, the organiser
of every meeting in it: its own titles are shown, confidential ones too
(:func:`bot.services.visibility.meeting_view` with the department's own audience). The
supervisors' summary is read as a report (:data:`bot.render.reports.BRIEFING_READER`): it
names departments and counts, never a meeting, so a confidential meeting is counted and
nothing more. The statement's figures are read when the row is sent; the spreadsheet is
written in a worker thread by the sender.
"""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from html import escape
from typing import Any

from bot.delivery.notices import Keyboard, OutgoingFile, RenderContext, Rendered, renderer
from bot.render.booking import notice_reader, person_name
from bot.render.reports import consumable_label, department_label, money, room_label
from bot.render.text import Reader, fit_message, user_text
from bot.services.statements import DepartmentStatement, Month, StatementService, StatementView, parse_month
from bot.services.types import Notice
from bot.services.visibility import Audience, MeetingFacts, meeting_view
from bot.telegram.callback_data import StatementData

Table = tuple[str, list[str], list[list[Any]]]


def month_name(reader: Reader, month: Month) -> str:
    return reader.month(month.first)


def statement_title(reader: Reader, department_id: str, month: Month) -> str:
    _ = reader.gettext
    return _("Monthly statement: {department}, {month}").format(
        department=department_label(reader, department_id), month=month_name(reader, month)
    )


def _fee_counts(reader: Reader, figures: DepartmentStatement) -> str:
    _ = reader.gettext
    return _(
        "Fee confirmations: {accepted} accepted, {disputed} disputed, {waiting} awaiting an answer"
    ).format(
        accepted=figures.fees("accepted"), disputed=figures.fees("disputed"), waiting=figures.fees("sent")
    )


def statement_text(
    reader: Reader, figures: DepartmentStatement, statement: StatementView | None, decided_by: str = ""
) -> str:
    """The statement as its department's contact reads it (HTML)."""
    _ = reader.gettext
    lines = [
        f"📑 <b>{escape(statement_title(reader, figures.department_id, figures.month))}</b>",
        _("Meetings: {count} · attendees: {attendees}").format(
            count=len(figures.held), attendees=figures.attendees
        ),
        _("No-shows: {count}").format(count=figures.no_shows),
        _("Consumables and fees: {amount}").format(amount=escape(money(reader, figures.consumables_cents))),
        _fee_counts(reader, figures),
        _("The spreadsheet lists every meeting, item and fee."),
    ]
    if statement is not None:
        if statement.status == "sent":
            lines.append(_("Please accept the statement, or dispute it with a reason."))
        elif statement.status == "accepted" and statement.decided_at is not None:
            lines.append(
                _("✅ Accepted by {name} on {time}.").format(
                    name=decided_by, time=reader.moment(statement.decided_at)
                )
            )
        elif statement.status == "disputed":
            lines.append(
                _("❓ Disputed by {name}: {reason}").format(
                    name=decided_by, reason=user_text(statement.dispute_reason, 300)
                )
            )
    return fit_message("\n".join(lines))


def statement_keyboard(reader: Reader, statement: StatementView) -> Keyboard:
    _ = reader.gettext
    if statement.status != "sent":
        return []
    return [
        [
            {
                "text": _("✅ Accept"),
                "callback_data": StatementData(action="a", statement_id=statement.id).pack(),
            },
            {
                "text": _("❓ Dispute"),
                "callback_data": StatementData(action="d", statement_id=statement.id).pack(),
            },
        ]
    ]


def summary_text(reader: Reader, month: Month, departments: list[DepartmentStatement]) -> str:
    """Every department's figures for the supervisors: counts and amounts, no meeting named."""
    _ = reader.gettext
    lines = [
        "📑 <b>{}</b>".format(
            escape(_("Monthly statements {month}: every department").format(month=month_name(reader, month)))
        )
    ]
    for figures in departments:
        lines.append(
            _("• {department}: {meetings} meeting(s), {no_shows} no-show(s), {amount}").format(
                department=escape(department_label(reader, figures.department_id)),
                meetings=len(figures.held),
                no_shows=figures.no_shows,
                amount=escape(money(reader, figures.consumables_cents)),
            )
        )
    confidential = sum(1 for f in departments for m in f.meetings if m.confidential)
    lines.append(
        _("Total: {meetings} meeting(s), {no_shows} no-show(s), {amount}").format(
            meetings=sum(len(f.held) for f in departments),
            no_shows=sum(f.no_shows for f in departments),
            amount=escape(money(reader, sum(f.consumables_cents for f in departments))),
        )
    )
    if confidential:
        lines.append(_("Confidential meetings counted: {count}").format(count=confidential))
    lines.append(_("Each department's contact was sent its statement to accept or dispute."))
    return fit_message("\n".join(lines))


def file_name(figures: DepartmentStatement) -> str:
    return f"huiwu-statement-{figures.department_id}-{figures.month.label}.xlsx"


# ---------------------------------------------------------------------------- the spreadsheet


def _local(reader: Reader, moment: datetime | None) -> datetime | None:
    """A naive local time for a spreadsheet cell (spreadsheets keep no time zone)."""
    return reader.local(moment).replace(tzinfo=None) if moment is not None else None


def fee_state(reader: Reader, status: str | None) -> str:
    _ = reader.gettext
    return {
        "sent": _("awaiting an answer"),
        "accepted": _("accepted"),
        "disputed": _("disputed"),
    }.get(status or "", _("not sent"))


def sheets(reader: Reader, figures: DepartmentStatement) -> list[Table]:
    """Every table of a department's statement: (sheet title, header, rows)."""
    _ = reader.gettext
    month = figures.month
    own = Audience.organiser(figures.department_id).in_report()
    summary: list[list[Any]] = [
        [_("Department"), department_label(reader, figures.department_id)],
        [_("Month"), month.label],
        [_("From"), month.first],
        [_("To"), month.last],
        [_("Meetings"), len(figures.held)],
        [_("No-shows"), figures.no_shows],
        [_("Attendees"), figures.attendees],
        [_("Consumables amount"), figures.consumables_cents / 100],
        [_("Fee confirmations accepted"), figures.fees("accepted")],
        [_("Fee confirmations disputed"), figures.fees("disputed")],
        [_("Fee confirmations awaiting an answer"), figures.fees("sent")],
        [_("Generated at"), _local(reader, figures.generated_at)],
    ]
    meetings = []
    for m in figures.meetings:
        view = meeting_view(MeetingFacts(figures.department_id, m.title, m.confidential), own)
        meetings.append(
            [
                m.booking_id,
                _local(reader, m.start),
                _local(reader, m.end),
                room_label(reader, m.room_id),
                view.title if view.title is not None else _("(confidential)"),
                m.attendees,
                _("yes") if m.no_show else _("no"),
                m.consumables_cents / 100,
                fee_state(reader, m.fee_status),
                m.fee_cents / 100 if m.fee_status else None,
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
                _("Title"),
                _("Attendees"),
                _("No-show"),
                _("Consumables amount"),
                _("Fee confirmation"),
                _("Fee amount"),
            ],
            meetings,
        ),
        (_("Consumables"), [_("Item"), _("Unit of measure"), _("Quantity"), _("Amount")], consumables),
    ]


_BAD_SHEET_CHARACTERS = str.maketrans({c: " " for c in "[]:*?/\\"})


def workbook_bytes(reader: Reader, figures: DepartmentStatement) -> bytes:
    """The statement as an .xlsx file, one sheet per table (blocking: call it in a worker thread)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in sheets(reader, figures):
        sheet = workbook.create_sheet(title.translate(_BAD_SHEET_CHARACTERS)[:31] or "Sheet")
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


# ---------------------------------------------------------------------------- notices


async def _statement(ctx: RenderContext, notice: Notice) -> tuple[StatementView, DepartmentStatement] | None:
    service = StatementService(ctx.site, ctx.clock)
    statement = await service.statement(ctx.session, int(notice.params["statement_id"]))
    if statement is None:
        return None
    return statement, await service.department(ctx.session, statement.department_id, statement.month)


async def decider_name(ctx: RenderContext, statement: StatementView) -> str:
    if statement.decided_by_id is None:
        return ""
    return await person_name(ctx.session, ctx.site, statement.decided_by_id)


@renderer("statement")
async def render_statement(ctx: RenderContext, notice: Notice) -> Rendered | None:
    found = await _statement(ctx, notice)
    if found is None:
        return None
    statement, figures = found
    reader = notice_reader(ctx)
    text = statement_text(reader, figures, statement, await decider_name(ctx, statement))
    return Rendered(text, statement_keyboard(reader, statement) or None)


@renderer("statement_workbook")
async def render_statement_workbook(ctx: RenderContext, notice: Notice) -> Rendered | None:
    found = await _statement(ctx, notice)
    if found is None:
        return None
    _statement_view, figures = found
    reader = notice_reader(ctx)

    async def write() -> bytes:
        return await asyncio.to_thread(workbook_bytes, reader, figures)

    return Rendered("", file=OutgoingFile("document", file_name(figures), write))


@renderer("statements_summary")
async def render_statements_summary(ctx: RenderContext, notice: Notice) -> Rendered | None:
    reader = notice_reader(ctx)
    today = ctx.clock.now().astimezone(ctx.site.zone).date()
    month = parse_month(str(notice.params.get("month", "")), today)
    departments = await StatementService(ctx.site, ctx.clock).summary(ctx.session, month)
    return Rendered(summary_text(reader, month, departments))


@renderer("statement_disputed")
async def render_statement_disputed(ctx: RenderContext, notice: Notice) -> Rendered | None:
    found = await _statement(ctx, notice)
    if found is None:
        return None
    statement, figures = found
    reader = notice_reader(ctx)
    _ = reader.gettext
    # the supervisor reads the department's totals and the reason: no meeting is named
    heading = _("❗ <b>A monthly statement was disputed</b>: {title}").format(
        title=escape(statement_title(reader, statement.department_id, statement.month))
    )
    lines = [
        heading,
        _("By {name}: {reason}").format(
            name=await decider_name(ctx, statement), reason=user_text(statement.dispute_reason, 600)
        ),
        _("Meetings: {count} · attendees: {attendees}").format(
            count=len(figures.held), attendees=figures.attendees
        ),
        _("No-shows: {count}").format(count=figures.no_shows),
        _("Consumables and fees: {amount}").format(amount=escape(money(reader, figures.consumables_cents))),
    ]
    return Rendered(fit_message("\n".join(lines)))
