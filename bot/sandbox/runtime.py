"""The sandbox's moving parts: the emulator, the bot, a throw-away database and a movable clock.

The bot is built by :func:`bot.app.build_app`, exactly as ``huiwu run`` builds it; only its
Bot API base points at the in-process emulator, its database lives in a temporary directory
and its clock is an :class:`~bot.services.clock.OffsetClock` the page can move forward
(bot/sandbox/clock_moves.py). Every room has a door display, served by the bot's own code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app, start, stop
from bot.ops.door_display import DoorDisplays
from bot.sandbox.clock_moves import ClockMoves
from bot.sandbox.common import JSON, EventHub, SandboxError
from bot.sandbox.personas import Persona, resolve_commands, site_personas
from bot.services.clock import OffsetClock
from bot.settings import Settings
from bot.site import SiteConfig, load_site
from emulator.client import EmulatorClient
from emulator.server import EmulatorServer

__all__ = [
    "JSON",
    "SANDBOX_TOKEN",
    "EventHub",
    "Persona",
    "Sandbox",
    "SandboxError",
    "default_site_path",
    "resolve_commands",
    "site_personas",
    "with_door_displays",
]

log = logging.getLogger(__name__)

# Well-formed (digits, colon, 20+ safe characters) so every check passes, and useless anywhere
# but the sandbox's own emulator, which is told to accept nothing else.
SANDBOX_TOKEN = "123456789:SANDBOX-not-a-real-token-0000"


def default_site_path() -> Path:
    """examples/site.toml of the source tree, else of the working directory."""
    beside_source = Path(__file__).resolve().parents[2] / "examples" / "site.toml"
    return beside_source if beside_source.exists() else Path("examples/site.toml")


def with_door_displays(site: SiteConfig) -> SiteConfig:
    """The site with a door display for every room: a room the file gives no ``display_token``
    gets a random one for this run (the example site keeps no secrets; the sandbox is local)."""
    rooms = tuple(
        room if room.display_token else room.model_copy(update={"display_token": secrets.token_urlsafe(18)})
        for room in site.rooms
    )
    return site.model_copy(update={"rooms": rooms})


# ---- the sandbox ------------------------------------------------------------------------------------
@dataclass
class Sandbox(ClockMoves):
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
    displays: DoorDisplays | None = field(init=False, default=None)
    """The rooms' door displays, served by the bot's own code (bot/ops/door_display.py)."""
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
        self.site = with_door_displays(load_site(self.site_path))
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
        self.displays = DoorDisplays(app.site, app.clock, app.db, app.i18n)
        self._polling = asyncio.create_task(
            app.dispatcher.start_polling(
                app.bot, handle_signals=False, close_bot_session=False, polling_timeout=self.polling_timeout
            ),
            name=f"sandbox-polling-{self.generation}",
        )

    async def _stop_bot(self) -> None:
        app, self.app = self.app, None
        self.displays = None
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

    def rooms(self) -> list[JSON]:
        """Every room with the address of its door display (on the sandbox's own page)."""
        return [
            {
                "id": room.id,
                "name": room.name.model_dump(),
                "class": room.room_class,
                "capacity": room.capacity,
                "display": f"/rooms/{quote(room.id)}/display?token={room.display_token}",
            }
            for room in self.site.rooms
        ]

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


def _remove_database(database: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            Path(f"{database}{suffix}").unlink()
