"""The weekly briefing: figures of a seeded week, the chart, the spreadsheet and the CLI."""

from __future__ import annotations

import asyncio
import io
import warnings
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.render.reports import caption, chart_png, cjk_font, workbook_bytes
from bot.render.text import Reader
from bot.services.clock import ManualClock
from bot.services.reports import IsoWeek, ReportService, WeekError, WeekFigures, parse_week, weekly_due
from bot.site import SiteConfig, load_site
from bot.telegram.i18n import build_i18n
from storage import migrate
from storage.database import Database, create_engine
from tests.unit import week_seed
from tests.unit.week_seed import REPORT_AT, SHANGHAI, expected

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "examples" / "site.toml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def site() -> SiteConfig:
    return load_site(SITE)


async def seeded_database(url: str, site: SiteConfig) -> Database:
    db = Database(create_engine(url))
    await migrate.upgrade(db.engine)
    async with db.transaction() as session:
        await week_seed.seed(session, site)
    return db


@pytest.fixture
async def figures(tmp_path: Path, site: SiteConfig) -> AsyncIterator[WeekFigures]:
    db = await seeded_database(f"sqlite+aiosqlite:///{tmp_path / 'week.db'}", site)
    try:
        async with db.transaction() as session:
            yield await ReportService(site, ManualClock(REPORT_AT)).week(session, IsoWeek(2026, 49))
    finally:
        await db.dispose()


def test_parse_week() -> None:
    today = date(2026, 12, 3)
    assert parse_week(None, today) == IsoWeek(2026, 49)
    assert parse_week("", today).label == "2026-W49"
    assert parse_week("2026-W01", today) == IsoWeek(2026, 1)
    assert parse_week("2026w49", today) == IsoWeek(2026, 49)
    assert parse_week("2027-01-01", today) == IsoWeek(2026, 53)  # a Friday of 2026's last ISO week
    for bad in ("next week", "2026-W54", "2026-W00", "2026-13-01", "2026-02-30", "49"):
        with pytest.raises(WeekError):
            parse_week(bad, today)
    week = IsoWeek(2026, 49)
    assert (week.monday, week.sunday) == (date(2026, 11, 30), date(2026, 12, 6))


def test_weekly_due_from_friday_17_and_caught_up_only_for_the_week_that_just_ended(site: SiteConfig) -> None:
    assert weekly_due(site, datetime(2026, 12, 4, 16, 59, tzinfo=SHANGHAI)) == IsoWeek(2026, 48)
    assert weekly_due(site, datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI)) == IsoWeek(2026, 49)
    assert weekly_due(site, datetime(2026, 12, 6, 23, 59, tzinfo=SHANGHAI)) == IsoWeek(2026, 49)
    # the bot was down all weekend: Monday catches up the week that just ended, never an older one
    assert weekly_due(site, datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)) == IsoWeek(2026, 49)
    assert weekly_due(site, datetime(2026, 12, 11, 16, 59, tzinfo=SHANGHAI)) == IsoWeek(2026, 49)
    assert weekly_due(site, datetime(2026, 12, 11, 17, 0, tzinfo=SHANGHAI)) == IsoWeek(2026, 50)


async def test_figures_of_the_seeded_week(figures: WeekFigures) -> None:
    want = expected()
    assert figures.week.label == "2026-W49"
    assert len(figures.meetings) == want.meetings == 4
    assert figures.attendees == want.attendees == 418
    assert {r.key: (r.meetings, r.attendees) for r in figures.by_room} == want.by_room
    assert {r.key: (r.meetings, r.attendees) for r in figures.by_class} == want.by_class
    assert dict(figures.services) == want.services
    teams = {t.team_id: (t.tasks, t.on_time, t.late, t.median_minutes) for t in figures.teams}
    assert teams == want.teams
    assert teams["service"] == (4, 2, 2, 20.0) and teams["av"] == (3, 1, 2, 35.0)
    ids = {task.task_id for task in figures.late}
    assert len(ids) == len(want.late) == 4
    assert sorted(e.detail for e in figures.escalations) == sorted(want.escalations.values())
    assert [p.detail for p in figures.problems] == list(want.problems.values())
    assert sorted(f.score for f in figures.feedback) == sorted(want.scores)
    assert figures.feedback_average == pytest.approx(want.average)
    assert figures.score_counts == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert figures.consumables_cents == want.consumables_cents == 5000


async def test_an_empty_week(tmp_path: Path, site: SiteConfig) -> None:
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    await migrate.upgrade(db.engine)
    async with db.transaction() as session:
        empty = await ReportService(site, ManualClock(REPORT_AT)).week(session, IsoWeek(2026, 49))
    await db.dispose()
    assert (empty.meetings, empty.teams, empty.feedback, empty.feedback_average) == ([], [], [], None)
    reader = Reader(build_i18n("zh"), "zh", site)
    assert chart_png(reader, empty).startswith(PNG_SIGNATURE)
    assert load_workbook(io.BytesIO(workbook_bytes(reader, empty))).sheetnames


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_the_chart_is_a_png_and_every_glyph_renders(
    figures: WeekFigures, site: SiteConfig, language: str
) -> None:
    if language == "zh":
        assert cjk_font() == "Noto Sans SC", "the project's own CJK font (pylopdf-fonts-zh-cn) comes first"
    reader = Reader(build_i18n("zh"), language, site)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = chart_png(reader, figures)
    missing = [
        str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)
    ]
    assert missing == []
    assert png.startswith(PNG_SIGNATURE)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width >= 800 and height >= 1000 and width + height <= 10000  # Telegram's photo limits


async def test_the_spreadsheet_has_one_sheet_per_table(figures: WeekFigures, site: SiteConfig) -> None:
    want = expected()
    reader = Reader(build_i18n("zh"), "en", site)
    book = load_workbook(io.BytesIO(workbook_bytes(reader, figures)))
    assert book.sheetnames == [
        "Summary",
        "Meetings",
        "By room",
        "By class",
        "Services",
        "Teams",
        "Late tasks",
        "Escalations",
        "Problems",
        "Feedback",
        "Consumables",
        "No-shows",
    ]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Meetings"] == want.meetings and summary["Attendees"] == want.attendees
    assert summary["Late tasks"] == len(want.late) and summary["Escalations"] == len(want.escalations)
    assert summary["Average score"] == round(want.average, 2)
    rooms = {row[0]: row[2:] for row in book["By room"].iter_rows(min_row=2, values_only=True)}
    assert rooms == {"Meeting Room 1": (2, 18), "Room 301 (classroom)": (1, 100), "Hall 203": (1, 300)}
    teams = {row[0]: row[1:] for row in book["Teams"].iter_rows(min_row=2, values_only=True)}
    # tasks due, on time, late, missed (none in the seed), on-time rate, median minutes
    assert teams["Conference service & tea"] == (4, 2, 2, 0, 50.0, 20.0)
    assert teams["Security"] == (1, 1, 0, 0, 100.0, 40.0)
    meetings = list(book["Meetings"].iter_rows(min_row=2, values_only=True))
    assert len(meetings) == 4 and "(confidential)" in [row[6] for row in meetings]
    problems = list(book["Problems"].iter_rows(min_row=2, values_only=True))
    assert problems[0][-1] == "话筒坏了 <b>紧急</b>"  # a cell keeps the text as typed
    assert len(list(book["Feedback"].iter_rows(min_row=2))) == 3
    chinese = load_workbook(io.BytesIO(workbook_bytes(Reader(build_i18n("zh"), "zh", site), figures)))
    assert chinese.sheetnames[0] == "概览" and "满意度" in chinese.sheetnames


async def test_caption_fits_a_photo(figures: WeekFigures, site: SiteConfig) -> None:
    text = caption(Reader(build_i18n("zh"), "zh", site), figures)
    assert len(text) <= 1024 and "周业务简报 2026-W49" in text and "4场" in text


def test_cli_writes_the_same_spreadsheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = load_site(SITE)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        await (await seeded_database(url, site)).dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SITE_CONFIG", str(SITE))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    out = tmp_path / "reports" / "week.xlsx"
    assert main(["report", "week", "--out", str(out), "--week", "2026-12-02", "--language", "en"]) == 0
    assert "2026-W49" in capsys.readouterr().out
    book = load_workbook(out)
    assert len(list(book["Meetings"].iter_rows(min_row=2))) == 4
    assert main(["report", "week", "--out", str(out), "--week", "soon"]) == 2
