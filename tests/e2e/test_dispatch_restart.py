"""Timers survive a crash: `uv run huiwu run` is killed with SIGKILL twice while tasks and
escalations come due; after each restart everything that came due while it was down is sent,
once, marked late, and nothing is sent twice.

The real clock shifted to a pretended moment (tests/support/wallclock.py), a site whose offsets
are seconds; the emulator runs in this test's process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.delivery.notices import NoticeDelivery
from bot.delivery.queue import queue
from bot.services.booking import BookingService
from bot.services.planning import TaskPlanner
from bot.site import load_site
from bot.telegram.i18n import build_i18n
from emulator.client import EmulatorClient
from emulator.server import EmulatorServer
from storage.database import Database, create_engine
from storage.models import OutboxMessage, Task, TaskEvent
from tests.support.factories import booking_request
from tests.support.harness import ROOT, TOKEN, register_site_people
from tests.support.wallclock import PretendClock

SERVICE, AV, SUPERVISOR, MANAGER = -1001, -1002, 2201, 2301
WAIT = 0.05  # minutes: 3 s between the chain's steps

SITE = f"""
[site]
name = {{ zh = "测试大楼", en = "Test building" }}

[[departments]]
id = "finance"
name = {{ zh = "财务处", en = "Finance" }}
invite_code = "join-finance"

[room_classes.A]
min_notice_minutes = 0
buffer_minutes = 0

[[layouts]]
id = "discussion"
name = {{ zh = "座谈式", en = "Discussion" }}

[[rooms]]
id = "r101"
name = {{ zh = "第一会议室", en = "Room 1" }}
class = "A"
capacity = 20
layouts = ["discussion"]

[[teams]]
id = "service"
name = {{ zh = "会务茶水组", en = "Service" }}
chat_id = {SERVICE}
leader = 3001
members = [3002]

[[teams]]
id = "av"
name = {{ zh = "技术保障组", en = "AV" }}
chat_id = {AV}
leader = 3101
members = [3102]

[[people]]
id = 1001
name = "王敏"
roles = ["requester"]
department = "finance"

[[people]]
id = {SUPERVISOR}
name = "陈静"
roles = ["supervisor"]

[[people]]
id = {MANAGER}
name = "周伟"
roles = ["manager"]

[escalation]
reminder_after_due_minutes = 0
chain = [{{ role = "supervisor", wait_minutes = {WAIT} }}, {{ role = "manager", wait_minutes = {WAIT} }}]

[[task_templates]]
id = "first"
team = "service"
name = {{ zh = "第一项", en = "First" }}
text = {{ zh = "第一项任务 {{room}}", en = "First task {{room}}" }}
push_offset_minutes = -0.5
due_offset_minutes = -0.45

[[task_templates]]
id = "second"
team = "av"
name = {{ zh = "第二项", en = "Second" }}
text = {{ zh = "第二项任务 {{room}}", en = "Second task {{room}}" }}
push_offset_minutes = -0.4
due_offset_minutes = -0.35

[[task_templates]]
id = "third"
team = "service"
anchor = "end"
name = {{ zh = "第三项", en = "Third" }}
text = {{ zh = "会后任务 {{room}}", en = "After task {{room}}" }}
push_offset_minutes = 0
due_offset_minutes = {WAIT}
"""


class Bot:
    """The bot as an operator runs it: its own process (group), killed without warning."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                ["uv", "run", "huiwu", "run"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # uv starts Python as a child: kill the whole group
            )

    def kill(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[EmulatorServer, EmulatorClient]]:
    server = EmulatorServer(token=TOKEN)
    await server.start()
    client = EmulatorClient(server.base_url)
    try:
        yield server, client
    finally:
        await client.close()
        await server.stop()


async def until(condition, within: float, what: str) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def count(messages: list[dict], task_id: int, marker: str) -> int:  # type: ignore[type-arg]
    """Messages about this task containing ``marker`` (``^…`` : starting with it)."""
    pattern = re.compile(rf"#{task_id}(?!\d)")
    found = 0
    for message in messages:
        text = message.get("text") or ""
        hit = text.startswith(marker[1:]) if marker.startswith("^") else marker in text
        found += bool(pattern.search(text) and hit)
    return found


@pytest.mark.wallclock
async def test_sigkill_and_restart_lose_nothing_and_double_nothing(
    tmp_path: Path, emulator: tuple[EmulatorServer, EmulatorClient]
) -> None:
    server, emu = emulator
    site_path = tmp_path / "site.toml"
    site_path.write_text(SITE, encoding="utf-8")
    site = load_site(site_path)
    await register_site_people(emu, site)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'huiwu.db'}"
    clock = PretendClock()
    env = dict(
        os.environ,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=server.base_url,
        DATABASE_URL=database_url,
        SITE_CONFIG=str(site_path),
        TICK_SECONDS="0.2",
        SENDER_IDLE_SECONDS="0.05",
        LOG_LEVEL="INFO",
        **clock.environment(),
    )
    bot = Bot(env, tmp_path / "bot.log")
    db = Database(create_engine(database_url))
    try:
        bot.start()

        async def migrated() -> bool:
            try:
                async with db.transaction() as session:
                    await session.execute(select(Task.id).limit(1))
                return True
            except Exception:
                return False

        await until(migrated, 60, "the bot to migrate its database")
        # the booking, as the booking dialog would make it: the meeting starts in 40 s, lasts 10 s
        delivery = NoticeDelivery(site, clock, build_i18n("zh"))
        planner = TaskPlanner(site, clock)

        async def plan(session, view, previous):  # type: ignore[no-untyped-def]
            outcome = await planner.plan(session, view, previous)
            await queue(session, delivery, outcome.outgoing)
            return outcome.notices

        start = (clock.now() + timedelta(seconds=40)).replace(microsecond=0)
        async with db.transaction() as session:
            await BookingService(site, clock, planner=plan).create(
                session,
                booking_request(
                    start,
                    duration=timedelta(seconds=10),
                    attendees=5,
                    title="Restart drill",
                    contact_phone="123",
                ),
            )
        async with db.transaction() as session:
            tasks = {t.template_id: t.id for t in (await session.scalars(select(Task))).all()}
        first, second, third = tasks["first"], tasks["second"], tasks["third"]

        async def nothing_in_flight() -> bool:
            """Every message sent is recorded as sent: a kill between the send and its record
            may double it (at-least-once there, see bot/delivery/outbox.py), which this test
            does not count, so it kills only when nothing is in flight."""
            async with db.transaction() as session:
                in_flight = await session.scalar(
                    select(OutboxMessage.id).where(OutboxMessage.status == "sending").limit(1)
                )
            return in_flight is None

        async def card_of_first() -> bool:
            if count(await emu.bot_messages(SERVICE), first, "第一项任务") != 1:
                return False
            return await nothing_in_flight()

        await until(card_of_first, 30, "the first card")
        bot.kill()  # 1: down across the first task's reminder and chain, the second's push
        await asyncio.sleep(max(0.0, (start - timedelta(seconds=19) - clock.now()).total_seconds()))
        bot.start()

        async def chain_of_second_done() -> bool:
            if count(await emu.bot_messages(MANAGER), second, "升级至") != 1:
                return False
            return await nothing_in_flight()

        await until(chain_of_second_done, 40, "the second task's chain")
        bot.kill()  # 2: down across the meeting's end: the third task's push and its chain
        await asyncio.sleep(max(0.0, (start + timedelta(seconds=17) - clock.now()).total_seconds()))
        bot.start()

        async def chain_of_third_done() -> bool:
            return count(await emu.bot_messages(MANAGER), third, "升级至") >= 1

        await until(chain_of_third_done, 40, "the third task's chain")
        await asyncio.sleep(3)  # anything doubled would show up now
        service, av = await emu.bot_messages(SERVICE), await emu.bot_messages(AV)
        supervisor, manager = await emu.bot_messages(SUPERVISOR), await emu.bot_messages(MANAGER)
        for task_id, group in ((first, service), (second, av), (third, service)):
            assert count(group, task_id, "^📋") == 1, task_id  # the card
            assert count(group, task_id, "") == 1, task_id  # the group reminder edits the card
            assert count(supervisor, task_id, "升级至客服主管") == 1, task_id
            assert count(manager, task_id, "升级至部门经理") == 1, task_id
        # pushed while the bot was down: marked late
        assert count(av, second, "晚于计划发送") == 1
        assert count(service, third, "晚于计划发送") == 1
        assert count(service, first, "晚于计划发送") == 0
        async with db.transaction() as session:
            events = (await session.scalars(select(TaskEvent).order_by(TaskEvent.id))).all()
        for task_id in (first, second, third):
            kinds = [e.kind for e in events if e.task_id == task_id]
            # the two tasks before the meeting end with their window at its start, once each
            chain = ["planned", "pushed", "reminded", "escalated", "escalated"]
            assert kinds == chain + (["missed"] if task_id in (first, second) else []), (task_id, kinds)
        late = [e.detail.get("late") for e in events if e.task_id == second and e.kind != "planned"]
        assert late[0] is True  # its push came while the bot was down
    finally:
        bot.stop()
        await db.dispose()
        if sys.exc_info()[0] is not None:
            print((tmp_path / "bot.log").read_text(errors="replace")[-5000:])
