"""Timers and escalation (docs/product.md §4): push, reminder, supervisor, manager; presses; restarts."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.services.clock import ManualClock
from bot.site import SiteConfig
from storage import migrate
from storage.database import Database, create_engine
from tests.support.people import (
    AV_GROUP,
    AV_LEADER,
    AV_MEMBER,
    MANAGER,
    SERVICE_GROUP,
    SERVICE_LEADER,
    SERVICE_MEMBER,
    SUPERVISOR,
)
from tests.unit.dispatch_support import Rig, local

OUTSIDER = 3201  # the security leader: not in the AV team


def about(rows, task) -> list:
    """The outbox rows that show this task (its number, not a longer one)."""
    return [r for r in rows if re.search(rf"#{task.id}(?!\d)", r.text)]


@pytest.fixture
def rig(site: SiteConfig, clock: ManualClock, db: Database) -> Rig:
    return Rig(site, clock, db)


async def av_test(rig: Rig):
    return await rig.task("av_test")


async def test_a_task_is_pushed_at_its_time_with_its_buttons(rig: Rig) -> None:
    await rig.book()
    await rig.at(local(3, 8, 59))
    task = await av_test(rig)
    assert task.status == "planned"
    await rig.at(local(3, 9))
    task = await av_test(rig)
    assert task.status == "open" and not task.late and task.pushed_at == local(3, 9)
    cards = about(await rig.outbox(AV_GROUP), task)
    assert len(cards) == 1
    card = cards[0]
    assert card.reply_markup == [
        [
            {"text": card.reply_markup[0][0]["text"], "callback_data": f"t:{task.id}:d"},
            {"text": card.reply_markup[0][1]["text"], "callback_data": f"t:{task.id}:p"},
        ]
    ]
    assert "第一会议室" in card.text and "09:30" in card.text  # room and due time
    assert "Budget review" in card.text


async def test_a_confidential_meeting_shows_no_title_or_unit_in_groups(rig: Rig) -> None:
    await rig.book(confidential=True, title="Secret <merger> talks", notes="nobody must know")
    await rig.at(local(3, 9))
    for row in await rig.outbox():
        assert row.text is not None
        assert "merger" not in row.text and "财务处" not in row.text and "nobody" not in row.text


async def test_the_whole_chain_with_its_waits(rig: Rig) -> None:
    await rig.book()
    await rig.at(local(3, 9))
    task = await av_test(rig)
    assert task.next_at == local(3, 9, 30)  # due, reminder after 0 min
    await rig.at(local(3, 9, 29))
    assert (await av_test(rig)).stage == 0
    await rig.at(local(3, 9, 30))
    task = await av_test(rig)
    assert task.stage == 1 and task.next_at == local(3, 9, 40)
    # the group is reminded on the task's card (an edit, mentioning the leader): one keyboard
    shown = about(await rig.outbox(AV_GROUP), task)
    assert [r.kind for r in shown] == ["send", "edit"]
    assert "tg://user?id=3101" in shown[1].text and "尚未确认" in shown[1].text
    assert about(await rig.outbox(SUPERVISOR), task) == []
    await rig.at(local(3, 9, 40))
    escalations = [r for r in about(await rig.outbox(SUPERVISOR), task) if r.kind == "send"]
    assert len(escalations) == 1, [(r.kind, r.text) for r in about(await rig.outbox(SUPERVISOR), task)]
    data = [b["callback_data"] for row in escalations[0].reply_markup for b in row]
    assert [f"e:{task.id}:a", f"e:{task.id}:d", f"e:{task.id}:r"] == [
        d for d in data if d.startswith(f"e:{task.id}:")
    ]
    assert about(await rig.outbox(MANAGER), task) == []
    await rig.at(local(3, 9, 50))
    # one message per meeting: later tasks of the meeting edit it
    assert len([r for r in about(await rig.outbox(MANAGER), task) if r.kind == "send"]) == 1
    task = await av_test(rig)
    # no repeats configured: only the end of its window (the meeting's start) is left
    assert task.next_at == task.expires_at == local(3, 10)
    kinds = [e.kind for e in await rig.events(task.id)]
    assert kinds == ["planned", "pushed", "reminded", "escalated", "escalated"]


async def test_done_by_a_member_stops_the_chain_and_edits_the_card(rig: Rig) -> None:
    await rig.book()
    await rig.at(local(3, 9))
    await rig.at(local(3, 9, 30))
    task = await av_test(rig)
    await rig.workers.send_pending()
    result = await rig.press("confirm", task.id, AV_MEMBER)
    assert result.code == "done" and not result.on_behalf
    task = await av_test(rig)
    assert task.status == "done" and task.next_at is None and task.confirmed_by_id == AV_MEMBER
    edits = about(await rig.outbox(AV_GROUP, kind="edit"), task)
    assert len(edits) == 2  # the reminder and Done, both edits of the card: it loses its buttons
    assert all(e.reply_markup is None and "郑浩" in e.text for e in edits)
    await rig.at(local(3, 10, 30))
    assert about(await rig.outbox(SUPERVISOR), task) == []
    again = await rig.press("confirm", task.id, AV_LEADER)
    assert again.code == "already_done" and (await av_test(rig)).confirmed_by_id == AV_MEMBER


async def test_an_outsider_is_refused_and_nothing_changes(rig: Rig) -> None:
    await rig.book()
    await rig.at(local(3, 9))
    task = await av_test(rig)
    before = len(await rig.outbox())
    result = await rig.press("confirm", task.id, OUTSIDER)
    assert result.code == "refused" and result.outgoing == []
    assert (await av_test(rig)).status == "open"
    assert len(await rig.outbox()) == before
    refused = [e for e in await rig.events(task.id) if e.kind == "refused"]
    assert refused[0].actor_id == OUTSIDER
    assert (await rig.press("confirm", 999_999, AV_MEMBER)).code == "missing"


async def test_leader_only_check(rig: Rig) -> None:
    await rig.book()
    await rig.at(local(3, 8))
    check = await rig.task("check_1")
    assert (await rig.press("confirm", check.id, SERVICE_MEMBER)).code == "refused"
    result = await rig.press("confirm", check.id, SUPERVISOR)
    assert result.code == "done" and result.on_behalf
    check = await rig.task("check_1")
    assert check.on_behalf and check.confirmed_by_id == SUPERVISOR


async def test_problem_reaches_the_supervisor_at_once_and_the_manager_later(rig: Rig) -> None:
    await rig.book()
    await rig.at(local(3, 9))
    await rig.at(local(3, 9, 5))
    task = await av_test(rig)
    result = await rig.press("report_problem", task.id, AV_MEMBER, "preset:equipment")
    assert result.code == "reported"
    alerts = about(await rig.outbox(SUPERVISOR), task)
    assert len(alerts) == 1 and alerts[0].reply_markup is not None
    task = await av_test(rig)
    assert task.status == "problem" and task.stage == 2 and task.next_at == local(3, 9, 15)
    await rig.at(local(3, 9, 15))
    assert len(about(await rig.outbox(MANAGER), task)) == 1
    # free text is cleaned and kept
    again = await rig.press("report_problem", task.id, AV_LEADER, "  mic\n<b>broken</b>  ")
    assert again.code == "reported"
    assert (await av_test(rig)).problem_reason == "mic <b>broken</b>"
    # still one message about the meeting: edited, it says the latest reason
    alerts = about(await rig.outbox(SUPERVISOR, kind="send"), task)
    assert len(alerts) == 1 and "mic &lt;b&gt;broken&lt;/b&gt;" in alerts[0].text
    edits = [row for row in await rig.outbox(SUPERVISOR, kind="edit") if row.edit_of_id == alerts[0].id]
    assert edits
    # done after fixing it closes it
    assert (await rig.press("confirm", task.id, AV_MEMBER)).code == "done"


async def test_acknowledge_stops_the_chain_and_reassign_restarts_it(rig: Rig) -> None:
    # clearing the room after the meeting (ends 12:00): due 12:20, its window lasts until 14:20
    # (a task before the meeting ends at its start: tests/unit/test_task_window.py)
    await rig.book()
    for minute in (0, 20, 30):
        await rig.at(local(3, 12, minute))
    task = await rig.task("clear_room")
    assert task.stage == 2
    refused = await rig.press("acknowledge", task.id, AV_MEMBER)
    assert refused.code == "refused"
    result = await rig.press("acknowledge", task.id, SUPERVISOR)
    assert result.code == "acknowledged"
    assert (await rig.task("clear_room")).next_at == local(3, 14, 20)  # only the end of its window
    await rig.at(local(3, 13, 30))
    assert about(await rig.outbox(MANAGER), task) == []
    assert (await rig.press("reassign", task.id, SUPERVISOR, OUTSIDER)).code == "not_member"
    moved = await rig.press("reassign", task.id, SUPERVISOR, SERVICE_MEMBER)
    assert moved.code == "reassigned"
    task = await rig.task("clear_room")
    assert task.assignee_id == SERVICE_MEMBER and task.stage == 1 and task.next_at == local(3, 13, 40)
    shown = about(await rig.outbox(SERVICE_GROUP), task)
    notice = [r for r in shown if r.notice == "task_reassigned"]
    assert len(notice) == 1 and "tg://user?id=3002" in notice[0].text
    # the card keeps the task's only keyboard; the notice calls the new person to it
    assert notice[0].reply_markup is None
    assert len([r for r in shown if r.kind == "send" and r.reply_markup is not None]) == 1
    await rig.at(local(3, 13, 40))
    # escalated again: the meeting's message is edited, its buttons back for this task
    rows = about(await rig.outbox(SUPERVISOR), task)
    assert len([r for r in rows if r.kind == "send"]) == 1 and rows[-1].kind == "edit"
    data = [b["callback_data"] for row in rows[-1].reply_markup or [] for b in row]
    assert f"e:{task.id}:a" in data


async def test_after_a_downtime_late_pushes_keep_their_window_and_stale_ones_are_skipped(rig: Rig) -> None:
    await rig.book()
    # the bot was down from before 08:00 to 12:05
    rig.clock.set(local(3, 12, 5))
    await rig.workers.tick_once()
    clear = await rig.task("clear_room")
    assert clear.late and clear.status == "open"
    # pushed late, the task keeps the 20 min its template allows before the chain starts
    assert clear.due_at == local(3, 12, 25)
    assert [e.kind for e in await rig.events(clear.id)] == ["planned", "pushed"]
    # the tasks that prepare the meeting are pointless once it began: skipped, not pushed
    for template in ("check_1", "av_test", "inspection"):
        assert (await rig.task(template)).status == "skipped"
    assert (await rig.task("check_2", "av")).status == "skipped"
    # a second tick at the same time does nothing; the outbox has each message once
    assert await rig.workers.tick_once() == 0
    keys = [r.dedupe_key for r in await rig.outbox() if r.dedupe_key]
    assert len(keys) == len(set(keys))


async def test_steps_missed_while_down_are_taken_once_each_in_order(rig: Rig) -> None:
    await rig.book()
    await rig.at(local(3, 9))
    rig.clock.set(local(3, 9, 55))  # down across the due time and both chain waits
    await rig.workers.tick_once()
    task = await av_test(rig)
    events = await rig.events(task.id)
    assert [e.kind for e in events][-3:] == ["reminded", "escalated", "escalated"]
    assert all(e.detail["late"] for e in events[-3:])
    assert [e.detail.get("role") for e in events[-2:]] == ["supervisor", "manager"]
    assert len(about(await rig.outbox(SUPERVISOR), task)) == 1
    assert len(about(await rig.outbox(MANAGER), task)) == 1
    assert task.next_at == local(3, 10)  # only the end of its window (the meeting's start) is left
    assert await rig.workers.tick_once() == 0


async def test_two_claimers_never_double(
    site: SiteConfig, clock: ManualClock, tmp_path, db: Database
) -> None:
    first = Rig(site, clock, db)
    for hour in (10, 14, 17):
        await first.book(start=local(3, hour), hours=1)
        await first.book(room="r102", start=local(3, hour), hours=1)
    url = str(db.engine.url)
    other_db = Database(create_engine(url))
    second = Rig(site, clock, other_db, instance_name="other")
    try:
        clock.set(local(3, 18))  # everything of the day came due at once
        counts = await asyncio.gather(first.workers.tick_once(), second.workers.tick_once())
        # either claimer may take the whole batch (SKIP LOCKED): together they took it
        assert counts[0] >= 0 and counts[1] >= 0 and counts[0] + counts[1] > 0
        rows = await first.outbox(kind="send")
        keys = [r.dedupe_key for r in rows if r.dedupe_key]
        assert len(keys) == len(set(keys))
        tasks = await first.tasks()
        pushed = [t for t in tasks if t.status != "planned"]
        cards = [r for r in rows if r.dedupe_key and ":step:1" in r.dedupe_key]
        assert len(cards) == len([t for t in pushed if t.pushed_at is not None])
        assert all(t.lease_until is None for t in tasks)
    finally:
        await other_db.dispose()


async def test_bookings_move_to_in_progress_and_finished(rig: Rig) -> None:
    view = await rig.book()
    await rig.at(local(3, 10))
    async with rig.db.transaction() as session:
        current = await rig.booking.get(session, view.id)
    assert current is not None and current.status == "in_progress"
    await rig.at(local(3, 12))
    async with rig.db.transaction() as session:
        current = await rig.booking.get(session, view.id)
    assert current is not None and current.status == "finished"


async def test_a_team_without_a_group_is_reported_to_the_supervisor(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    teams = tuple(t.model_copy(update={"chat_id": None}) if t.id == "av" else t for t in site.teams)
    rig = Rig(site.model_copy(update={"teams": teams}), clock, db)
    await rig.book()
    await rig.at(local(3, 9))
    unbound = [r for r in await rig.outbox(SUPERVISOR) if "/bind av" in (r.text or "")]
    assert len(unbound) == 1  # once a day, not once per task
    assert (await rig.task("av_test")).status == "open"
    assert SERVICE_GROUP in {r.chat_id for r in await rig.outbox()}
    assert SERVICE_LEADER


async def test_reminder_tasks_carry_no_buttons(rig: Rig) -> None:
    await rig.book(services={"tea": {"refill_minutes": 30}})
    await rig.at(local(3, 10, 30))
    refill = await rig.task("tea_refill", occurrence=0)
    assert refill.status == "sent" and refill.next_at is None
    card = about(await rig.outbox(SERVICE_GROUP), refill)
    assert len(card) == 1 and card[0].reply_markup is None
    second = await rig.task("tea_refill", occurrence=1)
    assert second.status == "planned"
    assert timedelta(0) < second.push_at - refill.push_at == timedelta(minutes=30)


# ---- PostgreSQL: FOR UPDATE SKIP LOCKED ------------------------------------------------------------


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database of its own (skipped when none answers locally)."""
    try:
        import asyncpg

        admin = await asyncpg.connect(
            host="127.0.0.1", port=5432, user="postgres", database="postgres", timeout=3
        )
    except Exception as exc:
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({exc})")
    name = f"huiwu_dispatch_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    engine = create_engine(url, pool_size=2)
    try:
        await migrate.upgrade(engine)
        await engine.dispose()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_two_instances_on_postgres_never_double(
    site: SiteConfig, clock: ManualClock, postgres_url: str
) -> None:
    databases = [Database(create_engine(postgres_url, pool_size=3)) for _ in range(2)]
    try:
        first = Rig(site, clock, databases[0], instance_name="one")
        second = Rig(site, clock, databases[1], instance_name="two")
        for hour in (10, 14, 17):
            await first.book(start=local(3, hour), hours=1)
            await first.book(room="r102", start=local(3, hour), hours=1)
        for minute in range(0, 20 * 60, 13):
            clock.set(local(3, 0) + timedelta(minutes=minute))
            await asyncio.gather(first.workers.tick_once(), second.workers.tick_once())
        rows = await first.outbox(kind="send")
        keys = [r.dedupe_key for r in rows if r.dedupe_key]
        assert keys and len(keys) == len(set(keys))
        for task in await first.tasks():
            steps = [
                e.kind for e in await first.events(task.id) if e.kind in ("pushed", "reminded", "escalated")
            ]
            assert steps.count("pushed") <= 1 and steps.count("reminded") <= 1
        # two senders on one outbox: each row reaches Telegram once
        for _ in range(100):
            await asyncio.gather(first.workers.send_pending(), second.workers.send_pending())
            if all(r.status not in ("pending", "sending") for r in await first.outbox()):
                break
            first.monotonic.advance(61)
            second.monotonic.advance(61)
        rows = await first.outbox()
        assert all(r.status in ("sent", "merged", "applied") for r in rows)
        calls = first.telegram.calls + second.telegram.calls
        assert len(calls) == len([r for r in rows if r.status == "sent"])
        texts = [(c.chat_id, c.text) for c in calls]
        assert len(texts) == len(set(texts))
    finally:
        for database in databases:
            await database.dispose()
