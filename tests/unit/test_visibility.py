"""What each reader sees of a confidential meeting, in every view and export.

The seeded week (tests/unit/week_seed.py) has a confidential meeting (B3, Hall 203, class C,
the planning department); it is given a marked title, notes, banner, nameplates, contact and
feedback comment. Then every view is rendered as every kind of reader, and each text (every
cell of the spreadsheet, every label of the chart, the whole .ics file) is scanned.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from aiogram.utils.i18n import I18n
from openpyxl import load_workbook
from sqlalchemy import select

import bot.render  # noqa: F401  (registers the renderers)
from bot.delivery.notices import RenderContext
from bot.handlers.my import detail_view, list_view
from bot.render.aftercare import render_meeting_ended
from bot.render.booking import booking_summary
from bot.render.calendar import calendar_wording
from bot.render.digest import meetings_digest
from bot.render.escalations import render_task_escalation
from bot.render.reports import caption, chart_png, workbook_bytes
from bot.render.tasks import meetings_text, render_task_card
from bot.render.text import Reader
from bot.services.booking import to_view
from bot.services.calendar import CalendarService
from bot.services.clock import ManualClock
from bot.services.digest import DigestService
from bot.services.people import PeopleService
from bot.services.reports import IsoWeek, ReportService
from bot.services.tasks import TaskViews
from bot.services.types import Notice
from bot.services.visibility import (
    Audience,
    Medium,
    MeetingFacts,
    audience_of_chat,
    audience_of_person,
    meeting_view,
)
from bot.site import LocalText, Role, SiteConfig, TaskTemplate
from bot.telegram.i18n import build_i18n
from storage.database import Database
from storage.models import Booking, User
from storage.models.aftercare import Feedback
from tests.unit import week_seed
from tests.unit.week_seed import REPORT_AT

MARK = "QX7"
TITLE = f"绝密议题{MARK}"
NOTES = f"备注{MARK}"
BANNER = f"会标{MARK}"
NAMES = f"座签{MARK}甲、座签{MARK}乙"
CONTACT = f"联系人{MARK}"
PHONE = "13900007777"
COMMENT = f"评价{MARK}"
UNIT = ("发展规划处", "Planning Department")  # the planning department, B3's unit
SECRETS = (MARK, PHONE, *UNIT)
MEETING_DAY = date(2026, 12, 2)  # B3's day, a Wednesday

PLANNING_MEMBER = 9001  # registered with the planning department, no site role
READERS = {
    "own department": PLANNING_MEMBER,
    "other department": 1001,  # 王敏, finance
    "team staff": 3002,  # 张芳, conference service
    "team group": -1001,  # the conference-service group
    "supervisor": 2201,
    "manager": 2301,  # also an admin
    "dispatcher": 2001,  # also in the hotline team
    "approver": 2101,
}
SEE_IN_MESSAGES = {"own department", "supervisor", "manager", "dispatcher", "approver"}
"""Who reads the protected parts in a message (B3 is in a class C hall: the approver saw it)."""
SEE_IN_REPORTS = {"own department"}
"""Who reads them in a report or a file (digest, calendar, weekly briefing)."""


@dataclass
class Seeded:
    site: SiteConfig
    db: Database
    clock: ManualClock
    i18n: I18n
    booking_id: int
    task_id: int


def with_marked_template(site: SiteConfig) -> SiteConfig:
    """The seed's task T4 gets a template whose text asks for the title, unit and banner."""
    template = TaskTemplate(
        id="seed_t4",
        team="service",
        name=LocalText(zh="会标核对", en="Banner check"),
        text=LocalText(
            zh="核对{title}（{unit}）的会标：{banner}", en="Check the banner of {title} ({unit}): {banner}"
        ),
        push_offset_minutes=-60,
        due_offset_minutes=-30,
    )
    return site.model_copy(update={"task_templates": (*site.task_templates, template)})


@pytest.fixture
async def seeded(site: SiteConfig, db: Database) -> AsyncIterator[Seeded]:
    site = with_marked_template(site)
    async with db.transaction() as session:
        ids = await week_seed.seed(session, site)
        booking = await session.get(Booking, ids["B3"])
        assert booking is not None and booking.confidential and booking.department_id == "planning"
        booking.status = "in_progress"  # in the digest as well as in the week's meetings
        booking.title = TITLE
        booking.notes = NOTES
        booking.contact_name = CONTACT
        booking.contact_phone = PHONE
        booking.services = {
            "banner": {"text": BANNER},
            "nameplates": {"names": NAMES},
            "microphones": {"count": 4},
            "tea": {},
        }
        feedback = await session.scalar(select(Feedback).where(Feedback.booking_id == ids["B3"]))
        assert feedback is not None
        feedback.comment = COMMENT
        session.add(
            User(id=PLANNING_MEMBER, first_name="规划处", department_id="planning", created_at=REPORT_AT)
        )
    yield Seeded(site, db, ManualClock(REPORT_AT), build_i18n("zh"), ids["B3"], ids["T4"])


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def check(view: str, reader: str, text: str, allowed: set[str]) -> None:
    if reader in allowed:
        assert TITLE in text, f"{view} as {reader}: the title is missing (the check saw nothing)"
    else:
        assert not leaks(text), f"{view} as {reader} shows {leaks(text)}:\n{text}"


@pytest.fixture(params=["zh", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ---------------------------------------------------------------------------- the rule itself


def test_the_rule() -> None:
    banner = {"banner": {"text": BANNER}}
    secret = MeetingFacts("planning", TITLE, True, NOTES, CONTACT, PHONE, banner, needs_approval=True)
    ordinary = MeetingFacts(
        "finance", "例会", False, "茶要热", "王敏", "1", {"nameplates": {"names": "张三"}}
    )

    def sees(meeting: MeetingFacts, audience: Audience) -> bool:
        view = meeting_view(meeting, audience)
        shown = (view.title, view.department_id, view.notes, view.contact_name, view.banner)
        assert all(part is None for part in shown) or all(part is not None for part in shown[:4])
        return view.title is not None

    group = Audience.group()
    supervisor = Audience(frozenset({Role.supervisor}))
    approver = Audience(frozenset({Role.approver}))
    admin = Audience(frozenset({Role.admin}))
    staff = Audience(staff=True)
    assert sees(secret, Audience.organiser("planning"))
    assert sees(secret, Audience.organiser("planning").in_report())
    assert sees(secret, supervisor) and not sees(secret, supervisor.in_report())
    assert sees(secret, approver) and not sees(MeetingFacts("planning", "x", True), approver)
    assert not sees(secret, admin) and not sees(secret, staff) and not sees(secret, group)
    assert not sees(secret, Audience.organiser("finance"))
    assert sees(ordinary, group) and sees(ordinary, staff) and sees(ordinary, admin.in_report())
    assert not sees(ordinary, Audience.organiser("office")) and not sees(ordinary, Audience())
    hidden = meeting_view(secret, group)
    assert hidden.hidden and hidden.banner is None and hidden.services == {"banner": {}}
    counts = meeting_view(MeetingFacts("x", "t", True, services={"microphones": {"count": 4}}), group)
    assert counts.services == {"microphones": {"count": 4}}  # the work stays


# ---------------------------------------------------------------------------- the weekly briefing


@pytest.fixture
def chart_labels(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every text the chart draws (titles, tick labels, values), taken as it is saved."""
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    drawn: list[str] = []
    save = Figure.savefig

    def spy(figure: Figure, *args: Any, **kwargs: Any) -> Any:
        drawn.extend(text.get_text() for text in figure.findobj(Text))
        return save(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    yield drawn


async def test_the_weekly_briefing_masks_the_confidential_meeting_in_every_copy(
    seeded: Seeded, language: str, chart_labels: list[str]
) -> None:
    async with seeded.db.transaction() as session:
        figures = await ReportService(seeded.site, seeded.clock).week(session, IsoWeek(2026, 49))
    reader = Reader(seeded.i18n, language, seeded.site)
    masked = reader.gettext("(confidential)")
    # the briefing is the same file whoever asked for it: the supervisor's copy is masked too
    text = caption(reader, figures)
    assert not leaks(text) and str(len(figures.meetings)) in text

    chart_png(reader, figures)
    assert chart_labels and any(("203" in label) for label in chart_labels), "no labels seen"
    assert not [label for label in chart_labels if leaks(label)]

    book = load_workbook(io.BytesIO(workbook_bytes(reader, figures)))
    cells = [
        (sheet.title, cell.coordinate, str(cell.value))
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]
    assert not [cell for cell in cells if leaks(cell[2])], "a cell shows the confidential meeting"
    meetings = book.worksheets[1]
    rows = {row[0]: row for row in meetings.iter_rows(min_row=2, values_only=True)}
    secret = rows[seeded.booking_id]
    assert secret[5] == masked and secret[6] == masked  # unit and title
    assert len(rows) == 4  # still counted
    ordinary = next(row for row in rows.values() if row[0] != seeded.booking_id)
    assert ordinary[6] == "周例会" and ordinary[5] != masked  # ordinary meetings keep both
    summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert summary[reader.gettext("Confidential meetings")] == 1
    feedback = [row for row in book.worksheets[9].iter_rows(min_row=2, values_only=True)]
    assert [row[3] for row in feedback if row[0] == seeded.booking_id] == [masked]


# ---------------------------------------------------------------------------- every other view


async def _render_all(seeded: Seeded, language: str, chat_id: int) -> dict[str, tuple[str, set[str]]]:
    """Each view as the reader of ``chat_id`` gets it, with who may see the meeting in it."""
    site, clock = seeded.site, seeded.clock
    reader = Reader(seeded.i18n, language, site)
    views: dict[str, tuple[str, set[str]]] = {}
    async with seeded.db.transaction() as session:
        context = RenderContext(session, site, clock, seeded.i18n, language)
        in_message = await audience_of_chat(session, site, chat_id)
        in_report = await audience_of_chat(session, site, chat_id, Medium.report)

        card = await render_task_card(context, Notice("task_card", chat_id, {"task_id": seeded.task_id}))
        escalation = await render_task_escalation(
            context, Notice("task_escalation", chat_id, {"task_id": seeded.task_id, "role": "supervisor"})
        )
        ended = await render_meeting_ended(
            context, Notice("meeting_ended", chat_id, {"booking_id": seeded.booking_id})
        )
        assert card is not None and escalation is not None and ended is not None
        views["task card"] = (card.text + "\n" + (card.merge_text or ""), SEE_IN_MESSAGES)
        views["escalation"] = (escalation.text, SEE_IN_MESSAGES)
        views["aftercare card"] = (ended.text, SEE_IN_MESSAGES)

        day = await TaskViews(site, clock).day(session, MEETING_DAY)
        listing = await meetings_text(reader.at(clock.now()), session, "/today", day, audience=in_message)
        views["/today"] = ("\n".join(listing), SEE_IN_MESSAGES)

        booking = await session.get(Booking, seeded.booking_id)
        assert booking is not None
        views["booking summary"] = (
            booking_summary(reader, to_view(booking), audience=in_message),
            SEE_IN_MESSAGES,
        )
        if chat_id > 0:  # /my, as the person who asks in private (its list and its details)
            person = await PeopleService(site).identify(session, chat_id, "读者", None, clock.now())
            with seeded.i18n.context(), seeded.i18n.use_locale(language):  # handlers' own gettext
                listing_text, _keyboard = list_view(reader, person, [to_view(booking)])
                detail_text, _keyboard = detail_view(reader, to_view(booking), audience_of_person(person))
            views["/my"] = (listing_text + "\n" + detail_text, SEE_IN_MESSAGES)

        meetings = await DigestService(site, clock).meetings(session, [MEETING_DAY])
        views["digest"] = ("\n".join(meetings_digest(reader, meetings, in_report)), SEE_IN_REPORTS)

        room = site.room("r203")
        assert room is not None
        service = CalendarService(site, clock)
        # a group cannot ask for a file: read as nobody in particular
        viewer = chat_id if chat_id > 0 else None
        entries = await service.entries(session, room.id, viewer, in_report.department_id)
        ics = service.feed(room, entries, calendar_wording(reader, room)).decode()
        views[".ics"] = (ics.replace("\r\n ", ""), SEE_IN_REPORTS)  # unfolded lines
    return views


@pytest.mark.parametrize("who", list(READERS))
async def test_every_view_as_every_reader(seeded: Seeded, language: str, who: str) -> None:
    views = await _render_all(seeded, language, READERS[who])
    assert set(views) == {
        "task card",
        "escalation",
        "aftercare card",
        "/today",
        "booking summary",
        "digest",
        ".ics",
    } | ({"/my"} if READERS[who] > 0 else set())
    for name, (text, allowed) in views.items():
        check(name, who, text, allowed)
    summary, allowed = views["booking summary"]
    if who in allowed:  # notes, banner, nameplates and contact travel with the title
        for part in (NOTES, BANNER, NAMES, CONTACT, PHONE):
            assert part in summary, (who, part)
    # the task's own text asks for the title, unit and banner: filled in only for those allowed
    card, allowed = views["task card"]
    assert (BANNER in card) == (who in allowed)
    assert any(unit in card for unit in UNIT) == (who in allowed)
