"""Tasks end with their window (docs/product.md §3, §4): a task still open when it closes is
missed — no more reminders or escalations, its messages lose their buttons, the weekly
briefing counts it; a late push is never due after the window; a problem escalates as a
problem, not as "overdue"."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.render.reports import workbook_bytes
from bot.render.text import Reader
from bot.services.clock import ManualClock
from bot.services.reports import IsoWeek, ReportService
from bot.site import SiteConfig, TaskTemplate
from bot.telegram.i18n import build_i18n
from storage.database import Database
from storage.models import Task
from tests.support.people import AV_GROUP, AV_MEMBER, MANAGER, SERVICE_GROUP, SUPERVISOR
from tests.unit.dispatch_support import Rig, local


@pytest.fixture
def rig(site: SiteConfig, clock: ManualClock, db: Database) -> Rig:
    return Rig(site, clock, db)


def shows(text: str | None, task: Task) -> bool:
    return re.search(rf"#{task.id}(?!\d)", text or "") is not None


@dataclass
class Shown:
    """A Telegram message as the chat sees it now: its latest text and keyboard."""

    chat_id: int
    message_id: int
    text: str
    markup: Any
    sends: int = 1
    edits: int = 0

    @property
    def buttons(self) -> bool:
        return bool(self.markup is not None and getattr(self.markup, "inline_keyboard", None))


async def deliver(rig: Rig) -> None:
    """Send everything queued, letting the sender's per-minute group budget refill."""
    idle = 0
    while idle < 2:
        if await rig.workers.send_pending():
            idle = 0
        else:
            idle += 1
            rig.monotonic.advance(61)


def messages(rig: Rig, chat_id: int | None = None) -> list[Shown]:
    """Every message the bot sent, replayed with its edits (the recording session numbers
    sent messages 101, 102, … in order)."""
    shown: dict[tuple[int, int], Shown] = {}
    next_id = 100
    for call in rig.telegram.calls:
        if call.method == "SendMessage":
            next_id += 1
            shown[(call.chat_id, next_id)] = Shown(call.chat_id, next_id, call.text or "", call.markup)
        elif call.method == "EditMessageText" and call.message_id is not None:
            message = shown[(call.chat_id, call.message_id)]
            message.text, message.markup = call.text or "", call.markup
            message.edits += 1
    return [m for m in shown.values() if chat_id is None or m.chat_id == chat_id]


def about(rig: Rig, task: Task, chat_id: int | None = None) -> list[Shown]:
    return [m for m in messages(rig, chat_id) if shows(m.text, task)]


async def walk(rig: Rig, start: datetime, end: datetime, step: timedelta = timedelta(minutes=5)) -> None:
    """Tick every ``step`` (and deliver) from ``start`` to ``end``."""
    moment = start
    while moment <= end:
        await rig.at(moment)
        await deliver(rig)
        moment += step


def with_template(site: SiteConfig, template_id: str, **changes: Any) -> SiteConfig:
    templates = tuple(
        TaskTemplate.model_validate({**t.model_dump(), **changes}) if t.id == template_id else t
        for t in site.task_templates
    )
    return site.model_copy(update={"task_templates": templates})


# ---- a pre-meeting task left open ---------------------------------------------------------------


async def test_a_pre_meeting_task_left_open_is_missed_at_the_start_and_its_card_loses_its_buttons(
    rig: Rig,
) -> None:
    view = await rig.book(services={"tea": {}})  # 10:00–12:00; brew tea 09:45, due 09:55
    await walk(rig, local(3, 9, 40), local(3, 9, 55))
    welcome = await rig.task("tea_welcome")
    assert welcome.status == "open" and welcome.expires_at == view.start
    cards = about(rig, welcome, SERVICE_GROUP)
    assert cards and all(m.buttons for m in cards)  # the card and its reminder
    assert about(rig, welcome, SUPERVISOR) == []

    await rig.at(local(3, 10))
    welcome = await rig.task("tea_welcome")
    assert welcome.status == "missed" and welcome.next_at is None
    kinds = [e.kind for e in await rig.events(welcome.id)]
    assert kinds == ["planned", "pushed", "reminded", "missed"]
    await deliver(rig)
    cards = about(rig, welcome, SERVICE_GROUP)
    assert cards and all("⌛" in m.text and not m.buttons and m.edits for m in cards)
    assert "已错过" in cards[0].text

    # the supervisor would have had it at 10:05, the manager at 10:15: nothing, ever
    before = len(rig.telegram.calls)
    await walk(rig, local(3, 10, 5), local(3, 13))
    assert about(rig, welcome, SUPERVISOR) == [] and about(rig, welcome, MANAGER) == []
    assert [c for c in rig.telegram.calls[before:] if shows(c.text, welcome)] == []
    assert [e.kind for e in await rig.events(welcome.id)] == kinds
    # a press on the old button changes nothing
    assert (await rig.press("confirm", welcome.id, 3002)).code == "closed"


async def test_an_escalated_and_acknowledged_task_is_missed_too_and_every_alert_says_so(rig: Rig) -> None:
    await rig.book()  # AV test: pushed 09:00, due 09:30, supervisor 09:40, manager 09:50
    await walk(rig, local(3, 9), local(3, 9, 40))
    av_test = await rig.task("av_test")
    assert (await rig.press("acknowledge", av_test.id, SUPERVISOR)).code == "acknowledged"
    # acknowledged: no more steps, only its window is left
    assert (await rig.task("av_test")).next_at == local(3, 10)
    await walk(rig, local(3, 9, 45), local(3, 9, 55))
    assert about(rig, av_test, MANAGER) == []
    await rig.at(local(3, 10))
    await deliver(rig)
    assert (await rig.task("av_test")).status == "missed"
    for chat in (AV_GROUP, SUPERVISOR):
        shown = about(rig, av_test, chat)
        assert shown and all("⌛" in m.text and not m.buttons for m in shown), chat


async def test_a_chain_that_ran_to_its_end_is_missed_at_the_start(rig: Rig) -> None:
    await rig.book()
    await walk(rig, local(3, 9), local(3, 9, 55))
    av_test = await rig.task("av_test")
    assert av_test.stage == 3 and av_test.status == "open"
    assert av_test.next_at == local(3, 10)  # the chain is over; its window is not
    await rig.at(local(3, 10))
    assert (await rig.task("av_test")).status == "missed"


# ---- a template's own expiry ------------------------------------------------------------------


async def test_after_the_meeting_a_task_ends_when_its_template_says(rig: Rig) -> None:
    await rig.book()  # ends 12:00; clearing the room is due 12:20, expires 2 h later (example site)
    await walk(rig, local(3, 12), local(3, 12, 40), timedelta(minutes=10))
    clear = await rig.task("clear_room")
    assert clear.expires_at == local(3, 14, 20)
    assert clear.status == "open" and clear.stage == 3 and clear.next_at == clear.expires_at
    await rig.at(local(3, 14, 19))
    assert (await rig.task("clear_room")).status == "open"
    await rig.at(local(3, 14, 20))
    await deliver(rig)
    assert (await rig.task("clear_room")).status == "missed"
    card = about(rig, clear, SERVICE_GROUP)
    assert card and all("⌛" in m.text and not m.buttons for m in card)


async def test_a_template_expiry_counted_from_the_start_closes_the_window_earlier(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    # tea preparation: pushed 09:00, due 09:40; its window closes 10 min before the start
    rig = Rig(with_template(site, "tea_prep", expires_from="start", expires_after_minutes=-10), clock, db)
    await rig.book(services={"tea": {}})
    await walk(rig, local(3, 9), local(3, 9, 45))
    prep = await rig.task("tea_prep")
    assert prep.expires_at == local(3, 9, 50) and prep.next_at == local(3, 9, 50)
    await rig.at(local(3, 9, 50))  # the supervisor's step and the expiry: the expiry wins
    assert (await rig.task("tea_prep")).status == "missed"
    await deliver(rig)
    assert about(rig, prep, SUPERVISOR) == []


# ---- late pushes --------------------------------------------------------------------------------


async def test_a_late_push_is_never_due_after_the_start(rig: Rig, clock: ManualClock) -> None:
    # booked at 10:07 for 11:35–12:05: the day-before inspection (a 2 h window) is posted at
    # once; its window again from now would make it due at 12:07, after the meeting
    clock.set(local(3, 10, 7))
    view = await rig.book(start=local(3, 11, 35), hours=0.5)
    await rig.at(local(3, 10, 8))
    inspection = await rig.task("inspection")
    assert inspection.status == "open" and inspection.late
    assert inspection.due_at == view.start
    check_1 = await rig.task("check_1")
    assert check_1.due_at == local(3, 10, 8) + timedelta(minutes=15)  # its window, well before
    await deliver(rig)
    card = about(rig, inspection, SERVICE_GROUP)[0]
    assert "11:35" in card.text and "12:07" not in card.text


async def test_a_late_class_c_notice_keeps_the_day_before_or_is_due_by_the_start(
    rig: Rig, clock: ManualClock
) -> None:
    # booked two days ahead, approved the day before at 11:02 for 15:00 tomorrow: the notice
    # ("be ready the day before") keeps its due time, today 15:00, not tomorrow 11:02
    clock.set(local(2, 9))
    first = await rig.book(room="vc1", start=local(4, 15), attendees=100)
    clock.set(local(3, 11, 2))
    await rig.approve(first.id)
    await rig.at(local(3, 11, 3))
    notices = [t for t in await rig.tasks(first.id) if t.template_id == "notice_c"]
    assert notices and all(t.late and t.due_at == local(3, 15) for t in notices)

    # approved 18 h ahead: the notice's day has passed; due at the start, not 24 h from now
    clock.set(local(3, 9))
    second = await rig.book(room="r203", start=local(5, 10), attendees=100)
    clock.set(local(4, 16))
    await rig.approve(second.id)
    await rig.at(local(4, 16, 1))
    notices = [t for t in await rig.tasks(second.id) if t.template_id == "notice_c"]
    assert notices and all(t.status == "open" and t.due_at == second.start for t in notices)
    await rig.at(local(5, 10))
    notices = [t for t in await rig.tasks(second.id) if t.template_id == "notice_c"]
    assert all(t.status == "missed" for t in notices)


async def test_a_late_push_during_the_meeting_is_never_due_after_its_end(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    during = TaskTemplate.model_validate(
        {
            "id": "mid_check",
            "team": "av",
            "text": {"zh": "{room}：会中巡查。", "en": "{room}: check during the meeting."},
            "push_offset_minutes": 10,
            "due_offset_minutes": 30,
        }
    )
    rig = Rig(site.model_copy(update={"task_templates": (*site.task_templates, during)}), clock, db)
    view = await rig.book(start=local(3, 11, 35), hours=0.5)  # 11:35–12:05
    mid = await rig.task("mid_check")
    assert mid.due_at == local(3, 12, 5) and mid.expires_at == view.end
    # the bot was down from 11:30 to 11:55: posted at 11:55, its 20 min would end at 12:15
    await rig.at(local(3, 11, 55))
    mid = await rig.task("mid_check")
    assert mid.status == "open" and mid.late and mid.due_at == view.end
    await rig.at(local(3, 12, 5))
    assert (await rig.task("mid_check")).status == "missed"


# ---- the weekly briefing --------------------------------------------------------------------------


async def test_the_weekly_briefing_counts_missed_tasks_per_team(rig: Rig, clock: ManualClock) -> None:
    await rig.book(services={"tea": {}})
    await rig.book(room="r102", start=local(3, 14))
    await walk(rig, local(3, 8), local(3, 16, 30), timedelta(minutes=10))
    # a task done in time is not missed
    tasks = await rig.tasks()
    missed = [t for t in tasks if t.status == "missed"]
    assert missed, "nobody pressed anything: the pre-meeting tasks are missed"
    by_team: dict[str, int] = {}
    for task in missed:
        by_team[task.team_id] = by_team.get(task.team_id, 0) + 1
    clock.set(local(4, 9))
    async with rig.db.transaction() as session:
        figures = await ReportService(rig.site, clock).week(session, IsoWeek.of(date(2026, 12, 3)))
    assert {row.task_id for row in figures.missed} == {t.id for t in missed}
    assert {row.team_id: row.missed for row in figures.teams if row.missed} == by_team
    assert all(row.missed <= row.late for row in figures.teams)  # missed ones are late too
    book = load_workbook(io.BytesIO(workbook_bytes(Reader(build_i18n("zh"), "en", rig.site), figures)))
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Missed tasks"] == len(missed)
    header = next(book["Teams"].iter_rows(max_row=1, values_only=True))
    column = header.index("Missed")
    teams = {row[0]: row[column] for row in book["Teams"].iter_rows(min_row=2, values_only=True)}
    assert teams["Conference service & tea"] == by_team["service"]


# ---- a problem reported before the due time ----------------------------------------------------


@pytest.mark.parametrize(
    ("language", "problem", "overdue"),
    [
        ("zh", "报告问题：设备故障", "逾期未确认"),
        ("en", "Problem reported by 郑浩: Equipment broken", "not confirmed"),
    ],
)
async def test_a_problem_before_the_due_time_escalates_as_a_problem(
    site: SiteConfig, clock: ManualClock, db: Database, language: str, problem: str, overdue: str
) -> None:
    people = tuple(
        p.model_copy(update={"language": language}) if p.id in (SUPERVISOR, MANAGER) else p
        for p in site.people
    )
    rig = Rig(site.model_copy(update={"people": people}), clock, db)
    await rig.book()
    await rig.at(local(3, 9))
    av_test = await rig.task("av_test")  # due 09:30
    await rig.at(local(3, 9, 5))
    assert (await rig.press("report_problem", av_test.id, AV_MEMBER, "preset:equipment")).code == "reported"
    await rig.at(local(3, 9, 15))  # the manager, one wait after the supervisor heard of it
    await deliver(rig)
    escalation = about(rig, av_test, MANAGER)
    assert len(escalation) == 1
    text = escalation[0].text
    assert problem in text and "郑浩" in text
    assert overdue not in text
    assert text.count("设备故障" if language == "zh" else "Equipment broken") == 1


async def test_a_step_that_comes_late_says_so_on_the_meeting_message_it_edits(rig: Rig) -> None:
    """The supervisor's message about a meeting, sent in time, is edited by a step taken late
    (the bot was down when it was due): the message now says the alert comes late."""
    late_line = "此提醒延迟发出"
    await rig.book()  # checks 2 and the venue unlock due 09:15: the supervisor at 09:25
    await walk(rig, local(3, 9), local(3, 9, 25))
    av_test = await rig.task("av_test")
    (message,) = [m for m in messages(rig, SUPERVISOR) if m.buttons]
    assert late_line not in message.text and not shows(message.text, av_test)
    # down from 09:25 to 09:45: the AV test (due 09:30, the supervisor at 09:40) comes late
    await rig.at(local(3, 9, 45))
    await deliver(rig)
    (edited,) = [m for m in messages(rig, SUPERVISOR) if m.message_id == message.message_id]
    assert shows(edited.text, av_test) and late_line in edited.text
