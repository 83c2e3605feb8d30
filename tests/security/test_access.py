"""Who may see and do what: unregistered people, other departments, other teams, and the
confidential meeting whose title, unit and notes reach only the people allowed to read them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.services.booking import BookingChanges
from storage.models import Booking, OutboxMessage, Task
from tests.e2e.booking_steps import book_directly
from tests.security.support import AV, GROUPS, every_bot_text, forge, snapshot
from tests.support.clock_steps import book, clock_jobs
from tests.support.harness import Harness, running_bot
from tests.support.people import (
    ALICE,
    AV_MEMBER,
    DISPATCHER,
    DISPATCHER_2,
    MANAGER,
    SECURITY_LEADER,
    STRANGER,
    SUPERVISOR,
    WANG,
)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path, group_per_minute=1000, global_per_second=1000) as running:
        yield running


async def quiet(h: Harness) -> None:
    """Settle, then wait until the app's own sender has nothing in flight."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        await h.settle()
        async with h.app.db.transaction() as session:
            busy = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))
            )
        if not busy or loop.time() > deadline:
            return
        await asyncio.sleep(0.05)


async def test_an_unregistered_user_can_book_nothing_and_see_nothing(h: Harness) -> None:
    secret = await book_directly(h, start=h.at(2, 10), title="Merger SEEN-BY-NOBODY")
    await quiet(h)
    await h.emu.create_user(STRANGER, "Mallory", language_code="en")
    before = await snapshot(h)
    for command in ("/start", "/book", "/my", "/today", "/overdue", "/mytasks", "/rooms", "/week", "/digest"):
        reply = await h.ask(STRANGER, command, lambda m: True)
        assert reply["text"], command
    await h.ask(STRANGER, "Book room 101 tomorrow 10:00-12:00 for 10 people", lambda m: True)
    for data in (
        f"bk:{secret.id}:v",
        f"bk:{secret.id}:c",
        f"bk:{secret.id}:y:{secret.revision}",
        f"bk:{secret.id}:e",
        f"apv:{secret.id}:{secret.revision}:a",
        "t:1:d",
        "e:1:d",
        f"fb:{secret.id}:5",
        f"lf:n:{secret.id}",
        "ics:r101",
    ):
        answer = await forge(h, STRANGER, STRANGER, data)
        assert answer["answered"], data
    await quiet(h)
    assert await snapshot(h) == before
    seen = "\n".join((await every_bot_text(h)).get(STRANGER, []))
    assert "SEEN-BY-NOBODY" not in seen
    assert "register" in seen.lower() or "join" in seen.lower() or "invite" in seen.lower()


async def test_requesters_see_and_manage_only_their_department(h: Harness) -> None:
    finance = await book_directly(
        h, start=h.at(2, 10), requester=WANG, department="finance", title="FINANCE-ONLY plan"
    )
    office = await book_directly(h, room="r102", start=h.at(2, 10), title="OFFICE-OWN sync")
    await quiet(h)
    mine = await h.ask(ALICE, "/my", lambda m: bool(m.get("reply_markup")) or "no upcoming" in m["text"])
    shown = mine["text"] + repr(mine.get("reply_markup"))
    assert f"#{office.id}" in shown and f"#{finance.id}" not in shown
    assert "FINANCE-ONLY" not in shown
    before = await snapshot(h)
    for data in (
        f"bk:{finance.id}:v",
        f"bk:{finance.id}:c",
        f"bk:{finance.id}:y:{finance.revision}",
        f"bk:{finance.id}:e",
    ):
        answer = await forge(h, ALICE, ALICE, data)
        assert answer["answered"], data
    await quiet(h)
    assert await snapshot(h) == before
    assert "FINANCE-ONLY" not in "\n".join((await every_bot_text(h))[ALICE])


async def test_staff_of_one_team_cannot_confirm_another_teams_task(h: Harness) -> None:
    await book(h, h.at(2, 10))
    h.clock.set(h.at(2, 9, 10))
    await quiet(h)
    async with h.app.db.transaction() as session:
        av_tasks = (
            await session.scalars(select(Task).where(Task.team_id == "av", Task.status == "open"))
        ).all()
    assert av_tasks
    before = await snapshot(h)
    for task in av_tasks:
        for action in ("d", "p", "o", "r:equipment"):
            # a security man pressing in the AV group, and in his own group with forged data
            assert (await forge(h, SECURITY_LEADER, AV, f"t:{task.id}:{action}"))["answered"]
            assert (await forge(h, SECURITY_LEADER, -1003, f"t:{task.id}:{action}"))["answered"]
        # only the supervisor acts on escalations
        for action in ("a", "d", "r", f"m:{SECURITY_LEADER}"):
            assert (await forge(h, AV_MEMBER, AV_MEMBER, f"e:{task.id}:{action}"))["answered"]
    await quiet(h)
    assert await snapshot(h) == before


MARK = "QZX7-SECRET"


async def test_a_confidential_meeting_never_leaks_its_title_unit_or_notes(h: Harness) -> None:
    """A confidential booking with a marker in its title and notes lives its whole life (tasks
    pushed, reminders, escalations to supervisor and manager, the 17:00 digest, a change, a
    cancellation); then every message the bot sent anywhere is scanned."""
    service = h.app.dispatcher.workflow_data["booking_service"]
    delivery = h.app.workers.delivery
    view = await book(
        h,
        h.at(1, 10),
        room="r301",
        title=f"{MARK} title",
        confidential=True,
        level=1,
        services={
            "tea": {"refill_minutes": 15},
            "water": {},
            "microphones": {"count": 2},
            "banner": {"text": f"{MARK} banner"},
        },
    )
    async with h.app.db.transaction() as session:
        row = await session.get(Booking, view.id)
        assert row is not None
        row.notes = f"{MARK} notes"
    await quiet(h)
    # the 17:00 digest of tomorrow's meetings, and each team's list of tomorrow's tasks
    h.clock.set(h.at(0, 17))
    await quiet(h)
    await clock_jobs(h)
    # the day itself: pushes, reminders, escalations; nobody confirms anything
    moment = h.at(1, 7)
    while moment <= h.at(1, 9, 30):
        h.clock.set(moment)
        await quiet(h)
        moment += timedelta(minutes=10)
    # /today and /overdue of the people who may see it, /mytasks in a group
    for person in (SUPERVISOR, MANAGER):
        await h.ask(person, "/today", lambda m: True)
        await h.ask(person, "/overdue", lambda m: True)
    since = await h.emu.current_seq()
    await h.emu.send_message(AV_MEMBER, "/mytasks", chat_id=AV)
    await h.emu.wait_for_message(AV, None, since=since, timeout=10)
    await h.ask(AV_MEMBER, "/mytasks", lambda m: True)
    # a change of time and room, then a cancellation
    async with h.app.db.transaction() as session:
        outcome = await service.change(
            session,
            view.id,
            WANG,
            "finance",
            BookingChanges(start=h.at(1, 14), end=h.at(1, 16), room_id="r102", layout="discussion"),
        )
        await delivery.deliver(session, outcome.notices)
    await quiet(h)
    h.clock.set(h.at(1, 13, 20))
    await quiet(h)
    async with h.app.db.transaction() as session:
        outcome = await service.cancel(session, view.id, WANG, "finance")
        await delivery.deliver(session, outcome.notices)
    await quiet(h)

    allowed = {WANG, DISPATCHER, DISPATCHER_2, SUPERVISOR, MANAGER}
    texts = await every_bot_text(h)
    assert set(GROUPS) <= set(texts)
    assert sum(len(texts[g]) for g in GROUPS) >= 10, "the teams were told nothing: the test saw no life"
    assert any("升级" in t or "逾期" in t or "未确认" in t for t in texts.get(SUPERVISOR, [])), (
        "no escalation"
    )
    leaks = []
    for chat_id, messages in texts.items():
        if chat_id in allowed:
            continue
        for text in messages:
            for secret in (MARK, "财务处", "Finance Department"):
                if secret in text:
                    leaks.append((chat_id, secret, text[:200]))
    assert not leaks, leaks
    # the people allowed did get the title (so the scan looked at the right thing)
    assert any(MARK in t for c in allowed for t in texts.get(c, []))
