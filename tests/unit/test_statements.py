"""The monthly statement per department: the month in the site's zone, the figures of a seeded
month, the claim exactly once, the answers, the spreadsheet, the site settings and the CLI."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.render.statements import statement_text, summary_text, workbook_bytes
from bot.render.text import Reader
from bot.services.clock import ManualClock
from bot.services.statements import (
    Month,
    MonthError,
    StatementError,
    StatementService,
    parse_month,
    statement_moment,
    statements_due,
)
from bot.site import SiteConfig, SiteConfigError, load_site, parse_site
from bot.telegram.i18n import build_i18n
from storage import migrate
from storage.database import Database, create_engine
from tests.unit import month_seed
from tests.unit.month_seed import ALICE, EXPECTED, SHANGHAI, WANG, local

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "examples" / "site.toml"
DECEMBER = Month(2026, 12)
SEND_AT = datetime(2027, 1, 1, 9, 0, tzinfo=SHANGHAI)


# ---------------------------------------------------------------------------- months


def test_month_bounds_are_midnights_in_the_site_zone(site: SiteConfig) -> None:
    start, end = Month(2026, 11).bounds(site)
    assert start == datetime(2026, 11, 1, tzinfo=SHANGHAI)
    assert end == datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert start.astimezone(UTC) == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert DECEMBER.bounds(site)[1] == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert Month(2028, 2).last == date(2028, 2, 29)


def test_january_goes_back_to_december_of_the_previous_year() -> None:
    assert Month(2027, 1).previous() == DECEMBER
    assert DECEMBER.next() == Month(2027, 1)
    assert parse_month(None, date(2027, 1, 15)) == DECEMBER
    assert parse_month("", date(2026, 12, 5)) == Month(2026, 11)
    assert parse_month("2026-11", date(2027, 1, 1)) == Month(2026, 11)
    assert parse_month("2026-1", date(2027, 1, 1)).label == "2026-01"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026/11", "٢٠٢٦-١١", "11-2026", "next month"])
def test_a_month_is_read_strictly(text: str) -> None:
    with pytest.raises(MonthError):
        parse_month(text, date(2026, 12, 5))


def test_the_due_month_follows_the_site_zone(site: SiteConfig) -> None:
    assert statement_moment(site, DECEMBER) == SEND_AT
    # 1 January 08:59 in Shanghai: December's are not due yet, November's are the last due
    assert statements_due(site, datetime(2027, 1, 1, 0, 59, tzinfo=UTC)) == Month(2026, 11)
    assert statements_due(site, datetime(2027, 1, 1, 1, 0, tzinfo=UTC)) == DECEMBER  # 09:00 Shanghai
    # 31 December 17:00 UTC is already 1 January in Shanghai, but before 09:00
    assert statements_due(site, datetime(2026, 12, 31, 17, 0, tzinfo=UTC)) == Month(2026, 11)
    assert statements_due(site, datetime(2027, 1, 20, 12, 0, tzinfo=SHANGHAI)) == DECEMBER


def test_the_day_and_time_come_from_the_site_file() -> None:
    import tomllib

    data: dict[str, Any] = tomllib.loads(SITE.read_text(encoding="utf-8"))
    data["statements"] = {"day": 5, "time": "17:30"}
    site = parse_site(data)
    assert statement_moment(site, Month(2026, 11)) == datetime(2026, 12, 5, 17, 30, tzinfo=SHANGHAI)
    assert statements_due(site, datetime(2026, 12, 5, 17, 29, tzinfo=SHANGHAI)) == Month(2026, 10)
    data.pop("statements")
    assert parse_site(data).statements.day == 1 and parse_site(data).statements.time == "09:00"


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        ({"day": 31}, "statements.day"),
        ({"day": 0}, "statements.day"),
        ({"time": "9am"}, "statements.time"),
        ({"hour": 9}, "statements.hour"),
    ],
)
def test_bad_settings_are_clear_problems(statements: dict[str, Any], problem: str) -> None:
    import tomllib

    data: dict[str, Any] = tomllib.loads(SITE.read_text(encoding="utf-8"))
    data["statements"] = statements
    with pytest.raises(SiteConfigError) as raised:
        parse_site(data)
    assert any(line.startswith(problem) for line in raised.value.problems), raised.value.problems


# ---------------------------------------------------------------------------- figures and the claim


async def _seeded(db: Database, site: SiteConfig) -> dict[str, int]:
    async with db.transaction() as session:
        return await month_seed.seed(session, site)


async def test_figures_of_each_department(db: Database, site: SiteConfig) -> None:
    ids = await _seeded(db, site)
    service = StatementService(site, ManualClock(SEND_AT))
    async with db.read() as session:
        summary = await service.summary(session, DECEMBER)
        finance = await service.department(session, "finance", DECEMBER)
        office = await service.department(session, "office", DECEMBER)
    assert [s.department_id for s in summary] == ["finance", "planning"]
    for figures in summary:
        want = EXPECTED[figures.department_id]
        assert len(figures.held) == want.meetings
        assert figures.no_shows == want.no_shows
        assert figures.attendees == want.attendees
        assert figures.consumables_cents == want.consumables_cents
        assert {status: figures.fees(status) for status in want.fees} == want.fees
    assert {m.booking_id for m in finance.meetings} == {ids[k] for k in ("F1", "F2", "F3", "F4")}
    assert [(c.consumable_id, c.quantity, c.amount_cents) for c in finance.consumables] == [
        ("bottled_water", 10, 2000),
        ("tea_leaves", 2, 3000),
        ("paper_cups", 20, 400),
        ("pens", 3, 600),
    ]
    assert office.empty
    assert service.contacts(summary[0]) == [WANG]  # finance's admin
    assert service.contacts(summary[1]) == [ALICE]  # planning has none: who booked


async def test_the_month_is_claimed_exactly_once(db: Database, site: SiteConfig) -> None:
    await _seeded(db, site)
    service = StatementService(site, ManualClock(SEND_AT))

    async def queue() -> tuple[int, list[Any]]:
        async with db.transaction() as session:
            return await service.queue(session, DECEMBER)

    first, second = await asyncio.gather(queue(), queue())
    sent, notices = first if first[0] else second
    assert sorted((first[0], second[0])) == [0, 2] and not (first[1] and second[1])
    assert sent == 2
    kinds = sorted((n.kind, n.chat_id) for n in notices)
    assert kinds == sorted(
        [
            ("statement", WANG),
            ("statement_workbook", WANG),
            ("statement", ALICE),
            ("statement_workbook", ALICE),
            ("statements_summary", 2201),
        ]
    )
    assert await queue() == (0, [])
    async with db.read() as session:
        assert await service.claimed(session, DECEMBER)
        rows = await service.of_month(session, DECEMBER)
    assert [(r.department_id, r.status, r.recipients) for r in rows] == [
        ("finance", "sent", (WANG,)),
        ("planning", "sent", (ALICE,)),
    ]


async def test_an_empty_month_is_claimed_and_sends_nothing(db: Database, site: SiteConfig) -> None:
    service = StatementService(site, ManualClock(SEND_AT))
    async with db.transaction() as session:
        assert await service.queue(session, Month(2026, 10)) == (0, [])
    async with db.read() as session:
        assert await service.claimed(session, Month(2026, 10))


async def test_accept_and_dispute(db: Database, site: SiteConfig) -> None:
    await _seeded(db, site)
    service = StatementService(site, ManualClock(SEND_AT))
    async with db.transaction() as session:
        await service.queue(session, DECEMBER)
    async with db.read() as session:
        finance, planning = await service.of_month(session, DECEMBER)

    async def decide(statement_id: int, user: int, accept: bool, reason: str | None = None) -> Any:
        async with db.transaction() as session:
            return await service.decide(session, statement_id, user, accept, reason)

    with pytest.raises(StatementError) as refused:
        await decide(finance.id, ALICE, True)
    assert refused.value.code == "not_yours"
    with pytest.raises(StatementError) as refused:
        await decide(planning.id, ALICE, False, " \u200b ")
    assert refused.value.code == "no_reason"
    accepted, notices = await decide(finance.id, WANG, True)
    assert accepted.status == "accepted" and accepted.decided_by_id == WANG and notices == []
    with pytest.raises(StatementError) as refused:
        await decide(finance.id, WANG, False, "too late")
    assert refused.value.code == "decided"
    disputed, notices = await decide(planning.id, ALICE, False, "Flowers were not ordered")
    assert disputed.status == "disputed" and disputed.dispute_reason == "Flowers were not ordered"
    assert [(n.kind, n.chat_id) for n in notices] == [("statement_disputed", 2201)]
    with pytest.raises(StatementError) as refused:
        await decide(10_000, WANG, True)
    assert refused.value.code == "not_found"


# ---------------------------------------------------------------------------- what is shown


def _reader(site: SiteConfig, language: str) -> Reader:
    return Reader(build_i18n(site.site.default_language), language, site, SEND_AT)


async def test_the_spreadsheet_and_the_texts(db: Database, site: SiteConfig) -> None:
    await _seeded(db, site)
    service = StatementService(site, ManualClock(SEND_AT))
    async with db.read() as session:
        finance = await service.department(session, "finance", DECEMBER)
        summary = await service.summary(session, DECEMBER)
    book = load_workbook(io.BytesIO(workbook_bytes(_reader(site, "en"), finance)))
    assert book.sheetnames == ["Summary", "Meetings", "Consumables"]
    figures = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert figures["Department"] == "Finance Department" and figures["Month"] == "2026-12"
    assert figures["Meetings"] == 3 and figures["No-shows"] == 1 and figures["Attendees"] == 21
    assert figures["Consumables amount"] == 60.0
    assert figures["Fee confirmations accepted"] == 1 and figures["Fee confirmations disputed"] == 1
    meetings = list(book["Meetings"].iter_rows(min_row=2, values_only=True))
    assert len(meetings) == 4
    first = meetings[0]
    assert first[1] == datetime(2026, 12, 1, 0, 30)  # local time, no zone
    assert first[4] == "月初碰头会" and first[6] == "no" and first[7] == 50.0 and first[8] == "accepted"
    # the department's own statement shows its own confidential title
    assert any(row[4] == "预算保密会" for row in meetings)
    assert [row[6] for row in meetings].count("yes") == 1
    consumables = list(book["Consumables"].iter_rows(min_row=2, values_only=True))
    assert consumables[0] == ("Bottled water", "bottle", 10, 20.0)

    zh = load_workbook(io.BytesIO(workbook_bytes(_reader(site, "zh"), finance)))
    assert zh.sheetnames == ["概览", "会议", "会务用品"]

    text = statement_text(_reader(site, "zh"), finance, None)
    assert "月度结算单：财务处，2026年12月" in text and "未到场：1场" in text and "60.00 元" in text
    total = summary_text(_reader(site, "en"), DECEMBER, summary)
    assert "Finance Department: 3 meeting(s), 1 no-show(s), 60.00 CNY" in total
    assert "Total: 4 meeting(s), 1 no-show(s), 140.00 CNY" in total
    assert "预算保密会" not in total and "Confidential meetings counted: 1" in total


# ---------------------------------------------------------------------------- the CLI


def test_cli_writes_the_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = load_site(SITE)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        db = Database(create_engine(url))
        await migrate.upgrade(db.engine)
        await _seeded(db, site)
        await db.dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SITE_CONFIG", str(SITE))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out" / "finance.xlsx"
    argv = [
        "report",
        "month",
        "--dept",
        "finance",
        "--month",
        "2026-12",
        "--out",
        str(out),
        "--language",
        "en",
    ]
    assert main(argv) == 0
    assert "2026-12" in capsys.readouterr().out
    assert out.stat().st_mode & 0o777 == 0o600
    book = load_workbook(out)
    assert len(list(book["Meetings"].iter_rows(min_row=2))) == 4
    assert main(["report", "month", "--dept", "nobody", "--out", str(out)]) == 2
    assert "no such department" in capsys.readouterr().err
    assert main(["report", "month", "--dept", "finance", "--month", "2026-13", "--out", str(out)]) == 2
    assert "2026-11" in capsys.readouterr().err


def test_local_helper_is_in_the_zone() -> None:
    assert local(12, 1, 0, 30).astimezone(UTC) == datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
