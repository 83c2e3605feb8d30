"""The sandbox's moving parts: the emulator, the bot, a throw-away database and a movable clock.

The bot is built by :func:`bot.app.build_app`, exactly as ``huiwu run`` builds it; only its
Bot API base points at the in-process emulator, its database lives in a temporary directory
and its clock is an :class:`~bot.services.clock.OffsetClock` the page can move forward.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bot.app import App, build_app, start, stop
from bot.services.clock import OffsetClock
from bot.settings import Settings
from bot.site import SiteConfig, load_site
from emulator.client import EmulatorClient
from emulator.server import EmulatorServer

log = logging.getLogger(__name__)

JSON = dict[str, Any]

# Well-formed (digits, colon, 20+ safe characters) so every check passes, and useless anywhere
# but the sandbox's own emulator, which is told to accept nothing else.
SANDBOX_TOKEN = "123456789:SANDBOX-not-a-real-token-0000"
MAX_MOVE = timedelta(days=31)
MAX_TIMER_ROUNDS = 50
MAX_STEPS = 1000
# How long (real time) one clock move may wait for the sender to keep up with its timers.
DRAIN_BUDGET = timedelta(seconds=20)
CLOCK_ACTIONS = ("next_task", "forward", "tomorrow_17")
BOT_CLOCK_JOBS = "clock_jobs"
"""The id a clock move reports for the bot's own clock jobs (digest, weekly, after-care)."""


def default_site_path() -> Path:
    """examples/site.toml of the source tree, else of the working directory."""
    beside_source = Path(__file__).resolve().parents[2] / "examples" / "site.toml"
    return beside_source if beside_source.exists() else Path("examples/site.toml")


class SandboxError(Exception):
    """A request the sandbox refuses; ``code`` is a stable key the page translates."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# ---- personas ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Persona:
    """A person of the site file, as the page's persona switcher shows them."""

    id: int
    name: str
    language: str
    roles: tuple[str, ...] = ()
    department: JSON | None = None
    teams: tuple[JSON, ...] = ()

    @property
    def language_code(self) -> str:
        """What the emulator reports as the user's Telegram language."""
        return "en" if self.language == "en" else "zh-hans"

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "roles": list(self.roles),
            "department": self.department,
            "teams": list(self.teams),
        }


def site_personas(site: SiteConfig) -> list[Persona]:
    """Everyone of the site file, plus team members the file lists only by id."""
    default = site.site.default_language
    personas: list[Persona] = []
    known: set[int] = set()

    def teams_of(user_id: int) -> tuple[JSON, ...]:
        return tuple(
            {
                "id": team.id,
                "name": team.name.model_dump(),
                "leader": team.leader == user_id,
                "chat_id": team.chat_id,
            }
            for team in site.teams_of(user_id)
        )

    for person in site.people:
        department = site.department(person.department) if person.department else None
        personas.append(
            Persona(
                id=person.id,
                name=person.name,
                language=person.language or default,
                roles=tuple(str(role) for role in person.roles),
                department=department.name.model_dump() if department else None,
                teams=teams_of(person.id),
            )
        )
        known.add(person.id)
    for team in site.teams:
        for member in sorted(team.everyone - known):
            personas.append(
                Persona(id=member, name=f"staff {member}", language=default, teams=teams_of(member))
            )
            known.add(member)
    return personas


# ---- command menus ----------------------------------------------------------------------------------
def resolve_commands(
    stored: list[JSON],
    *,
    chat_id: int,
    chat_type: str,
    user_id: int,
    language: str | None,
    admin: bool = False,
) -> list[JSON]:
    """The command menu a Telegram client shows: the narrowest scope that has commands, in the
    user's language first, then without a language (Bot API, "Determining list of commands")."""
    scopes: list[tuple[str, int | None, int | None]]
    if chat_type == "private":
        scopes = [("chat", chat_id, None), ("all_private_chats", None, None), ("default", None, None)]
    else:
        scopes = [("chat_member", chat_id, user_id), ("chat", chat_id, None)]
        if admin:
            scopes += [("chat_administrators", chat_id, None), ("all_chat_administrators", None, None)]
        scopes += [("all_group_chats", None, None), ("default", None, None)]
    wanted = (language or "").split("-")[0].lower()
    codes = (wanted, "") if wanted else ("",)
    for kind, scope_chat, scope_user in scopes:
        for code in codes:
            for entry in stored:
                scope = entry.get("scope") or {}
                if (
                    scope.get("type") == kind
                    and (scope_chat is None or scope.get("chat_id") == scope_chat)
                    and (scope_user is None or scope.get("user_id") == scope_user)
                    and (entry.get("language_code") or "") == code
                    and entry.get("commands")
                ):
                    return list(entry["commands"])
    return []


# ---- live events ------------------------------------------------------------------------------------
class EventHub:
    """Fans one stream of events (the emulator's, plus the sandbox's own) out to every page."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[JSON]] = set()

    def subscribe(self) -> asyncio.Queue[JSON]:
        queue: asyncio.Queue[JSON] = asyncio.Queue(maxsize=5000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[JSON]) -> None:
        self._subscribers.discard(queue)

    def publish(self, event: JSON) -> None:
        for queue in list(self._subscribers):
            if not queue.full():
                queue.put_nowait(event)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)


# ---- the sandbox ------------------------------------------------------------------------------------
@dataclass
class Sandbox:
    """Emulator + bot + temporary database + movable clock; ``await start()`` / ``await stop()``.

    ``settings`` overrides the bot's settings (the tests make timers tick faster);
    ``start_at`` fixes the sandbox's time at start and after a reset (default: real time).
    """

    site_path: Path = field(default_factory=default_site_path)
    start_at: datetime | None = None
    workdir: Path | None = None
    settings: JSON = field(default_factory=dict)
    rate_limits: bool = True
    polling_timeout: int = 10

    site: SiteConfig = field(init=False)
    clock: OffsetClock = field(init=False, default_factory=OffsetClock)
    hub: EventHub = field(init=False, default_factory=EventHub)
    server: EmulatorServer | None = field(init=False, default=None)
    emu: EmulatorClient | None = field(init=False, default=None)
    app: App | None = field(init=False, default=None)
    generation: int = field(init=False, default=0)
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _polling: asyncio.Task[None] | None = field(init=False, default=None)
    _follower: asyncio.Task[None] | None = field(init=False, default=None)
    _tempdir: tempfile.TemporaryDirectory[str] | None = field(init=False, default=None)
    _database: Path | None = field(init=False, default=None)
    _reader: AsyncEngine | None = field(init=False, default=None)
    _seq: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.site_path = Path(self.site_path)
        self.site = load_site(self.site_path)
        if self.start_at is not None and self.start_at.tzinfo is None:
            self.start_at = self.start_at.replace(tzinfo=self.site.zone)
        self._reset_clock()

    # ---- life cycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.workdir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="huiwu-sandbox-")
            self.workdir = Path(self._tempdir.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Privacy mode off, as a deployment should be (see /bind): in the team groups a plain
        # message answers the bot's question, no reply-quote needed (bot/handlers/prompts.py).
        server = EmulatorServer(
            token=SANDBOX_TOKEN,
            bot_username=self.site.site.bot_username,
            privacy_mode=False,
            # every message is dated by the sandbox's clock at the moment it is sent
            wall_clock=lambda: self.clock.now().timestamp(),
        )
        server.config.rate_limits.enabled = self.rate_limits
        await server.start()
        self.server = server
        self.emu = EmulatorClient(server.base_url)
        self._seq = await self.emu.current_seq()
        self._follower = asyncio.create_task(self._follow_emulator(), name="sandbox-events")
        await self._register_people()
        await self._start_bot()

    async def stop(self) -> None:
        await self._stop_bot()
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await follower
        if self.emu is not None:
            await self.emu.close()
            self.emu = None
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self._tempdir is not None:
            with contextlib.suppress(OSError):
                self._tempdir.cleanup()
            self._tempdir = None
            self.workdir = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def reset(self) -> JSON:
        """Start over: a new empty database, a fresh emulator, everyone registered again."""
        async with self._lock:
            await self._stop_bot()
            await self.client().reset()
            self._reset_clock()
            await self._register_people()
            await self._start_bot()
        state = self.clock_state()
        self.hub.publish({"type": "sandbox_reset", "generation": self.generation, "clock": state})
        return {"ok": True, "generation": self.generation, "clock": state}

    def _reset_clock(self) -> None:
        if self.start_at is None:
            self.clock.offset = timedelta(0)
        else:
            self.clock.set(self.start_at)

    def client(self) -> EmulatorClient:
        if self.emu is None:
            raise SandboxError(503, "not_running", "the sandbox is not running")
        return self.emu

    async def _register_people(self) -> None:
        """Every person an emulator user, every team with a chat a group (as the e2e tests do)."""
        emu = self.client()
        for persona in site_personas(self.site):
            await emu.create_user(persona.id, persona.name, language_code=persona.language_code)
        for team in self.site.teams:
            if team.chat_id is not None:
                await emu.create_group(
                    team.chat_id, team.name.get(self.site.site.default_language), sorted(team.everyone)
                )

    def _bot_settings(self, database: Path) -> Settings:
        assert self.server is not None
        values: JSON = {
            "log_level": "INFO",
            **self.settings,
            "bot_token": SANDBOX_TOKEN,
            "telegram_api_base": self.server.base_url,
            "database_url": f"sqlite+aiosqlite:///{database}",
            "site_config": self.site_path,
            "redis_url": None,
        }
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    async def _start_bot(self) -> None:
        assert self.workdir is not None
        self.generation += 1
        database = self.workdir / f"huiwu-{self.generation}.db"
        app = build_app(self._bot_settings(database), self.site, self.clock)
        try:
            await start(app)
        except BaseException:
            await stop(app)
            raise
        self.app, self._database = app, database
        self._polling = asyncio.create_task(
            app.dispatcher.start_polling(
                app.bot, handle_signals=False, close_bot_session=False, polling_timeout=self.polling_timeout
            ),
            name=f"sandbox-polling-{self.generation}",
        )

    async def _stop_bot(self) -> None:
        app, self.app = self.app, None
        polling, self._polling = self._polling, None
        if app is None:
            return
        if polling is not None:
            try:
                await app.dispatcher.stop_polling()
            except RuntimeError:  # polling had not started yet
                polling.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(polling, timeout=5)
        try:
            await stop(app)
        finally:
            reader, self._reader = self._reader, None
            if reader is not None:
                await reader.dispose()
            database, self._database = self._database, None
            if database is not None:
                _remove_database(database)

    # ---- events -------------------------------------------------------------------------------------
    async def _follow_emulator(self) -> None:
        """Re-publish the emulator's event stream (reconnecting if it drops), each message
        stamped with the sandbox's time at which it was sent, which is what the page shows."""
        while True:
            try:
                async for event in self.client().events(since=self._seq):
                    self._seq = max(self._seq, int(event.get("seq") or 0))
                    self.hub.publish(self.stamp_event(event))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the stream dropped: reconnect and replay from the last seq
                log.debug("emulator event stream dropped: %s", exc)
            await asyncio.sleep(0.2)

    def stamp_event(self, event: JSON) -> JSON:
        message = event.get("message")
        if isinstance(message, dict):
            self.stamp(message)
        return event

    @staticmethod
    def stamp(message: JSON) -> JSON:
        """Add ``sandbox_date``: when the message was sent by the sandbox's (movable) clock.

        That is the emulator's own ``date``: its server time is the sandbox's clock, read as
        the message is stored. Stamping when the page (or this follower) hears of it instead
        would give the messages of a long clock move the move's end time."""
        message["sandbox_date"] = int(message.get("date") or 0)
        return message

    # ---- people and chats ---------------------------------------------------------------------------
    def personas(self) -> list[Persona]:
        return site_personas(self.site)

    def persona(self, user_id: int) -> Persona:
        for persona in self.personas():
            if persona.id == user_id:
                return persona
        raise SandboxError(404, "unknown_persona", f"no persona {user_id}")

    async def chats_of(self, user_id: int) -> list[JSON]:
        """The persona's private chat with the bot, then the groups they are in."""
        self.persona(user_id)
        chats = await self.client().chats()
        result: list[JSON] = []
        for chat in chats:
            if chat["type"] == "private" and chat["id"] == user_id:
                result.insert(0, {"id": chat["id"], "type": "private", "title": None})
            elif (
                chat["type"] in ("group", "supergroup")
                and str(user_id) in (chat.get("members") or {})
                and chat.get("bot_status") not in ("left", "kicked")
            ):
                result.append(
                    {
                        "id": chat["id"],
                        "type": chat["type"],
                        "title": chat.get("title"),
                        "admin": chat["members"][str(user_id)] in ("creator", "administrator"),
                        "member_count": len(chat["members"]) + 1,
                    }
                )
        return result

    async def chat_of(self, user_id: int, chat_id: int) -> JSON:
        for chat in await self.chats_of(user_id):
            if chat["id"] == chat_id:
                return chat
        raise SandboxError(403, "not_in_chat", f"{user_id} is not in chat {chat_id}")

    async def commands_for(self, user_id: int, chat_id: int) -> list[JSON]:
        persona = self.persona(user_id)
        chat = await self.chat_of(user_id, chat_id)
        user = await self.client().get_user(user_id)
        return resolve_commands(
            await self.client().commands(),
            chat_id=chat_id,
            chat_type=chat["type"],
            user_id=user_id,
            language=user.get("language_code") or persona.language,
            admin=bool(chat.get("admin")),
        )

    # ---- time ---------------------------------------------------------------------------------------
    def clock_state(self) -> JSON:
        now = self.clock.now()
        return {
            "now": now.isoformat(),
            "now_ms": int(now.timestamp() * 1000),
            "zone": self.site.site.timezone,
            "local": now.astimezone(self.site.zone).strftime("%Y-%m-%d %H:%M"),
            "offset_seconds": self.clock.offset.total_seconds(),
        }

    def _read_only(self) -> AsyncEngine | None:
        """The bot's database, read-only at the driver level: the sandbox never writes it."""
        if self.app is None or self._database is None:
            return None
        if self._reader is None:
            self._reader = create_async_engine(f"sqlite+aiosqlite:///file:{self._database}?mode=ro&uri=true")
        return self._reader

    async def next_task_at(self, after: datetime | None = None) -> datetime | None:
        """The earliest task timer (``tasks.next_at``) ahead of ``after`` (the sandbox's time)."""
        from storage.models import Task

        reader = self._read_only()
        if reader is None:
            return None
        query = (
            select(Task.next_at)
            .where(
                Task.next_at.is_not(None), Task.next_at > (after if after is not None else self.clock.now())
            )
            .order_by(Task.next_at)
            .limit(1)
        )
        try:
            async with reader.connect() as connection:
                value = (await connection.execute(query)).scalar_one_or_none()
        except SQLAlchemyError as exc:  # e.g. the tasks table is not there (yet)
            log.debug("no task timers to read: %s", exc)
            return None
        return value.astimezone(UTC) if value is not None else None

    async def next_task_in_a_later_minute(self) -> datetime | None:
        """What "Next task" moves to: the first timer in a minute after the current one. A
        timer later in this same minute is run on the way; stopping at it would leave the
        clock showing the same minute again."""
        now = self.clock.now()
        this_minute = now.replace(second=0, microsecond=0)
        return await self.next_task_at(this_minute + timedelta(minutes=1) - timedelta(microseconds=1))

    async def next_clock_job_at(self, after: datetime) -> datetime | None:
        """When one of the bot's clock jobs (digest, weekly briefing, after-care) next has work."""
        from bot.jobs import next_clock_job_at

        reader = self._read_only()
        if reader is None:
            return None
        try:
            async with AsyncSession(reader) as session:
                return await next_clock_job_at(session, self.site, after)
        except SQLAlchemyError as exc:  # e.g. the bookings table is not there (yet)
            log.debug("no clock job moments to read: %s", exc)
            return None

    async def move_clock(self, action: str, minutes: float | None = None) -> JSON:
        """Move the sandbox's time forward as if it had passed: every timer on the way (task
        timers, clock jobs) fires at its own moment, in order, then the clock stops at the
        target. A plain jump would make each of them look late, as after a bot outage."""
        async with self._lock:
            if self.app is None:
                raise SandboxError(503, "not_running", "the sandbox is not running")
            before = self.clock.now()
            if action == "next_task":
                target = await self.next_task_in_a_later_minute()
                if target is None:
                    raise SandboxError(409, "nothing_planned", "no task timer is ahead of the sandbox's time")
            elif action == "forward":
                if minutes is None or not 0 < minutes <= MAX_MOVE.total_seconds() / 60:
                    raise SandboxError(400, "bad_minutes", "minutes must be more than 0 and at most 31 days")
                target = before + timedelta(minutes=minutes)
            elif action == "tomorrow_17":
                local = before.astimezone(self.site.zone)
                day = local.date() + timedelta(days=1)
                target = datetime.combine(day, time(17, 0), tzinfo=self.site.zone).astimezone(UTC)
            else:
                raise SandboxError(400, "bad_action", f"action must be one of {', '.join(CLOCK_ACTIONS)}")
            if target - before > MAX_MOVE:
                raise SandboxError(400, "too_far", "the sandbox's time moves at most 31 days at once")
            ran = await self._advance_to(max(target, before))
            state = self.clock_state()
        self.hub.publish({"type": "sandbox_clock", "clock": state})
        return {**state, "moved_from": before.isoformat(), **ran}

    async def _advance_to(self, target: datetime) -> JSON:
        totals: JSON = {"steps": 0, "claimed": 0, "sent": 0, "jobs": []}
        loop = asyncio.get_running_loop()
        drain_until = loop.time() + DRAIN_BUDGET.total_seconds()
        # what is due already (a booking just made) goes first, at the time it is due
        self._add(totals, await self._run_timers())
        totals["sent"] += await self._drain_outbox(drain_until)
        for _ in range(MAX_STEPS):
            now = self.clock.now()
            timer = await self.next_task_at()
            jobs, job_time = await self._next_clock_jobs(now)
            moments = [m for m in (timer, job_time) if m is not None and m <= target]
            if not moments:
                break
            moment = min(moments)
            self.clock.set(moment)
            if job_time is not None and job_time <= moment:
                totals["jobs"].extend(await self._run_jobs(jobs))
            self._add(totals, await self._run_timers())
            totals["sent"] += await self._drain_outbox(drain_until)
        else:
            log.warning("sandbox: stopped after %s timer steps on the way to %s", MAX_STEPS, target)
        if target > self.clock.now():
            self.clock.set(target)
        self._add(totals, await self._run_timers())
        totals["sent"] += await self._drain_outbox(drain_until)
        return totals

    async def _drain_outbox(self, until: float) -> int:
        """Let what this moment produced go out before the clock moves on, so each message
        carries its own moment. The sender paces each chat by real seconds (Telegram's
        limits); past ``until`` (loop time) the rest goes out later, as it would after a burst."""
        app = self.app
        assert app is not None
        send = _optional(app.workers, "send_pending")
        ready_in = _optional(getattr(app.workers, "sender", None), "next_ready_in")
        if send is None or ready_in is None:
            return 0
        loop = asyncio.get_running_loop()
        sent = 0
        while True:
            sent += _count(await _safely(send))
            wait = await _safely(ready_in)
            remaining = until - loop.time()
            if wait is None or remaining <= 0:
                return sent
            await asyncio.sleep(min(max(float(wait), 0.02), remaining))

    @staticmethod
    def _add(totals: JSON, ran: JSON) -> None:
        totals["steps"] += 1
        totals["claimed"] += ran["claimed"]
        totals["sent"] += ran["sent"]

    async def _run_timers(self) -> JSON:
        """What the background loops would do next, now: the task timers (``tick_once``) and
        the outbox (``send_pending``), until neither has anything left at this moment."""
        app = self.app
        assert app is not None
        tick = _optional(app.workers, "tick_once")
        send = _optional(app.workers, "send_pending")
        claimed_total = sent_total = 0
        for _ in range(MAX_TIMER_ROUNDS):
            claimed = await _safely(tick)
            sent = await _safely(send)
            claimed_total += _count(claimed)
            sent_total += _count(sent)
            if not claimed and not sent:
                break
        return {"claimed": claimed_total, "sent": sent_total}

    async def _next_clock_jobs(self, after: datetime) -> tuple[list[ClockJob], datetime | None]:
        """The clock jobs due first after ``after``, and when. APScheduler calls the bot's jobs
        every few real seconds and fires cron jobs by the real clock; the sandbox runs them
        itself at their moments of its own time: the bot's (:func:`bot.jobs.run_clock_jobs`)
        when one of them has work (:meth:`next_clock_job_at`), any cron job at its time."""
        from apscheduler.triggers.cron import CronTrigger

        from bot.jobs import run_clock_jobs

        app = self.app
        assert app is not None
        candidates: list[tuple[datetime, ClockJob]] = []
        bot_jobs_at = await self.next_clock_job_at(after)
        if bot_jobs_at is not None:
            jobs = app.jobs
            candidates.append((bot_jobs_at, ClockJob(BOT_CLOCK_JOBS, lambda: run_clock_jobs(jobs))))
        for job in app.scheduler.get_jobs():
            if not isinstance(job.trigger, CronTrigger):
                continue
            fire = job.trigger.get_next_fire_time(None, after.astimezone(self.site.zone))
            if fire is None or fire <= after:
                continue
            candidates.append((fire.astimezone(UTC), ClockJob(job.id, _scheduled_call(job))))
        if not candidates:
            return [], None
        earliest = min(moment for moment, _ in candidates)
        return [job for moment, job in candidates if moment == earliest], earliest

    async def _run_jobs(self, jobs: list[ClockJob]) -> list[str]:
        ran: list[str] = []
        for job in jobs:
            try:
                result = job.call()
                if inspect.isawaitable(result):
                    await result
                ran.append(job.id)
            except Exception:
                log.exception("sandbox: clock job %s failed", job.id)
        return ran


@dataclass(frozen=True)
class ClockJob:
    """A job a clock move runs at its moment: its id (reported back) and how to run it."""

    id: str
    call: Callable[[], Any]


def _scheduled_call(job: Any) -> Callable[[], Any]:
    """Call an APScheduler job as its scheduler would."""
    return lambda: job.func(*job.args, **job.kwargs)


def _remove_database(database: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            Path(f"{database}{suffix}").unlink()


def _optional(target: object, name: str) -> Callable[[], Awaitable[Any]] | None:
    method = getattr(target, name, None)
    return method if callable(method) else None


async def _safely(call: Callable[[], Awaitable[Any]] | None) -> Any:
    if call is None:
        return None
    try:
        return await call()
    except Exception:
        log.exception("sandbox: running the bot's timers failed")
        return None


def _count(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    with contextlib.suppress(TypeError):
        return len(value)
    return 1 if value else 0
