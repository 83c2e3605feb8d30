"""SIGKILL at random moments: nothing lost, nothing doubled beyond the send-record instant.

`huiwu run` runs as a subprocess in polling mode against the Bot API emulator (in this test's
process), with the real clock shifted to a pretended moment (tests/support/wallclock.py:
HUIWU_TEST_NOW, default a working-day morning), Redis for the dialog state and a site whose task offsets are
seconds. Three requesters book meetings the way people do (``/book <one sentence>``, the
reception level, Confirm); the teams press Done on half of the task cards as they arrive and
leave the other half to be reminded and escalated to the supervisor and the manager. Meanwhile
a killer SIGKILLs the bot at random moments (seeded: HUIWU_SIGKILL_SEED, default random and
printed; HUIWU_SIGKILL_KILLS, default 10) and starts it again each time. Most kills are aimed
at work in progress: a few milliseconds after the bot sent or edited something.

People act like people: a step whose answer never came (the bot died with it) is tried again
(resend, press again; the whole booking again when that does not help — after looking whether
the booking was made after all, as one would in "my bookings"). Update ids are deduplicated and
presses are idempotent, so none of that may double anything.

Afterwards, from the database and the emulator's record of every message: each booking exactly
once, each task exactly once, each Done once, each reminder and escalation step once per task,
every outbox row sent and its message in its chat. A message the emulator holds that no outbox
row recorded is a duplicate: a kill between Telegram's answer and the commit recording it
(at-least-once there, see bot/delivery/outbox.py). Those are counted, each one put on the kill
that preceded it, reported, and must not outnumber the kills; none may come without a kill.
Every bot message of the run is written to messages.json in the test's tmp_path.

Two things the test does on each kill that a real restart would wait out (see the report line):
it deletes the instance-name lease (else the next start waits up to InstanceNameLease.TTL = 30 s
for the dead holder's entry to expire) and the dialog locks the dead process held (they expire
after bot.telegram.runtime.PERSON_LOCK_SECONDS = 20 s, stalling that person's next updates until then).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from emulator.client import EmulatorClient, EmulatorError
from emulator.server import EmulatorServer
from storage.database import Database, create_engine
from storage.models import Booking, OutboxMessage, Task, TaskEvent
from tests.databases import USE_POSTGRES, database_url_for
from tests.support.harness import ROOT, TOKEN, register_site_people
from tests.support.wallclock import SITE_ZONE, PretendClock

pytestmark = [pytest.mark.slow, pytest.mark.wallclock]

JSON = dict[str, Any]

KILLS = int(os.environ.get("HUIWU_SIGKILL_KILLS", "10"))
REDIS_URL = os.environ.get("HUIWU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SERVICE, AV, SUPERVISOR, MANAGER = -1001, -1002, 2201, 2301
REQUESTERS = (1001, 1002, 1003)
BOOKINGS_EACH = 3
ROOMS = tuple(f"第{n}会议室" for n in "一二三四五六七八九")
TEMPLATES = ("first", "second")  # one card for each team per booking
TEAMS = {SERVICE: (3001, 3002), AV: (3101, 3102)}  # group: (leader, member)
GROUP_TEMPLATE = {SERVICE: "first", AV: "second"}
ANSWER_WITHIN = 12.0  # how long a person waits for the bot's answer before trying again
SUPERVISOR_MARK, MANAGER_MARK = "升级至客服主管", "升级至部门经理"

SITE = """
[site]
name = {{ zh = "测试大楼", en = "Test building" }}
timezone = "{zone}"
default_language = "zh"

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

{rooms}

[[teams]]
id = "service"
name = {{ zh = "会务茶水组", en = "Service" }}
chat_id = {service}
leader = 3001
members = [3002]

[[teams]]
id = "av"
name = {{ zh = "技术保障组", en = "AV" }}
chat_id = {av}
leader = 3101
members = [3102]

{requesters}

[[people]]
id = {supervisor}
name = "陈静"
roles = ["supervisor"]

[[people]]
id = {manager}
name = "周伟"
roles = ["manager"]

[escalation]
reminder_after_due_minutes = 0
chain = [{{ role = "supervisor", wait_minutes = 0.05 }}, {{ role = "manager", wait_minutes = 0.05 }}]

[[task_templates]]
id = "first"
team = "service"
name = {{ zh = "第一项", en = "First" }}
text = {{ zh = "第一项任务 {{room}}", en = "First task {{room}}" }}
push_offset_minutes = -1.0
due_offset_minutes = -0.9

[[task_templates]]
id = "second"
team = "av"
name = {{ zh = "第二项", en = "Second" }}
text = {{ zh = "第二项任务 {{room}}", en = "Second task {{room}}" }}
push_offset_minutes = -0.8
due_offset_minutes = -0.7
"""


def site_text(zone: str) -> str:
    rooms = "\n".join(
        f'[[rooms]]\nid = "r{n}"\nname = {{ zh = "{name}", en = "Room {n}" }}\nclass = "A"\n'
        f'capacity = 20\nlayouts = ["discussion"]\n'
        for n, name in enumerate(ROOMS, 1)
    )
    names = ("王敏", "李娜", "张伟")
    requesters = "\n".join(
        f'[[people]]\nid = {user}\nname = "{name}"\nroles = ["requester"]\ndepartment = "finance"\n'
        for user, name in zip(REQUESTERS, names, strict=True)
    )
    return SITE.format(
        zone=zone,
        rooms=rooms,
        requesters=requesters,
        service=SERVICE,
        av=AV,
        supervisor=SUPERVISOR,
        manager=MANAGER,
    )


class BotProcess:
    """`huiwu run` as its own process group, killed without warning and started again."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at_offset = 0

    def start(self) -> None:
        self.started_at_offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def polling(self) -> bool:
        """Started and asking for updates (aiogram's "Start polling" in this run's log)."""
        if self.process is None or self.process.poll() is not None:
            return False
        with self.log.open("rb") as log:
            log.seek(self.started_at_offset)
            return b"Start polling" in log.read()

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
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Run:
    """What the people and the killer did, for the checks and the summary line."""

    clock: PretendClock = field(default_factory=PretendClock)
    started: float = field(default_factory=time.monotonic)
    kills: list[float] = field(default_factory=list)
    kill_seqs: list[int] = field(default_factory=list)  # the emulator's event seq at each kill
    stale_locks: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    lost_confirms: int = 0  # Confirm pressed, answer never came, booking found made
    log: list[str] = field(default_factory=list)

    def note(self, line: str) -> None:
        self.log.append(f"{time.monotonic() - self.started:7.2f}s {line}")


@pytest.fixture
async def redis_client() -> AsyncIterator[Any]:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await asyncio.wait_for(client.ping(), timeout=2)
    except Exception as error:
        await client.aclose()
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error!r}); the dialogs must survive a kill")
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[EmulatorServer, EmulatorClient]]:
    server = EmulatorServer(token=TOKEN)
    server.config.rate_limits.enabled = False
    await server.start()
    client = EmulatorClient(server.base_url)
    try:
        yield server, client
    finally:
        await client.close()
        await server.stop()


async def eventually(condition: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")


def tagged(text: str, task_id: int) -> bool:
    return re.search(rf"#{task_id}(?!\d)", text) is not None


def task_ids_in(text: str) -> set[int]:
    return {int(number) for number in re.findall(r"#(\d+)", text)}


async def test_random_sigkills_lose_nothing_and_double_at_most_one_message_per_kill(
    tmp_path: Path,
    emulator: tuple[EmulatorServer, EmulatorClient],
    redis_client: Any,
    record_property: Callable[[str, object], None],
) -> None:
    server, emu = emulator
    seed = int(os.environ.get("HUIWU_SIGKILL_SEED") or random.SystemRandom().randrange(2**31))
    print(f"\nsigkill test: seed={seed} (HUIWU_SIGKILL_SEED={seed} repeats the kill schedule)")
    zone = SITE_ZONE.key
    site_path = tmp_path / "site.toml"
    site_path.write_text(site_text(zone), encoding="utf-8")
    from bot.site import load_site

    site = load_site(site_path)
    await register_site_people(emu, site)
    prefix = f"huiwu-sigkill-{uuid.uuid4().hex[:10]}"
    instance = "sigkill"
    run = Run()

    async with database_url_for(tmp_path) as database_url:
        env = dict(
            os.environ,
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE=server.base_url,
            DATABASE_URL=database_url,
            SITE_CONFIG=str(site_path),
            REDIS_URL=REDIS_URL,
            REDIS_PREFIX=prefix,
            INSTANCE_NAME=instance,
            TICK_SECONDS="0.2",
            SENDER_IDLE_SECONDS="0.05",
            PER_CHAT_INTERVAL_SECONDS="0",
            GROUP_PER_MINUTE="1000",
            GLOBAL_PER_SECOND="1000",
            SEND_TIMEOUT_SECONDS="5",
            HTTP_PORT="off",
            LOG_LEVEL="INFO",
            **run.clock.environment(),
        )
        env.pop("HUIWU_TEST_DATABASE", None)
        bot = BotProcess(env, tmp_path / "bot.log")
        db = Database(create_engine(database_url, **({"pool_size": 3} if USE_POSTGRES else {})))
        try:
            await scenario(server, emu, db, bot, redis_client, prefix, instance, seed, site.zone, run)
            bot.stop()
            summary = await check(emu, db, run, tmp_path / "messages.json")
        except BaseException:
            bot.stop()
            print("\n".join(run.log[-80:]))
            print((tmp_path / "bot.log").read_text(errors="replace")[-8000:])
            raise
        finally:
            await db.dispose()
            keys = [key async for key in redis_client.scan_iter(match=f"{prefix}:*")]
            if keys:
                await redis_client.delete(*keys)
    line = (
        f"sigkill summary: seed={seed} backend={'postgres' if USE_POSTGRES else 'sqlite'} "
        f"kills={len(run.kills)} bookings={summary['bookings']} tasks={summary['tasks']} "
        f"confirmations={summary['confirmations']} reminders={summary['reminders']} "
        f"escalations={summary['escalations']} messages={summary['messages']} "
        f"duplicates={summary['duplicates']} (most per kill {summary['most_duplicates_per_kill']}) "
        f"retries={dict(run.retries)} "
        f"lost_confirm_answers={run.lost_confirms} stale_dialog_locks={run.stale_locks} "
        f"duration={time.monotonic() - run.started:.0f}s"
    )
    print("\n".join(run.log))
    print(line)
    for key, value in summary.items():
        record_property(key, value)
    record_property("kills", len(run.kills))
    record_property("seed", seed)
    assert len(run.kills) == KILLS, line
    assert summary["duplicates_without_a_kill"] == 0, line
    assert summary["duplicates"] <= len(run.kills), line


# ---------------------------------------------------------------------------------- the run


async def scenario(
    server: EmulatorServer,
    emu: EmulatorClient,
    db: Database,
    bot: BotProcess,
    redis: Any,
    prefix: str,
    instance: str,
    seed: int,
    zone: Any,
    run: Run,
) -> None:
    rng = random.Random(seed)
    bot.start()
    await eventually(_async(bot.polling), 60, "the bot's first start")
    run.note("bot up")
    workload_done = asyncio.Event()
    titles: dict[str, int] = {}  # title -> booking number (decides which cards get Done)

    async def killer() -> None:
        for number in range(1, KILLS + 1):
            await eventually(_async(bot.polling), 60, f"the bot's start before kill {number}")
            await asyncio.sleep(rng.uniform(0.3, 1.0))
            moment = "at random"
            if rng.random() < 0.6:  # most kills just after the bot did something: mid-work
                hint = await bot_activity(activity, within=rng.uniform(2.0, 5.0))
                if hint is not None:
                    chat, what = hint
                    # an outbox send (not a dialog's answer): aim at its send-record instant
                    await asyncio.sleep(rng.uniform(0.0, 0.15 if chat in REQUESTERS else 0.03))
                    moment = f"just after {what}"
                else:
                    moment = "at random (the bot was idle)"
            else:
                await asyncio.sleep(rng.uniform(0.0, 2.5))
            bot.kill()
            run.kills.append(time.monotonic() - run.started)
            run.kill_seqs.append(server.state.events.seq)
            run.note(f"kill {number} {moment}")
            # what a restart would otherwise wait out: the dead holder's instance name (30 s)
            # and the dialog locks it held (PERSON_LOCK_SECONDS)
            await redis.delete(f"{prefix}:instance:{instance}")
            locks = [key async for key in redis.scan_iter(match=f"{prefix}:fsm:*lock*")]
            if locks:
                run.stale_locks += len(locks)
                ttls = {key.decode(): await redis.ttl(key) for key in locks}
                run.note(f"stale dialog locks (seconds left): {ttls}")
                await redis.delete(*locks)
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            bot.start()

    async def requester(user: int, index: int) -> None:
        own = random.Random(seed * 10 + index)  # the killer's draws stay the seed's own
        await asyncio.sleep(own.uniform(0.0, 10.0))
        for round_ in range(BOOKINGS_EACH):
            number = index * BOOKINGS_EACH + round_
            title = f"断电演练第{number + 1}场"
            titles[title] = number
            await book(emu, db, user, title, ROOMS[number], zone, run)
            if round_ + 1 < BOOKINGS_EACH:
                await asyncio.sleep(own.uniform(5.0, 25.0))  # the bookings spread over the kills

    async def team(chat_id: int) -> None:
        """Press Done on the cards that should be confirmed; again if the press went unanswered
        and the card still offers Done (a card showing it done needs nothing more)."""
        pressed: dict[int, tuple[float, str]] = {}  # task -> (when, callback query id)
        handled: set[int] = set()  # the press was answered, or the card shows the task done
        while True:
            should = await tasks_to_confirm(db, titles, GROUP_TEMPLATE[chat_id])
            offered: dict[int, tuple[int, str]] = {}  # task -> (message, callback data)
            cards: set[int] = set()
            for message in await emu.bot_messages(chat_id):
                text = message.get("text") or ""
                if text.startswith("📋"):
                    cards.update(int(n) for n in re.findall(r"#(\d+)", text.splitlines()[0]))
                for button in message.get("buttons") or []:
                    match = re.fullmatch(r"t:(\d+):d", button.get("callback_data") or "")
                    if match is not None:
                        offered.setdefault(int(match[1]), (message["message_id"], button["callback_data"]))
            handled |= should & cards - offered.keys()
            for task_id, (_, query) in pressed.items():
                if task_id not in handled and (await emu.callback_answer(query)).get("answered"):
                    handled.add(task_id)
            if workload_done.is_set() and should <= handled:
                return
            for task_id in sorted(should & offered.keys() - handled):
                if task_id in pressed:
                    if time.monotonic() - pressed[task_id][0] < ANSWER_WITHIN:
                        continue
                    run.retries["done"] += 1
                message_id, data = offered[task_id]
                press = await emu.click_button(TEAMS[chat_id][task_id % 2], chat_id, message_id, data)
                pressed[task_id] = (time.monotonic(), press["callback_query_id"])
            await asyncio.sleep(0.3)

    activity = server.state.events.subscribe()
    killing = asyncio.create_task(killer())
    teams = [asyncio.create_task(team(chat)) for chat in TEAMS]
    people = [asyncio.create_task(requester(user, i)) for i, user in enumerate(REQUESTERS)]
    try:
        await asyncio.wait_for(asyncio.gather(*people), timeout=240)
        run.note("all bookings made")
        workload_done.set()
        await asyncio.wait_for(killing, timeout=300)  # restarts take 8-20 s here
        run.note("kills done")
        await asyncio.wait_for(asyncio.gather(*teams), timeout=90)
        run.note("all Done presses answered")
        await eventually(_async(bot.polling), 60, "the bot's last start")
        await eventually(lambda: settled(db), 90, "every timer run out and the outbox empty")
        run.note("settled")
    finally:
        for task in (killing, *teams, *people):
            task.cancel()
        for task in (killing, *teams, *people):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        server.state.events.unsubscribe(activity)


async def bot_activity(events: asyncio.Queue[JSON], within: float) -> tuple[int, str] | None:
    """What the bot does next (a message sent or edited, a press answered), within ``within`` s."""
    while not events.empty():  # only what comes from now on
        events.get_nowait()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (remaining := deadline - loop.time()) > 0:
        try:
            event = await asyncio.wait_for(events.get(), remaining)
        except TimeoutError:
            return None
        if event["type"] == "callback_answer":
            return event["chat_id"], "a press answered"
        message = event.get("message") or {}
        if message.get("sender") == "bot":
            text = (message.get("text") or "").splitlines()
            return event["chat_id"], f"{event['type']} in {event['chat_id']}: {text[0][:30] if text else ''}"
    return None


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def condition() -> bool:
        return check()

    return condition


async def book(
    emu: EmulatorClient, db: Database, user: int, title: str, room: str, zone: Any, run: Run
) -> None:
    """One booking, as a person makes it: the sentence, the reception level, Confirm."""
    confirmed_once = False
    start = run.clock.now()
    for attempt in range(8):
        if attempt:
            run.retries["booking"] += 1
        if confirmed_once and await booking_exists(db, title):
            run.lost_confirms += 1  # the answer to Confirm died with the bot; "my bookings" has it
            run.note(f"{title}: made, though its answer never came")
            return
        if start - run.clock.now() < timedelta(seconds=45):  # the same meeting, unless too close
            start = (run.clock.now() + timedelta(seconds=75 + 60)).replace(second=0, microsecond=0)
        local = start.astimezone(zone)
        sentence = (
            f"/book 今天{local:%H:%M}到{local + timedelta(minutes=1):%H:%M} {room} 5人 "
            f"会议主题：{title}，电话13800000000"
        )
        if not await step(emu, user, run, "sentence", partial(emu.send_message, user, sentence), "接待级别"):
            continue
        if not await step(
            emu, user, run, "level", lambda: emu.press_button(user, user, "2", exact=True), "请核对"
        ):
            continue
        confirmed_once = True

        def booked(message: JSON) -> bool:
            text = message.get("text") or ""
            return "预订成功" in text and title in text

        if await step(emu, user, run, "confirm", lambda: emu.press_button(user, user, "确认提交"), booked):
            run.note(f"{title}: booked")
            return
    raise AssertionError(f"{title}: could not be booked in 8 attempts")


async def step(
    emu: EmulatorClient,
    user: int,
    run: Run,
    name: str,
    act: Callable[[], Awaitable[Any]],
    expect: str | Callable[[JSON], bool],
) -> bool:
    """Do something and wait for the bot's answer; once more if it does not come."""
    for attempt in range(2):
        if attempt:
            run.retries[name] += 1
        since = await emu.current_seq()
        try:
            await act()
        except (TimeoutError, EmulatorError):  # the button is not there (yet): the bot is down
            await asyncio.sleep(1)
            continue
        try:
            await emu.wait_for_message(user, expect, since=since, timeout=ANSWER_WITHIN)
            return True
        except TimeoutError:
            continue
    return False


async def booking_exists(db: Database, title: str) -> bool:
    async with db.transaction() as session:
        return (await session.scalar(select(Booking.id).where(Booking.title == title).limit(1))) is not None


async def tasks_to_confirm(db: Database, titles: dict[str, int], template: str) -> set[int]:
    """The cards a team confirms: every other booking's, alternating between the teams."""
    async with db.transaction() as session:
        rows = (
            await session.execute(
                select(Task.id, Booking.title).join(Booking).where(Task.template_id == template)
            )
        ).all()
    return {
        task_id
        for task_id, title in rows
        if title in titles and (titles[title] + TEMPLATES.index(template)) % 2 == 0
    }


async def settled(db: Database) -> bool:
    async with db.transaction() as session:
        timers = await session.scalar(select(Task.id).where(Task.next_at.is_not(None)).limit(1))
        waiting = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.status.in_(("pending", "sending"))).limit(1)
        )
    return timers is None and waiting is None


# ---------------------------------------------------------------------------------- the checks


async def check(emu: EmulatorClient, db: Database, run: Run, dump: Path | None = None) -> dict[str, int]:
    async with db.transaction() as session:
        bookings = (await session.scalars(select(Booking))).all()
        tasks = (await session.scalars(select(Task))).all()
        events = (await session.scalars(select(TaskEvent).order_by(TaskEvent.id))).all()
        outbox = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    titles = Counter(b.title for b in bookings)
    expected_titles = {f"断电演练第{n + 1}场" for n in range(len(REQUESTERS) * BOOKINGS_EACH)}
    assert set(titles) == expected_titles, titles
    assert all(n == 1 for n in titles.values()), f"a booking made twice: {titles}"
    number = {b.id: int(re.findall(r"\d+", b.title)[0]) - 1 for b in bookings}
    per_booking = Counter((t.booking_id, t.template_id) for t in tasks)
    assert len(tasks) == len(bookings) * len(TEMPLATES), per_booking
    assert all(n == 1 for n in per_booking.values()), per_booking

    kinds: dict[int, list[str]] = defaultdict(list)
    for event in events:
        kinds[event.task_id].append(event.kind)
    confirmations = reminders = escalations = 0
    for task in tasks:
        seen = Counter(kinds[task.id])
        should_confirm = (number[task.booking_id] + TEMPLATES.index(task.template_id)) % 2 == 0
        assert seen["planned"] == 1 and seen["pushed"] == 1, (task.id, kinds[task.id])
        assert seen["reminded"] <= 1 and seen["escalated"] <= 2, (task.id, kinds[task.id])
        allowed = {"planned", "pushed", "reminded", "escalated", "done", "missed"}
        assert not seen.keys() - allowed, kinds[task.id]
        if should_confirm:
            assert task.status == "done" and seen["done"] == 1, (task.id, task.status, kinds[task.id])
            assert seen["missed"] == 0, kinds[task.id]
        else:
            # open until the meeting starts, then missed (its window ends with the start)
            assert task.status in ("open", "missed"), (task.id, task.status)
            assert seen["missed"] == (task.status == "missed"), kinds[task.id]
            assert seen["done"] == 0 and seen["reminded"] == 1 and seen["escalated"] == 2, kinds[task.id]
            stages = [e.detail for e in events if e.task_id == task.id and e.kind == "escalated"]
            assert len({repr(sorted(d.items())) for d in stages}) == 2, stages
        confirmations += seen["done"]
        reminders += seen["reminded"]
        escalations += seen["escalated"]

    # every outbox row went out, and its message is in its chat
    unfinished = [
        (o.id, o.kind, o.status, o.error)
        for o in outbox
        if o.status not in ("sent", "applied", "merged", "dropped")
    ]
    assert not unfinished, unfinished
    chats = {o.chat_id for o in outbox} | set(TEAMS) | {SUPERVISOR, MANAGER}
    held: dict[int, list[JSON]] = {chat: await emu.bot_messages(chat, include_deleted=True) for chat in chats}
    if dump is not None:
        await asyncio.to_thread(dump.write_text, json.dumps(held, ensure_ascii=False, indent=1), "utf-8")
    recorded: dict[int, set[int]] = defaultdict(set)
    sends = [o for o in outbox if o.kind == "send" and o.status == "sent"]
    for row in sends:
        ids = {m["message_id"] for m in held[row.chat_id]}
        assert row.message_id is not None and row.message_id in ids, (
            f"outbox row {row.id} recorded as sent, not in chat {row.chat_id}"
        )
        recorded[row.chat_id].add(row.message_id)
    # a message nobody recorded: a copy of a row sent twice (the send-record instant), or a stray
    duplicates: list[tuple[int, str]] = []
    per_kill: Counter[int] = Counter()  # kill index (len(kills): after the last) -> duplicates
    strays: list[tuple[int, str]] = []
    texts = defaultdict(set)
    for row in sends:
        texts[row.chat_id].add((row.text or "").strip())
    # A copy sent before a kill can differ from its row's text now: the row may have been merged
    # with others when it went out again, or edited since (Done). It is still a copy when every
    # task it names (#id) was sent to that chat by some row, whole or as part of a merged one.
    shown: dict[int, set[int]] = defaultdict(set)
    for row in outbox:
        if row.status in ("sent", "merged", "applied"):
            shown[row.chat_id] |= task_ids_in(f"{row.text}\n{row.merge_text or ''}")
    for chat, messages in held.items():
        for message in messages:
            if message["message_id"] in recorded[chat]:
                continue
            source = message.get("source") or message.get("text") or ""
            named = task_ids_in(source)
            if source.strip() in texts[chat] or (named and named <= shown[chat]):
                duplicates.append((chat, source[:80]))
                per_kill[bisect.bisect_left(run.kill_seqs, message["created_seq"])] += 1
            elif chat not in REQUESTERS:  # the requesters' dialogs are answered directly
                strays.append((chat, source[:120]))
    assert not strays, f"messages no outbox row explains: {strays}"
    if duplicates:
        run.note(f"duplicates: {duplicates}")
        print("duplicated messages:", duplicates)

    # and what each task should have caused is there, in the right chats; a copy beyond the
    # first is one of the duplicates counted above
    groups = {template: chat for chat, template in GROUP_TEMPLATE.items()}
    extra = 0
    for task in tasks:

        def count(chat: int, marker: str, task_id: int = task.id) -> int:
            texts = [m.get("text") or "" for m in held[chat] if not m.get("deleted")]
            return sum(1 for text in texts if tagged(text, task_id) and marker in text)

        # its card in its group (the reminder and the end of its window edit that card), and
        # for an unconfirmed task the meeting's escalation to the supervisor and the manager
        wanted = [(groups[task.template_id], "")]
        if task.status != "done":
            wanted += [(SUPERVISOR, SUPERVISOR_MARK), (MANAGER, MANAGER_MARK)]
        for chat, marker in wanted:
            found = count(chat, marker)
            assert found >= 1, f"task {task.id}: no {marker!r} message in chat {chat}"
            extra += found - 1
    assert extra <= len(duplicates), f"{extra} extra copies, {len(duplicates)} unrecorded messages"

    return {
        "bookings": len(bookings),
        "tasks": len(tasks),
        "confirmations": confirmations,
        "reminders": reminders,
        "escalations": escalations,
        "messages": sum(len(m) for m in held.values()),  # every bot message, dialogs' too
        "outbox_sent": len(sends),
        "duplicates": len(duplicates),
        "most_duplicates_per_kill": max(per_kill.values(), default=0),
        "duplicates_without_a_kill": per_kill[len(run.kill_seqs)],
    }
