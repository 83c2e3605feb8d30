"""Strict reading of every input, through the emulator: button data with other scripts' digits
("²" that int() refuses, "٥" that int() reads as 5) is refused in every button family with the
usual answer and one warning line; names and reasons lose their bidirectional and zero-width
characters; a photo where words are expected gets a clear answer, a captioned one is read."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Booking, Task, TaskEvent, User
from tests.e2e.booking_steps import press_exact
from tests.e2e.test_aftercare import answer, ended_meeting, pressed, prompt
from tests.e2e.test_dispatch_flow import at, card, press, quiet, task
from tests.security.support import AV, SERVICE, anchor, every_bot_text, snapshot
from tests.support.clock_steps import book
from tests.support.harness import Harness, running_bot
from tests.support.people import ALICE, APPROVER, AV_MEMBER, SERVICE_LEADER, SUPERVISOR, WANG

JSON = dict[str, Any]
SUPERSCRIPT_TWO = "\u00b2"
ARABIC_DIGITS = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")
STALE = {"This button is no longer valid.", "该按钮已失效。"}
INVISIBLE = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff"
)
PHOTO = b"\x89PNG\r\n\x1a\n" + b"0" * 64
TEXT_NEEDED = ("cannot be read here", "无法识别图片")


def arabic(number: int) -> str:
    """The same number in Arabic-Indic digits: ``int()`` reads it, this bot must not."""
    return str(number).translate(ARABIC_DIGITS)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path, group_per_minute=1000, global_per_second=1000) as running:
        yield running


class Records(logging.Handler):
    """Every WARNING and ERROR logged while the test runs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def errors(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in self.records if r.levelno >= logging.ERROR]

    def refusals(self) -> list[logging.LogRecord]:
        return [
            r
            for r in self.records
            if r.levelno == logging.WARNING and "button data refused" in r.getMessage()
        ]


@contextlib.contextmanager
def logged() -> Iterator[Records]:
    # what earlier tests left for the garbage collector is collected now, not inside this
    # window, where its "unclosed" warnings would read as this test's errors
    gc.collect()
    records = Records()
    root = logging.getLogger()
    root.addHandler(records)
    try:
        yield records
    finally:
        root.removeHandler(records)


async def forged_answer(h: Harness, user: int, chat: int, data: str) -> JSON:
    click = await h.emu.click_button(user, chat, await anchor(h, user, chat), data, forge=True)
    return await h.emu.wait_for_callback_answer(click["callback_query_id"], timeout=10)


async def test_other_scripts_digits_in_every_button_family_are_refused(h: Harness) -> None:
    confirmed = await book(h, h.at(1, 10))
    pending = await book(h, h.at(3, 10), room="r203", layout="theatre", title="大会")
    assert pending.status == "pending"
    h.clock.set(h.at(1, 9, 0))
    await quiet(h)
    async with h.app.db.transaction() as session:
        service_task = (await session.scalars(select(Task).where(Task.team_id == "service"))).first()
    assert service_task is not None
    calendar = await h.ask(WANG, "/book", "哪一天")
    widget = calendar["reply_markup"]["inline_keyboard"][3][3]["callback_data"].rsplit(":", 1)[0]
    booking, revision, task_id = confirmed.id, pending.revision, service_task.id
    presses = [
        # /my: bk:<booking>:<action>[:<revision>]
        (WANG, WANG, f"bk:{booking}:y:{SUPERSCRIPT_TWO}"),
        (WANG, WANG, f"bk:{arabic(booking)}:v"),
        (WANG, WANG, f"bk:{booking}:y:{arabic(confirmed.revision)}"),
        # approval: apv:<booking>:<revision>:<a|r>
        (APPROVER, APPROVER, f"apv:{SUPERSCRIPT_TWO}:1:a"),
        (APPROVER, APPROVER, f"apv:{pending.id}:{SUPERSCRIPT_TWO}:a"),
        (APPROVER, APPROVER, f"apv:{arabic(pending.id)}:{revision}:a"),
        (APPROVER, APPROVER, f"apv:{pending.id}:{arabic(revision)}:r"),
        # a task's Done / Problem in the team's group, the supervisor's buttons
        (SERVICE_LEADER, SERVICE, f"t:{arabic(task_id)}:d"),
        (SERVICE_LEADER, SERVICE, f"t:{SUPERSCRIPT_TWO}:p"),
        (SERVICE_LEADER, SERVICE, f"t:{task_id}{SUPERSCRIPT_TWO}:d"),
        (SUPERVISOR, SUPERVISOR, f"e:{arabic(task_id)}:a"),
        (SUPERVISOR, SUPERVISOR, f"e:{task_id}:m:{arabic(SERVICE_LEADER)}"),
        (SUPERVISOR, SUPERVISOR, f"e:{task_id}:m:{SUPERSCRIPT_TWO}"),
        # after-care: item found, consumables, fee, feedback, /lost
        (SERVICE_LEADER, SERVICE, f"lf:n:{arabic(booking)}"),
        (SERVICE_LEADER, SERVICE, f"cs:o:{arabic(booking)}"),
        (SERVICE_LEADER, SERVICE, f"cs:c:{booking}:{SUPERSCRIPT_TWO}"),
        (SERVICE_LEADER, SERVICE, f"cs:c:{booking}:{arabic(1)}"),
        (WANG, WANG, f"fee:a:{arabic(1)}"),
        (WANG, WANG, f"fb:{arabic(booking)}:5"),
        (WANG, WANG, f"fb:{booking}:{SUPERSCRIPT_TWO}"),
        (SUPERVISOR, SUPERVISOR, f"lost:p:{arabic(1)}"),
        (SUPERVISOR, SUPERVISOR, f"lost:h:{SUPERSCRIPT_TWO}"),
        # the booking dialog's calendar (aiogram-dialog reads its data with a bare int())
        (WANG, WANG, f"{widget}:{SUPERSCRIPT_TWO}"),
        (WANG, WANG, f"{widget}:MONTH{arabic(5)}"),
        (WANG, WANG, f"{widget}:999999999999"),
    ]
    before = await snapshot(h)
    with logged() as records:
        answers = [(data, (await forged_answer(h, user, chat, data))["text"]) for user, chat, data in presses]
        await quiet(h)
    assert [(data, text) for data, text in answers if text not in STALE] == []
    assert not records.errors(), records.errors()
    refusals = records.refusals()
    assert len(refusals) == len(presses), [r.getMessage() for r in refusals]
    assert not [r for r in refusals if r.exc_info]  # one line each, no traceback
    assert await snapshot(h) == before
    # the dialog was not disturbed: the calendar still takes a real day
    await press_exact(h, WANG, "03", "几点开始")


async def test_a_name_and_a_reason_lose_their_invisible_characters(h: Harness) -> None:
    spoofed_name = "\u202eAV\u200b Member\u2066\u200f"
    await h.emu.update_user(AV_MEMBER, first_name=spoofed_name)
    await book(h, start=h.at(2, 10))
    await at(h, h.at(2, 9))
    av_test = await task(h, "av_test")
    since = await h.emu.current_seq()
    await press(h, AV_MEMBER, AV, await card(h, AV, av_test.id), f"t:{av_test.id}:p")
    choices = await h.emu.wait_for_message(AV, "出了什么问题", since=since)
    assert "AV Member" in choices["text"]
    await press(h, AV_MEMBER, AV, choices, f"t:{av_test.id}:o")
    question = await h.emu.wait_for_message(AV, "请回复本条消息", since=since)
    assert "AV Member" in question["text"]
    await h.emu.send_message(
        AV_MEMBER,
        "投影仪\u202e坏了\u200b\u2067 <b>\ufeff",
        chat_id=AV,
        reply_to_message_id=question["message_id"],
    )
    await h.emu.wait_for_message(AV, "已报告客服主管", since=since, timeout=10)
    await quiet(h)
    alert = await h.emu.wait_for_message(SUPERVISOR, "问题报告", since=since, timeout=10)
    assert "投影仪坏了 &lt;b&gt;" in alert["text"] or "投影仪坏了 <b>" in alert["text"]
    async with h.app.db.transaction() as session:
        reported = await session.get(Task, av_test.id)
        user = await session.get(User, AV_MEMBER)
    assert reported is not None and reported.problem_reason == "投影仪坏了 <b>"
    assert user is not None and user.first_name == "AV Member"
    for chat in (AV, SUPERVISOR):
        for text in (await every_bot_text(h))[chat]:
            assert not set(text) & set(INVISIBLE), (chat, text)


async def test_a_photo_as_a_problem_reason(h: Harness) -> None:
    await book(h, start=h.at(2, 10))
    await at(h, h.at(2, 9))
    av_test = await task(h, "av_test")
    since = await h.emu.current_seq()
    await press(h, AV_MEMBER, AV, await card(h, AV, av_test.id), f"t:{av_test.id}:p")
    choices = await h.emu.wait_for_message(AV, "出了什么问题", since=since)
    await press(h, AV_MEMBER, AV, choices, f"t:{av_test.id}:o")
    question = await h.emu.wait_for_message(AV, "请回复本条消息", since=since)

    # without words: told to write them, and the question stays open
    for wordless in (
        {"photo": PHOTO},
        {"document": b"%PDF-1.4", "file_name": "x.pdf"},
        {"photo": PHOTO, "caption": "\u200b"},
    ):
        since = await h.emu.current_seq()
        await h.emu.send_message(
            AV_MEMBER, chat_id=AV, reply_to_message_id=question["message_id"], **wordless
        )
        told = await h.emu.wait_for_message(
            AV, lambda m: any(t in (m.get("text") or "") for t in TEXT_NEEDED), since=since, timeout=10
        )
        assert f"#{av_test.id}" in told["text"]
    async with h.app.db.transaction() as session:
        assert (await session.get(Task, av_test.id)).status == "open"  # type: ignore[union-attr]

    # a photo with a caption: the caption is the reason, the photo is kept in the history
    since = await h.emu.current_seq()
    await h.emu.send_message(
        AV_MEMBER, chat_id=AV, reply_to_message_id=question["message_id"], photo=PHOTO, caption="灯泡坏了"
    )
    await h.emu.wait_for_message(AV, "已报告客服主管", since=since, timeout=10)
    await quiet(h)
    alert = await h.emu.wait_for_message(SUPERVISOR, "问题报告", since=since, timeout=10)
    assert "灯泡坏了" in alert["text"]
    async with h.app.db.transaction() as session:
        reported = await session.get(Task, av_test.id)
        events = (await session.scalars(select(TaskEvent).where(TaskEvent.task_id == av_test.id))).all()
    assert reported is not None and reported.status == "problem" and reported.problem_reason == "灯泡坏了"
    assert next(e.detail.get("photo") for e in events if e.kind == "problem")


async def test_typed_numbers_in_other_scripts_are_refused_and_the_step_goes_on(h: Harness) -> None:
    await h.ask(ALICE, "/book", "Which day")
    await h.ask(ALICE, "2026-12-03", "when does the meeting start")
    await h.ask(ALICE, "10:00", "When does it end")
    await h.ask(ALICE, "12:00", "How many people")
    for count in ("\u00b9\u00b2", arabic(12)):
        refused = await h.ask(ALICE, count, "digits 0–9")
        assert "How many people" in refused["text"]
    await h.ask(ALICE, "\uff11\uff12", "Rooms free")  # full-width digits are the same number
    await h.click(ALICE, "Meeting Room 1", "How should")
    await h.click(ALICE, "Discussion", "Reception level")
    await press_exact(h, ALICE, "3", "Which services")
    await h.click(ALICE, "Tea service", "Which services")
    await h.click(ALICE, "Done", "Refill every")
    for minutes in (arabic(5), arabic(30), "3" + SUPERSCRIPT_TWO):
        refused = await h.ask(ALICE, minutes, "digits 0–9")
        assert "Refill every" in refused["text"]
    await h.ask(ALICE, "30", "title of the meeting")
    # a photo or a file where text is expected: said so, and the step stays
    since = await h.emu.current_seq()
    await h.emu.send_message(ALICE, document=b"%PDF-1.4", file_name="agenda.pdf")
    told = await h.emu.wait_for_message(ALICE, "cannot be read here", since=since, timeout=10)
    assert "title of the meeting" in told["text"]
    await h.ask(ALICE, "Budget\u202e review\u200b", "contact person")
    await h.ask(ALICE, "Alice\u2066 Chen", "phone number")
    await h.ask(ALICE, "010-6512 3456", "confidential")
    await press_exact(h, ALICE, "No", "notes")
    summary = await h.ask(ALICE, "line one\u200f\nline two\u202e", "check your booking")
    assert "Budget review" in summary["text"] and "line one\nline two" in summary["text"]
    await h.click(ALICE, "Confirm", "Booked")
    async with h.app.db.transaction() as session:
        stored = (await session.scalars(select(Booking))).one()
    assert (stored.title, stored.contact_name, stored.notes) == (
        "Budget review",
        "Alice Chen",
        "line one\nline two",
    )
    assert stored.services == {"tea": {"refill_minutes": 30}}


async def test_after_care_quantities_in_other_scripts_and_wordless_answers(h: Harness) -> None:
    await ended_meeting(h, title="培训会")
    since = await h.emu.current_seq()
    await pressed(h, SERVICE_LEADER, SERVICE, "会务用品登记")
    await h.emu.wait_for_message(SERVICE, "会务用品使用登记", since=since, timeout=10)
    since = await h.emu.current_seq()
    await pressed(h, SERVICE_LEADER, SERVICE, "瓶装水")
    question = await prompt(h, SERVICE, "用了多少", since)
    refused = await answer(h, SERVICE_LEADER, SERVICE, question, "数字 0–9", text=arabic(5))
    again = await prompt(h, SERVICE, "用了多少", refused["seq"] - 1)
    told = await answer(h, SERVICE_LEADER, SERVICE, again, "无法识别图片", photo=PHOTO)
    assert "用了多少" in told["text"]
    again = await prompt(h, SERVICE, "用了多少", told["seq"] - 1)
    recorded = await answer(h, SERVICE_LEADER, SERVICE, again, "已登记", text="５")
    assert "瓶装水 — 5 瓶" in recorded["text"]
