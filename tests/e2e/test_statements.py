"""The monthly statement per department through the emulator: a seeded December, 1 January
09:00 (the year turns), Accept, Dispute with a reason, nothing twice, and the CLI's file."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.services.statements import Month, StatementService
from tests.support.clock_steps import clock_jobs, drain, move_to, new_messages, text_of
from tests.support.harness import SHANGHAI, Harness
from tests.support.people import ALICE, DISPATCHER, SUPERVISOR, WANG
from tests.unit import month_seed

DECEMBER = Month(2026, 12)
SEND_AT = datetime(2027, 1, 1, 9, 0, tzinfo=SHANGHAI)
FINANCE_TITLE = "月度结算单：财务处，2026年12月"
PLANNING_TITLE = "Monthly statement: Planning Department, December 2026"


async def _statement_messages(h: Harness, chat_id: int, since: int) -> tuple[list[dict], list[dict]]:
    """The statement texts and statement files the bot sent ``chat_id`` since ``since``."""
    messages = await new_messages(h, chat_id, since)
    texts = [m for m in messages if "结算单" in text_of(m) or "statement" in text_of(m).lower()]
    files = [
        m for m in messages if (m.get("document") or {}).get("file_name", "").startswith("huiwu-statement-")
    ]
    return texts, files


async def _statements(h: Harness) -> dict[str, str]:
    async with h.app.db.read() as session:
        rows = await StatementService(h.site, h.clock).of_month(session, DECEMBER)
    return {row.department_id: row.status for row in rows}


async def test_the_first_of_the_month_sends_each_department_its_statement(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    h = harness
    await clock_jobs(h)  # 1 December 09:00: November's run, with nothing in November
    async with h.app.db.transaction() as session:
        await month_seed.seed(session, h.site)
    since = await h.emu.current_seq()

    await move_to(h, SEND_AT.replace(hour=8, minute=59))
    for person in (WANG, ALICE, SUPERVISOR):
        assert await _statement_messages(h, person, since) == ([], []), person

    await move_to(h, SEND_AT)
    # finance: its admin, in Chinese, with its own titles (the confidential one too)
    texts, files = await _statement_messages(h, WANG, since)
    assert len(texts) == 1 and len(files) == 1
    finance = texts[0]
    assert FINANCE_TITLE in text_of(finance) and "会议：3场" in text_of(finance)
    assert "未到场：1场" in text_of(finance) and "60.00 元" in text_of(finance)
    assert [b["text"] for b in finance["reply_markup"]["inline_keyboard"][0]] == ["✅ 确认", "❓ 有异议"]
    assert files[0]["document"]["file_name"] == "huiwu-statement-finance-2026-12.xlsx"
    book = load_workbook(io.BytesIO(await h.emu.file_bytes(files[0]["document"]["file_id"])))
    assert book.sheetnames == ["概览", "会议", "会务用品"]
    titles = [row[4] for row in book["会议"].iter_rows(min_row=2, values_only=True)]
    assert "预算保密会" in titles and "十一月的会" not in titles and "一月的会" not in titles
    # planning has no admins: the person who booked its meeting, in English
    texts, files = await _statement_messages(h, ALICE, since)
    assert len(texts) == 1 and len(files) == 1
    assert PLANNING_TITLE in text_of(texts[0]) and "80.00 CNY" in text_of(texts[0])
    # the supervisor: every department, counted, no meeting named
    summaries = [m for m in await new_messages(h, SUPERVISOR, since) if "月度结算单" in text_of(m)]
    assert len(summaries) == 1
    summary = text_of(summaries[0])
    assert "财务处：会议3场，未到场1场，60.00 元" in summary and "发展规划处：会议1场" in summary
    assert "预算保密会" not in summary and "其中保密会议：1场" in summary
    assert await _statement_messages(h, DISPATCHER, since) == ([], [])

    # Accept is recorded; the buttons go
    pressed = await h.emu.press_button(WANG, WANG, "确认")
    answer = await h.emu.wait_for_callback_answer(pressed["callback_query_id"], timeout=10)
    assert "已确认" in answer["text"]
    edited = await h.emu.get_message(WANG, finance["message_id"])
    assert "已于" in text_of(edited) and not edited.get("reply_markup")
    assert (await _statements(h))["finance"] == "accepted"

    # Dispute asks the reason; the reason reaches the supervisor
    asked = await h.emu.current_seq()
    await h.emu.press_button(ALICE, ALICE, "Dispute")
    question = await h.emu.wait_for_message(ALICE, "Reply with the reason", since=asked, timeout=10)
    assert question["reply_markup"]["force_reply"] is True
    await drain(h)
    replied = await h.emu.current_seq()
    await h.emu.send_message(ALICE, "Flowers were never <ordered>", chat_id=ALICE)
    await h.emu.wait_for_message(ALICE, "sent to the supervisor", since=replied, timeout=10)
    await drain(h)
    alert = await h.emu.wait_for_message(SUPERVISOR, "月度结算单有异议", since=replied, timeout=10)
    assert "Flowers were never <ordered>" in text_of(alert)  # escaped, shown as typed
    assert "发展规划处" in text_of(alert)
    assert (await _statements(h)) == {"finance": "accepted", "planning": "disputed"}
    edited = await h.emu.get_message(ALICE, (await _statement_messages(h, ALICE, since))[0][0]["message_id"])
    assert "Disputed by" in text_of(edited) and not edited.get("reply_markup")

    # a second run, and the days after, send nothing
    again = await h.emu.current_seq()
    await clock_jobs(h)
    await move_to(h, SEND_AT.replace(day=2, hour=10))
    for person in (WANG, ALICE):
        assert await _statement_messages(h, person, again) == ([], []), person
    assert [m for m in await new_messages(h, SUPERVISOR, again) if "月度结算单：各部门" in text_of(m)] == []

    # the CLI writes the same file from the same database
    monkeypatch.setenv("DATABASE_URL", h.app.settings.database_url)
    monkeypatch.setenv("SITE_CONFIG", str(h.app.settings.site_config))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "finance.xlsx"
    argv = ["report", "month", "--dept", "finance", "--month", "2026-12", "--out", str(out)]
    assert await asyncio.to_thread(main, argv) == 0
    written = load_workbook(out)
    assert written.sheetnames == book.sheetnames
    assert [r[:7] for r in written["会议"].iter_rows(min_row=2, values_only=True)] == [
        r[:7] for r in book["会议"].iter_rows(min_row=2, values_only=True)
    ]
