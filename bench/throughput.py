"""Booking throughput: N people booking at once through the chat dialog; no double booking.

    uv run python bench/throughput.py --database sqlite     # 1 instance, long polling
    uv run python bench/throughput.py --database postgres   # 2 instances, webhook, Redis
        [--users 100] [--days 10] [--retries 1] [--instances N] [--rate-limits] [--seed 11]
    uv run python bench/throughput.py --mode service --database sqlite|postgres
        [--requesters 50] [--attempts 20] [--instances N]

``--mode dialog`` (the default) — the real chat dialog against the project's Bot API emulator.
The bot runs as it is deployed: ``python -m bot run`` in processes of its own, configured by
environment variables, with the system clock. On SQLite one instance long-polls the
emulator (dialog state in memory). On PostgreSQL (a fresh database per run, dropped after)
``--instances`` (default 2) instances run ``--webhook`` with their dialog state and event
isolation in Redis (a key prefix of this run, deleted after); the emulator's updates are
pushed to their webhooks in turn, like a load balancer, up to the ``max_connections`` the bot
registered in parallel and one at a time per chat, as Telegram does (bench/_support.py).
The emulator, the pusher and the simulated people run in this process; the emulator's
Telegram rate limits are off unless ``--rate-limits`` (with them on, 100 people at once make
the bot's direct replies exceed 30 messages a second: handlers get 429 and those replies are
lost, so people who got no welcome within 90 s are counted and do not book).

``--users`` people (English, new accounts) first join a department with ``/start <invite
code>``, one invite each as the site admin issues with ``/invite`` (written to the database
beforehand; all join at once; the registration time is printed), then all at once each book with one
sentence, ``/book Meeting Room 1 for 12 on 3 December 2-3:30pm, discussion, level 3
reception, title: …, phone …`` — a random one of the two class-A rooms (Meeting Room 1,
Reception Room), a random weekday of the next ``--days`` (from the day after tomorrow) and a
random slot of four (08:30–10:00, 10:30–12:00, 14:00–15:30, 16:00–17:30; the 30-minute
turnover buffer fits between them). The sentence fills every field, so the wizard shows the
summary and the person presses Confirm. When the room is taken — already when the sentence
is read, or by someone faster between the summary and Confirm — the bot refuses and offers the
free rooms; the person takes the other class-A room if it is offered (up to ``--retries``
times), else presses Cancel and gives up. With 100 people on 10 days × 4 slots × 2 rooms, many
compete for the same room and time.

Measured: bookings made, refusals (room taken when the sentence was read / at Confirm), people
who gave up or got stuck; bookings per minute = bookings ÷ wall time from the first ``/book``
to the last confirmation seen; p50/p95 of one person's booking dialog (``/book`` sent →
confirmation seen, retries included). Afterwards one SQL query looks for two active bookings
of one room whose times (with the turnover buffer) overlap: it must find none; the number of
active bookings must equal the confirmations seen.

``--mode service`` — the earlier benchmark, not the chat dialog: each of ``--requesters``
calls ``BookingService.create`` in a transaction of its own, as the wizard's Confirm button
does, ``--attempts`` times, for a random room of three and a random slot of the next four
weeks, all concurrently, in this process (PostgreSQL: ``--instances`` composition roots share
the database). Same double-booking check.
"""

# ruff: noqa: E501 — the benchmark prints Markdown table rows as they are

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import and_, func, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402
from sqlalchemy.orm import aliased  # noqa: E402

from bench._support import (  # noqa: E402
    REDIS_URL,
    BotProcess,
    ParallelPusher,
    free_port,
    gist,
    machine,
    port_open,
    postgres_database,
    redis_prefix,
)
from bench.timers import SITE, settings_for  # noqa: E402
from bot.services.clock import SystemClock  # noqa: E402
from bot.services.membership import MembershipService  # noqa: E402
from bot.site import Role, SiteConfig, load_site  # noqa: E402
from emulator.client import EmulatorClient  # noqa: E402
from emulator.server import EmulatorServer  # noqa: E402
from storage.database import Database, create_engine  # noqa: E402
from storage.models import Booking  # noqa: E402

TOKEN = "123456789:BENCH-token-for-the-emulator-only"
SECRET = "bench-webhook-secret_0123456789"
ZONE = ZoneInfo("Asia/Shanghai")
ACTIVE = ("pending_approval", "confirmed", "in_progress")
JSON = dict[str, Any]

# ---- the dialog mode ------------------------------------------------------------------------------
ROOM_NAMES = ("Meeting Room 1", "Reception Room")  # class A, both hold 12 in the discussion layout
SLOTS = (("8:30", "10am"), ("10:30am", "12pm"), ("2pm", "3:30pm"), ("4pm", "5:30pm"))
DEPARTMENTS = ("finance", "office", "planning")
FIRST_USER = 700_001
STRANGER = 699_999
STEP_TIMEOUT = 90.0


def keyboard(message: JSON) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button["text"] for row in rows for button in row]


def window(message: JSON) -> str | None:
    """Which step of the dialog a bot message shows (None: not one the person acts on)."""
    text = message.get("text") or ""
    if "Booked! Booking #" in text:
        return "booked"
    if "waits for the approver" in text:
        return "pending"
    if "Booking abandoned" in text:
        return "abandoned"
    if not keyboard(message):
        return None
    if "check your booking" in text:
        return "summary"
    if "Rooms free on" in text:
        return "rooms"
    if "No room is free on" in text:
        return "no_rooms"
    if "How should" in text:
        return "layout"
    if "Reception level?" in text:
        return "level"
    return None


@dataclass
class Person:
    user_id: int
    department: str
    sentence: str
    outcome: str = "not started"
    taken_at_book: int = 0
    taken_at_confirm: int = 0
    retries: int = 0
    began: float = 0.0
    ended: float = 0.0
    last_text: str = ""
    trail: list[str] = field(default_factory=list)
    invite: str = ""


def booking_days(today: date, days: int) -> list[date]:
    """The next ``days`` weekdays from the day after tomorrow (clear of the class-A notice)."""
    found: list[date] = []
    day = today + timedelta(days=2)
    while len(found) < days:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return found


def make_people(users: int, days: int, seed: int) -> list[Person]:
    rng = random.Random(seed)
    choices = booking_days(datetime.now(ZONE).date(), days)
    people = []
    for n in range(users):
        day, (start, end), room = rng.choice(choices), rng.choice(SLOTS), rng.choice(ROOM_NAMES)
        sentence = (
            f"/book {room} for 12 on {day.day} {day:%B} {start}-{end}, discussion, level 3 reception, "
            f"title: Bench meeting {n + 1}, phone 010-6512 {n + 1:04d}"
        )
        people.append(Person(FIRST_USER + n, DEPARTMENTS[n % len(DEPARTMENTS)], sentence))
    return people


async def act(emu: EmulatorClient, person: Person, action: str, label: str, *, exact: bool = False) -> JSON:
    """Do something in the private chat and wait for the next window it leads to."""
    since = await emu.current_seq()
    if action == "say":
        await emu.send_message(person.user_id, label)
    else:
        await emu.press_button(person.user_id, person.user_id, label, exact=exact, timeout=STEP_TIMEOUT)
    message = await emu.wait_for_message(
        person.user_id, lambda m: window(m) is not None, since=since, timeout=STEP_TIMEOUT
    )
    person.last_text = message.get("text") or ""
    return message


async def book(emu: EmulatorClient, person: Person, retries: int) -> None:
    person.began = time.perf_counter()
    confirmed_once = False
    try:
        message = await act(emu, person, "say", person.sentence)
        for _ in range(20):
            kind = window(message)
            person.trail.append(str(kind))
            if kind in ("booked", "pending"):
                person.outcome = kind
                person.ended = time.perf_counter()
                return
            if kind == "abandoned":
                person.outcome = "gave up"
                person.ended = time.perf_counter()
                return
            if kind == "summary":
                message = await act(emu, person, "press", "Confirm")
                confirmed_once = True
            elif kind in ("rooms", "no_rooms"):
                if confirmed_once:
                    person.taken_at_confirm += 1
                else:
                    person.taken_at_book += 1
                offered = [label for label in keyboard(message) for name in ROOM_NAMES if name in label]
                if kind == "rooms" and offered and person.retries < retries:
                    person.retries += 1
                    message = await act(emu, person, "press", offered[0], exact=True)
                else:
                    message = await act(emu, person, "press", "Cancel")
            elif kind == "layout":
                message = await act(emu, person, "press", "Discussion")
            elif kind == "level":
                message = await act(emu, person, "press", "3", exact=True)
        person.outcome = "stuck"
    except Exception as error:  # a timeout: the bot did not answer as expected
        person.outcome = f"stuck ({type(error).__name__})"
    person.ended = time.perf_counter()


async def register(emu: EmulatorClient, person: Person) -> float | None:
    """``/start <invite code>``; the seconds until the welcome, None when it never came."""
    began = time.perf_counter()
    since = await emu.current_seq()
    await emu.send_message(person.user_id, f"/start {person.invite}")
    try:
        await emu.wait_for_message(person.user_id, "You have joined", since=since, timeout=STEP_TIMEOUT)
    except TimeoutError:
        person.outcome = "not registered"
        return None
    return time.perf_counter() - began


async def issue_invites(url: str, site: SiteConfig, people: list[Person]) -> None:
    """One invite per person into their department, as the site admin issues with /invite.

    Written straight to the database once the bots have migrated it: the registration time
    measures joining, not an admin typing /invite a hundred times.
    """
    admin = site.people_with(Role.admin)[0]
    members = MembershipService(site, SystemClock())
    db = Database(create_engine(url))
    try:
        async with db.transaction() as session:
            for person in people:
                person.invite = (await members.issue(session, admin, person.department)).code
    finally:
        await db.dispose()


async def prepare_emulator(emu: EmulatorClient, site: SiteConfig, people: list[Person]) -> None:
    """The site's people and team groups (task cards and notices go there), and the bench's people."""
    known: set[int] = set()
    for person in site.people:
        await emu.create_user(person.id, person.name, language_code=person.language or "zh-hans")
        known.add(person.id)
    for team in site.teams:
        for member in sorted(team.everyone - known):
            await emu.create_user(member, f"staff {member}", language_code="zh-hans")
            known.add(member)
        if team.chat_id is not None:
            await emu.create_group(team.chat_id, team.name.zh, sorted(team.everyone))
    for bench_person in people:
        await emu.create_user(bench_person.user_id, f"Bench {bench_person.user_id}", language_code="en")
    await emu.create_user(STRANGER, "Stranger", language_code="en")


async def audit(engine: AsyncEngine) -> tuple[int, int, dict[str, int], int]:
    """(overlapping pairs, active bookings, bookings by status, people with two active bookings)."""
    a, b = aliased(Booking), aliased(Booking)
    async with engine.connect() as connection:
        double = await connection.scalar(
            select(func.count())
            .select_from(a)
            .join(b, and_(a.room_id == b.room_id, a.id < b.id))
            .where(
                a.status.in_(ACTIVE),
                b.status.in_(ACTIVE),
                a.start_at < b.blocked_until,
                b.start_at < a.blocked_until,
            )
        )
        statuses = dict(
            (await connection.execute(select(Booking.status, func.count()).group_by(Booking.status))).all()
        )
        twice = await connection.scalar(
            select(func.count()).select_from(
                select(Booking.requester_id)
                .where(Booking.status.in_(ACTIVE))
                .group_by(Booking.requester_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
    active = sum(n for s, n in statuses.items() if s in ACTIVE)
    return int(double or 0), active, {str(k): int(v) for k, v in statuses.items()}, int(twice or 0)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


async def run_dialog(
    database: str, instances: int, users: int, days: int, retries: int, rate_limits: bool, seed: int
) -> int:
    site = load_site(SITE)
    people = make_people(users, days, seed)
    webhook = database == "postgres"
    with tempfile.TemporaryDirectory(prefix="huiwu-bench-") as folder:
        directory = Path(folder)
        server = EmulatorServer(token=TOKEN)
        server.config.rate_limits.enabled = rate_limits
        await server.start()
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        emu = EmulatorClient(server.base_url, session=http)
        bots: list[BotProcess] = []
        try:
            await prepare_emulator(emu, site, people)
            async with contextlib.AsyncExitStack() as stack:
                if webhook:
                    url = await stack.enter_async_context(postgres_database())
                    prefix = await stack.enter_async_context(redis_prefix())
                    extra = {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix}
                else:
                    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
                    extra = {}
                ports = [free_port() for _ in range(instances)]

                async def stop_bots() -> None:  # before the database and the Redis keys go
                    for bot in bots:
                        await bot.stop()

                stack.push_async_callback(stop_bots)
                for n in range(instances):
                    env = {
                        "BOT_TOKEN": TOKEN,
                        "TELEGRAM_API_BASE": server.base_url,
                        "DATABASE_URL": url,
                        "SITE_CONFIG": str(SITE),
                        "LOG_LEVEL": "WARNING",
                        "HTTP_PORT": "0",
                        **extra,
                    }
                    if webhook:
                        env |= {
                            "WEBHOOK_URL": "https://huiwu.bench/telegram/webhook",
                            "WEBHOOK_SECRET": SECRET,
                            "WEBHOOK_PORT": str(ports[n]),
                        }
                    bot = BotProcess(f"bench-{n + 1}", env, directory / f"bot-{n + 1}.log", webhook=webhook)
                    bots.append(bot)
                    bot.start(directory)
                if webhook:
                    targets = []
                    for bot, port in zip(bots, ports, strict=True):
                        if not await port_open(port, 120):
                            raise RuntimeError(f"{bot.name} does not listen: {bot.log.read_text()[-2000:]}")
                        targets.append(f"http://127.0.0.1:{port}/telegram/webhook")
                    pusher = await stack.enter_async_context(ParallelPusher(server.state, targets))
                else:
                    pusher = None
                # every instance answers before the clock starts (a stranger is told about invites)
                for _ in bots:
                    since = await emu.current_seq()
                    await emu.send_message(STRANGER, "/start")
                    await emu.wait_for_message(STRANGER, "invite", since=since, timeout=120)
                await issue_invites(url, site, people)

                began = time.perf_counter()
                answered = await asyncio.gather(*(register(emu, p) for p in people))
                joins = [seconds for seconds in answered if seconds is not None]
                registration = time.perf_counter() - began
                before = await emu.stats()
                began = time.perf_counter()
                await asyncio.gather(
                    *(book(emu, p, retries) for p in people if p.outcome != "not registered")
                )
                after = await emu.stats()
                engine = create_async_engine(url)
                try:
                    double, active, statuses, twice = await audit(engine)
                finally:
                    await engine.dispose()
                codes = [await bot.stop() for bot in bots]
                problems = {bot.name: bot.problems() for bot in bots}
                kept = Path(tempfile.mkdtemp(prefix="huiwu-bench-logs-"))
                for bot in bots:
                    shutil.copy(bot.log, kept / bot.log.name)
                spread = dict(pusher.per_target) if pusher else {}
                failed_pushes = pusher.failed if pusher else 0
        finally:
            for bot in bots:
                await bot.stop()
            await emu.close()
            await http.close()
            await server.stop()
        done = [p for p in people if p.outcome in ("booked", "pending")]
        wall = max((p.ended for p in done), default=began) - began
        times = [p.ended - p.began for p in done]
        outcomes = Counter(p.outcome for p in people)
        at_book = sum(p.taken_at_book for p in people)
        at_confirm = sum(p.taken_at_confirm for p in people)
        label = "SQLite, polling" if not webhook else "PostgreSQL + Redis, webhook"
        print(
            f"registration: {users} × /start <invite> in {registration:.1f} s "
            f"(p50 {percentile(joins, 0.5):.1f} s, p95 {percentile(joins, 0.95):.1f} s); "
            f"no welcome within {STEP_TIMEOUT:.0f} s (not booking): {users - len(joins)}"
        )
        print(
            "| database | instances | users | booked | refused: taken at /book · at Confirm | took the other room | gave up | stuck | wall time | bookings/min | p50 dialog | p95 dialog | double bookings |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        stuck = sum(n for k, n in outcomes.items() if k.startswith("stuck") or k == "not started")
        print(
            f"| {label} | {instances} | {users} | {len(done)} | {at_book} · {at_confirm} "
            f"| {sum(1 for p in done if p.retries)} | {outcomes['gave up']} | {stuck} | {wall:.1f} s "
            f"| {len(done) / wall * 60 if wall > 0 else float('nan'):.0f} | {percentile(times, 0.5):.1f} s "
            f"| {percentile(times, 0.95):.1f} s | {double} |"
        )
        print(
            f"check: active bookings in the database {active} (confirmations seen {len(done)}); "
            f"people who tried the other room {sum(1 for p in people if p.retries)}; "
            f"by status {statuses}; people with two active bookings {twice}; "
            f"messages sent by the bot {after['messages_sent'] - before['messages_sent']}, "
            f"429s {after['rate_limited'] - before['rate_limited']}"
            + (
                f"; updates pushed per instance {list(spread.values())}, failed pushes {failed_pushes}"
                if webhook
                else ""
            )
            + f"; exit codes {codes}"
        )
        stuck_people = [p for p in people if p.outcome.startswith("stuck") or p.outcome == "not started"]
        for person in stuck_people[:5]:
            print(
                f"  stuck: {person.user_id} {person.outcome} after {person.trail}: {person.last_text[:200]!r}"
            )
        for name, lines in problems.items():
            if lines:
                print(f"  {name} log: {len(lines)} warning/error lines (kept in {kept}):")
                for text, count in Counter(gist(line) for line in lines).most_common(8):
                    print(f"    {count} × {text}")
        ok = double == 0 and active == len(done) and not stuck and twice == 0
        return 0 if ok else 1


# ---- the service mode (not the chat dialog) --------------------------------------------------------
SERVICE_NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZONE)
SERVICE_ROOMS = {"r101": "discussion", "r102": "discussion", "r301": "classroom"}


async def requester(app: Any, number: int, attempts: int, rng: random.Random, tally: dict[str, int]) -> None:
    from bot.services.booking import BookingError, BookingRequest

    service = app.dispatcher.workflow_data["booking_service"]
    delivery = app.dispatcher.workflow_data["delivery"]
    for _ in range(attempts):
        room = rng.choice(list(SERVICE_ROOMS))
        day = SERVICE_NOW.replace(hour=0) + timedelta(days=rng.randrange(1, 29))
        start = day.replace(hour=8) + timedelta(minutes=30 * rng.randrange(21))
        request = BookingRequest(
            department_id="finance",
            requester_id=1001,
            booked_by_id=1001,
            room_id=room,
            start=start,
            end=start + timedelta(hours=rng.choice((1, 2))),
            attendees=10,
            layout=SERVICE_ROOMS[room],
            reception_level=3,
            title=f"Requester {number}",
            contact_name="王敏",
            contact_phone="123",
            services={"tea": {}},
        )
        try:
            async with app.db.transaction() as session:
                outcome = await service.create(session, request)
                await delivery.deliver(session, outcome.notices)
            tally["booked"] += 1
        except BookingError as error:
            tally[error.code] = tally.get(error.code, 0) + 1
        except Exception as error:
            tally[type(error).__name__] = tally.get(type(error).__name__, 0) + 1


async def run_service(database: str, requesters: int, attempts: int, instances: int, seed: int) -> int:
    from bot.app import build_app
    from bot.services.clock import ManualClock
    from storage import migrate

    site = load_site(SITE)
    clock = ManualClock(SERVICE_NOW)
    with tempfile.TemporaryDirectory() as folder:
        async with contextlib.AsyncExitStack() as stack:
            if database == "postgres":
                url = await stack.enter_async_context(postgres_database())
            else:
                url = f"sqlite+aiosqlite:///{folder}/bench.db"
            apps = [
                build_app(settings_for(url, instance_name=f"bench-{n}"), site, clock)
                for n in range(instances)
            ]
            try:
                await migrate.upgrade(apps[0].db.engine)
                tally: dict[str, int] = {"booked": 0}
                rng = random.Random(seed)
                jobs = [
                    requester(apps[n % len(apps)], n, attempts, random.Random(rng.random()), tally)
                    for n in range(requesters)
                ]
                began = time.perf_counter()
                await asyncio.gather(*jobs)
                elapsed = time.perf_counter() - began
                double, active, _, _ = await audit(apps[0].db.engine)
            finally:
                for app in apps:
                    await app.db.dispose()
                    await app.bot.session.close()
    attempted = requesters * attempts
    refused = {k: v for k, v in tally.items() if k != "booked"}
    print(
        "| database | instances | requesters | attempts | booked | refused (why) | time | bookings/min | attempts/min | double bookings |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {database} (service level) | {instances} | {requesters} | {attempted} | {tally['booked']} (active {active}) "
        f"| {', '.join(f'{k} {v}' for k, v in sorted(refused.items()))} | {elapsed:.1f} s "
        f"| {tally['booked'] / elapsed * 60:.0f} | {attempted / elapsed * 60:.0f} | {double} |"
    )
    return 0 if double == 0 and active == tally["booked"] else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["dialog", "service"], default="dialog")
    parser.add_argument("--database", "--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--instances", type=int, default=None, help="default: 1 on SQLite, 2 on PostgreSQL")
    parser.add_argument("--users", type=int, default=100, help="dialog mode: people booking at once")
    parser.add_argument("--days", type=int, default=10, help="dialog mode: weekdays to choose from")
    parser.add_argument("--retries", type=int, default=1, help="dialog mode: other rooms tried when refused")
    parser.add_argument(
        "--rate-limits", action="store_true", help="dialog mode: the emulator's Telegram limits on"
    )
    parser.add_argument("--requesters", type=int, default=50, help="service mode")
    parser.add_argument("--attempts", type=int, default=20, help="service mode")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    instances = args.instances or (2 if args.database == "postgres" else 1)
    if args.mode == "dialog" and args.database == "sqlite" and instances != 1:
        parser.error("SQLite runs one instance (dialog state in memory)")
    print(machine())
    if args.mode == "service":
        return asyncio.run(run_service(args.database, args.requesters, args.attempts, instances, args.seed))
    return asyncio.run(
        run_dialog(args.database, instances, args.users, args.days, args.retries, args.rate_limits, args.seed)
    )


if __name__ == "__main__":
    raise SystemExit(main())
