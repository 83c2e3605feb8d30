"""Late changes reach the teams, and every change tells old → new (docs/product.md §2, §5).

* A meeting added, moved or cancelled after the digest that covers its day went out (or on a
  day no digest will ever cover) is told at once as an addendum to whoever gets the digest and
  to each team's group; before the digest, the digest itself carries it.
* A class-C meeting moved after its approval is on hold (the time it has, the time proposed);
  approved, the teams hear old → new; rejected, the meeting stays as before.

Each test runs in Chinese (the example site) and in English (the same site, English by default).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.booking import BookingChanges, BookingService
from bot.services.types import BookingStatus, BookingView
from storage.models import Booking, Task
from tests.support.clock_steps import book, drain, move_to, new_messages, text_of
from tests.support.harness import DEFAULT_START, EXAMPLE_SITE, SHANGHAI, Harness, running_bot
from tests.support.people import (
    APPROVER,
    AV_GROUP,
    CLEANING_GROUP,
    DISPATCHER,
    HOTLINE_GROUP,
    MANAGER,
    REQUESTER,
    SECURITY_GROUP,
    SERVICE_GROUP,
    SUPERVISOR,
)

TEAM_GROUPS = (SERVICE_GROUP, AV_GROUP, SECURITY_GROUP, CLEANING_GROUP, HOTLINE_GROUP)
DIGEST_READERS = (SUPERVISOR, MANAGER, DISPATCHER)
BUDGET: dict[str, Any] = {"group_per_minute": 1000, "global_per_second": 1000}
"""A generous budget: these tests are about what each chat is told, not about merging."""
TUESDAY_17 = DEFAULT_START.replace(hour=17)
WEDNESDAY_10 = DEFAULT_START.replace(hour=10) + timedelta(days=1)
THURSDAY_10 = DEFAULT_START.replace(hour=10) + timedelta(days=2)

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "addendum": "变更补充",
        "added": "新增会议",
        "changed": "会议变更",
        "cancelled": "会议已取消",
        "digest": "📅",
        "sunday": "第一会议室 · 12月6日（周日）10:00–12:00",
        "tomorrow": "第一会议室 · 明天 10:00–12:00",
        "moved": "时间：明天 10:00–12:00 → 明天 14:00–16:00",
        "tasks": "本组任务",
        "check_1": "一级检查",
        "hold": "会议变更待审批",
        "hall_now": "现定：203会议厅 · 12月3日（周四）10:00–12:00",
        "hall_proposed": "拟改为：203会议厅 · 12月3日（周四）11:00–13:00",
        "on_hold": "本组相关任务暂停",
        "hall_moved": "时间：12月3日（周四）10:00–12:00 → 12月3日（周四）11:00–13:00",
        "task_moved": "调整：二级检查 12月3日（周四）09:00 → 12月3日（周四）10:00",
        "kept": "变更未获批准，会议照原样进行：203会议厅 · 12月3日（周四）10:00–12:00",
        "task_back": "恢复：二级检查，12月3日（周四）09:00",
        "approve": "批准",
        "reject": "驳回",
        "approved": "已批准",
        "why": "驳回",
        "rejected": "预订保持原样",
    },
    "en": {
        "addendum": "Addendum",
        "added": "Meeting added",
        "changed": "Meeting changed",
        "cancelled": "Meeting cancelled",
        "digest": "📅",
        "sunday": "Meeting Room 1 · Sun 6 Dec 10:00–12:00",
        "tomorrow": "Meeting Room 1 · tomorrow 10:00–12:00",
        "moved": "Time: tomorrow 10:00–12:00 → tomorrow 14:00–16:00",
        "tasks": "Your team's tasks",
        "check_1": "Check 1",
        "hold": "Meeting change waiting for approval",
        "hall_now": "booked now: Hall 203 · Thu 3 Dec 10:00–12:00",
        "hall_proposed": "Proposed: Hall 203 · Thu 3 Dec 11:00–13:00",
        "on_hold": "on hold until the approver decides",
        "hall_moved": "Time: Thu 3 Dec 10:00–12:00 → Thu 3 Dec 11:00–13:00",
        "task_moved": "Moved: Check 2 Thu 3 Dec 09:00 → Thu 3 Dec 10:00",
        "kept": "Change not approved: the meeting stays as before: Hall 203 · Thu 3 Dec 10:00–12:00",
        "task_back": "Resumed: Check 2, Thu 3 Dec 09:00",
        "approve": "Approve",
        "reject": "Reject",
        "approved": "Approved",
        "why": "rejected",
        "rejected": "the booking stays as before",
    },
}
LANGUAGES = tuple(WORDS)


def site_in(tmp_path: Path, language: str) -> Path:
    """The example site, with ``language`` for the groups, everyone who chose none and the
    approver (who answers in their Telegram's language)."""
    site = tmp_path / f"site-{language}.toml"
    text = EXAMPLE_SITE.read_text(encoding="utf-8")
    for old, new in (
        ('default_language = "zh"', f'default_language = "{language}"'),
        ('roles = ["approver"]', f'roles = ["approver"]\nlanguage = "{language}"'),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    site.write_text(text, encoding="utf-8")
    return site


def service(h: Harness) -> BookingService:
    return h.app.dispatcher.workflow_data["booking_service"]


async def change(h: Harness, booking_id: int, **changes: Any) -> BookingView:
    async with h.app.db.transaction() as session:
        outcome = await service(h).change(
            session, booking_id, REQUESTER, "finance", BookingChanges(**changes)
        )
        await h.app.workers.delivery.deliver(session, outcome.notices)
    await drain(h)
    return outcome.booking


async def cancel(h: Harness, booking_id: int) -> None:
    async with h.app.db.transaction() as session:
        outcome = await service(h).cancel(session, booking_id, REQUESTER, "finance")
        await h.app.workers.delivery.deliver(session, outcome.notices)
    await drain(h)


async def approve(h: Harness, booking_id: int) -> None:
    async with h.app.db.transaction() as session:
        outcome = await service(h).decide(session, booking_id, APPROVER, approve=True)
        await h.app.workers.delivery.deliver(session, outcome.notices)
    await drain(h)


async def said(h: Harness, chat_id: int, since: int, words: str) -> list[str]:
    """The texts the bot sent to ``chat_id`` since ``since`` that contain ``words``."""
    return [text_of(m) for m in await new_messages(h, chat_id, since) if words in text_of(m)]


# ---------------------------------------------------------------------------- late changes


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_sunday_meeting_booked_on_friday_evening_is_told_at_once(
    tmp_path: Path, language: str
) -> None:
    words = WORDS[language]
    friday = datetime(2026, 12, 4, 16, 0, tzinfo=SHANGHAI)
    async with running_bot(tmp_path, site_path=site_in(tmp_path, language), start_at=friday, **BUDGET) as h:
        since = await h.emu.current_seq()
        await move_to(h, friday.replace(hour=17, minute=30))  # Friday's digest: Saturday to Monday
        assert await said(h, SUPERVISOR, since, words["digest"])

        since = await h.emu.current_seq()
        await book(h, datetime(2026, 12, 6, 10, 0, tzinfo=SHANGHAI), title="Sunday <overtime>")
        await drain(h)  # at once: the clock does not move
        for person in DIGEST_READERS:
            (addendum,) = await said(h, person, since, words["addendum"])
            assert words["added"] in addendum and words["sunday"] in addendum, addendum
            assert "Sunday <overtime>" in addendum  # an ordinary meeting: its title, escaped
        for group in TEAM_GROUPS:
            (addendum,) = await said(h, group, since, words["addendum"])
            assert words["added"] in addendum and words["sunday"] in addendum, addendum
            assert words["tasks"] in addendum, addendum
        (service_group,) = await said(h, SERVICE_GROUP, since, words["addendum"])
        assert words["check_1"] in service_group, service_group


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_meeting_moved_after_the_digest_is_told_old_and_new(tmp_path: Path, language: str) -> None:
    words = WORDS[language]
    async with running_bot(tmp_path, site_path=site_in(tmp_path, language), **BUDGET) as h:
        view = await book(h, WEDNESDAY_10, title="Budget review")
        await move_to(h, TUESDAY_17)
        since = await h.emu.current_seq()
        await change(h, view.id, start=WEDNESDAY_10.replace(hour=14), end=WEDNESDAY_10.replace(hour=16))
        for person in DIGEST_READERS:
            (addendum,) = await said(h, person, since, words["addendum"])
            assert words["changed"] in addendum and words["moved"] in addendum, addendum
        for group in TEAM_GROUPS:
            # the team's change notice is the addendum: one message, not two
            (addendum,) = await said(h, group, since, words["addendum"])
            assert words["changed"] in addendum and words["moved"] in addendum, addendum
            assert len(await said(h, group, since, words["changed"])) == 1


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_meeting_cancelled_after_the_digest_is_told(tmp_path: Path, language: str) -> None:
    words = WORDS[language]
    async with running_bot(tmp_path, site_path=site_in(tmp_path, language), **BUDGET) as h:
        view = await book(h, WEDNESDAY_10, title="Budget review")
        await move_to(h, TUESDAY_17)
        since = await h.emu.current_seq()
        await cancel(h, view.id)
        for chat in (*DIGEST_READERS, *TEAM_GROUPS):
            (addendum,) = await said(h, chat, since, words["addendum"])
            assert words["cancelled"] in addendum and words["tomorrow"] in addendum, addendum


async def test_a_change_before_the_digest_is_in_the_digest_and_the_next_one_is_an_addendum(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, **BUDGET) as h:
        since = await h.emu.current_seq()
        view = await book(h, WEDNESDAY_10, title="预算评审")
        await h.advance(hours=1)
        await change(h, view.id, start=WEDNESDAY_10.replace(hour=14), end=WEDNESDAY_10.replace(hour=16))
        extra = await book(h, THURSDAY_10, room="r102", title="后天的会")  # later days: not late either
        await cancel(h, extra.id)
        await move_to(h, TUESDAY_17)
        for chat in (*DIGEST_READERS, *TEAM_GROUPS):
            assert not await said(h, chat, since, WORDS["zh"]["addendum"]), chat
        (digest,) = await said(h, SUPERVISOR, since, "📅")
        assert "14:00–16:00" in digest and "10:00–12:00" not in digest and "预算评审" in digest
        # the team was told of the change as usual, without the addendum's line
        (changed,) = await said(h, SERVICE_GROUP, since, WORDS["zh"]["changed"])
        assert WORDS["zh"]["moved"] in changed

        # the digest is out: the next change is an addendum, and only that one
        since = await h.emu.current_seq()
        await change(h, view.id, attendees=18)
        for chat in (*DIGEST_READERS, *TEAM_GROUPS):
            (addendum,) = await said(h, chat, since, WORDS["zh"]["addendum"])
            assert "参会人数：10 → 18" in addendum, addendum


# ---------------------------------------------------------------------------- re-approval


async def moved_hall(h: Harness, words: dict[str, str]) -> tuple[BookingView, int]:
    """A class-C meeting approved for Thursday 10:00–12:00, then moved an hour later: on hold."""
    view = await book(h, THURSDAY_10, room="r203", attendees=120, title="Annual assembly")
    await approve(h, view.id)
    since = await h.emu.current_seq()
    moved = await change(
        h, view.id, start=THURSDAY_10 + timedelta(hours=1), end=THURSDAY_10 + timedelta(hours=3)
    )
    assert moved.status == BookingStatus.pending
    for group in TEAM_GROUPS:
        (hold,) = await said(h, group, since, words["hold"])
        assert words["hall_now"] in hold and words["hall_proposed"] in hold, hold
    (service_hold,) = await said(h, SERVICE_GROUP, since, words["hold"])
    assert words["on_hold"] in service_hold, service_hold
    return view, await h.emu.current_seq()


@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_approved_move_of_a_hall_tells_old_and_new(tmp_path: Path, language: str) -> None:
    words = WORDS[language]
    async with running_bot(tmp_path, site_path=site_in(tmp_path, language), **BUDGET) as h:
        view, since = await moved_hall(h, words)
        press = await h.press(APPROVER, words["approve"])
        answer = await h.emu.wait_for_callback_answer(press["callback_query_id"], timeout=10)
        assert words["approved"] in answer["text"]
        await drain(h)
        for group in TEAM_GROUPS:
            (changed,) = await said(h, group, since, words["changed"])
            assert words["hall_moved"] in changed, changed
        (service_changed,) = await said(h, SERVICE_GROUP, since, words["changed"])
        assert words["task_moved"] in service_changed, service_changed
        async with h.app.db.transaction() as session:
            stored = await session.get(Booking, view.id)
        assert stored is not None and stored.status == BookingStatus.confirmed


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_rejected_move_of_a_hall_keeps_the_meeting_as_before(tmp_path: Path, language: str) -> None:
    words = WORDS[language]
    async with running_bot(tmp_path, site_path=site_in(tmp_path, language), **BUDGET) as h:
        view, since = await moved_hall(h, words)
        await h.press(APPROVER, words["reject"])
        await h.emu.wait_for_message(APPROVER, words["why"], since=since, timeout=10)
        done = await h.ask(APPROVER, "The hall is booked for a rehearsal then", words["rejected"])
        assert f"#{view.id}" in done["text"]
        await drain(h)
        for group in TEAM_GROUPS:
            (kept,) = await said(h, group, since, words["kept"])
            assert words["changed"] not in kept
        (service_kept,) = await said(h, SERVICE_GROUP, since, words["kept"])
        assert words["task_back"] in service_kept, service_kept
        told = await h.emu.wait_for_message(REQUESTER, "变更未获批准", since=since, timeout=10)
        assert "rehearsal" in told["text"]
        async with h.app.db.transaction() as session:
            stored = await session.get(Booking, view.id)
            tasks = (await session.scalars(select(Task).where(Task.booking_id == view.id))).all()
        assert stored is not None and stored.status == BookingStatus.confirmed
        assert stored.start_at == THURSDAY_10 and stored.end_at == THURSDAY_10 + timedelta(hours=2)
        check_2 = [t for t in tasks if t.template_id == "check_2" and t.team_id == "av"]
        assert [(t.status, t.push_at) for t in check_2] == [("planned", THURSDAY_10 - timedelta(hours=1))]
