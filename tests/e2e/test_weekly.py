"""The weekly briefing (周业务简报) through the emulator: a seeded week, Friday 17:00, /week."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import load_workbook

from tests.support.clock_steps import clock_jobs, move_to, new_messages, text_of
from tests.support.harness import SHANGHAI, Harness
from tests.support.people import DISPATCHER, MANAGER, REQUESTER, SUPERVISOR
from tests.unit import week_seed
from tests.unit.week_seed import REPORT_AT, expected

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def _files(h: Harness, chat_id: int, since: int) -> tuple[list[dict], list[dict]]:
    messages = await new_messages(h, chat_id, since)
    return [m for m in messages if m.get("photo")], [m for m in messages if m.get("document")]


async def _download(h: Harness, message: dict) -> bytes:
    if message.get("photo"):
        return await h.emu.file_bytes(message["photo"][-1]["file_id"])
    return await h.emu.file_bytes(message["document"]["file_id"])


async def test_friday_briefing_to_the_supervisor_and_the_manager(harness: Harness) -> None:
    h = harness
    await clock_jobs(h)  # the bot ran last week too: that week's briefing is behind it
    async with h.app.db.transaction() as session:
        await week_seed.seed(session, h.site)
    want = expected()
    since = await h.emu.current_seq()
    await move_to(h, REPORT_AT.replace(hour=16, minute=59))
    assert (await _files(h, SUPERVISOR, since)) == ([], [])

    await move_to(h, REPORT_AT)
    for person, language in ((SUPERVISOR, "zh"), (MANAGER, "zh")):
        photos, documents = await _files(h, person, since)
        assert len(photos) == 1 and len(documents) == 1, person
        caption = text_of(photos[0])
        assert "周业务简报 2026-W49" in caption and f"会议：{want.meetings}场" in caption
        assert f"参会：{want.attendees}人次" in caption
        on_time = sum(t[1] for t in want.teams.values())
        tasks = sum(t[0] for t in want.teams.values())
        assert f"（{tasks}项中{on_time}项）" in caption
        assert (await _download(h, photos[0])).startswith(PNG_SIGNATURE)
        assert documents[0]["document"]["file_name"] == "huiwu-week-2026-W49.xlsx"
        book = load_workbook(io.BytesIO(await _download(h, documents[0])))
        assert language == "zh" and book.sheetnames[0] == "概览"
        summary = {row[0]: row[1] for row in book["概览"].iter_rows(min_row=2, values_only=True)}
        assert summary["会议"] == want.meetings and summary["参会人数"] == want.attendees
        assert summary["超时任务"] == len(want.late) and summary["升级记录"] == len(want.escalations)
        assert summary["问题记录"] == len(want.problems) and summary["满意度评分数"] == len(want.scores)
        teams = {row[0]: row[1:] for row in book["各组确认情况"].iter_rows(min_row=2, values_only=True)}
        tasks_, on_time_, late, median = want.teams["av"]
        rate = round(100 * on_time_ / tasks_, 1)
        assert teams["技术保障组"] == (tasks_, on_time_, late, 0, rate, median)  # 0 missed in the seed
        rooms = {row[0]: row[2:] for row in book["按会议室"].iter_rows(min_row=2, values_only=True)}
        assert rooms["203会议厅"] == want.by_room["r203"]
        scores = [row[4] for row in book["满意度"].iter_rows(min_row=2, values_only=True)]
        assert sorted(scores) == sorted(want.scores)

    # not to anyone else, and only once
    assert (await _files(h, DISPATCHER, since)) == ([], [])
    await clock_jobs(h)
    await move_to(h, datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI))
    photos, documents = await _files(h, SUPERVISOR, since)
    assert len(photos) == 1 and len(documents) == 1


async def test_week_on_demand_with_a_week_argument(harness: Harness) -> None:
    h = harness
    async with h.app.db.transaction() as session:
        await week_seed.seed(session, h.site)
    await move_to(h, datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI))  # the next Tuesday
    since = await h.emu.current_seq()
    await h.ask(MANAGER, "/week 2026-W49", "2026-W49")
    await h.emu.wait_for_message(MANAGER, lambda m: bool(m.get("document")), since=since, timeout=30)
    photos, documents = await _files(h, MANAGER, since)
    assert len(photos) == 1 and len(documents) == 1
    book = load_workbook(io.BytesIO(await _download(h, documents[0])))
    assert len(list(book["会议"].iter_rows(min_row=2))) == expected().meetings

    since = await h.emu.current_seq()
    await h.ask(MANAGER, "/week 2026-12-02", "2026-W49")  # a date picks its week
    await h.emu.wait_for_message(MANAGER, lambda m: bool(m.get("document")), since=since, timeout=30)

    bad = await h.ask(MANAGER, "/week next <tuesday>", "不是有效的周次")
    assert "next <tuesday>" in bad["text"]
    refused = await h.ask(REQUESTER, "/week", "周业务简报仅供")
    assert refused["text"]
    this_week = await h.ask(SUPERVISOR, "/week", "2026-W50")
    assert "2026-W50" in this_week["text"]
