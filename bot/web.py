"""The bot's HTTP side: Telegram's webhook, ``GET /healthz`` and ``GET /metrics``.

* The webhook (``huiwu run --webhook``) checks ``X-Telegram-Bot-Api-Secret-Token`` against
  ``WEBHOOK_SECRET`` (401 and nothing handled when it differs or is missing), then handles the
  update **before** answering, so a 200 means "handled and committed". A handler's own error
  is answered inside (the error handlers tell the person; 200). An error that escapes them —
  typically the database being unreachable — answers 500: :class:`~bot.middlewares.DeduplicateUpdates`
  forgot the update id, and Telegram delivers the update again later (it keeps trying for
  24 hours), which then gets a fresh try, once. Answering at once and handling in the
  background (aiogram's ``handle_in_background``) would instead turn each such failure into a
  lost update, since Telegram never redelivers an update it got a 200 for. Telegram waits
  60 s for the answer: past :data:`HANDLE_TIMEOUT` aiogram answers anyway and finishes the
  update in the background; should Telegram still deliver it again, the recorded id skips the
  copy.
* ``/healthz`` answers JSON: database (and Redis) reachable, outbox backlog, how late the
  oldest due outbox row and task timer are. 503 when the database or Redis cannot be reached.
* ``/metrics`` answers the Prometheus text format: the counters of bot/observability.py and
  gauges measured in the database at scrape time.
* ``/rooms/<room id>.ics`` answers a room's schedule as iCalendar (what ``/ics <room>`` sends
  in chat; 404 for a room the site does not know). Whoever reaches the listener can read it,
  so it is read as by nobody in particular: every event says only that the room is taken
  (time, status, people), never a title, unit or notes — confidential or not.

Operations (``HTTP_HOST:HTTP_PORT``) and the webhook (``WEBHOOK_HOST:WEBHOOK_PORT``) are two
listeners unless they are given the same address, so /metrics is not behind the public proxy.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import func, select, text

from bot import observability
from bot.observability import Gauge, Metric, RedactSecrets
from bot.render.calendar import calendar_wording
from bot.render.text import Reader
from bot.services.calendar import CalendarService
from storage.models import Task
from storage.repositories.outbox import PENDING, SENDING, OutboxRepository
from storage.repositories.tasks import TIMED_STATUSES

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HANDLE_TIMEOUT = 50.0
"""Seconds an update may take before the webhook answers and lets it finish in the background."""
PROBE_TIMEOUT = 3.0
"""Seconds a health probe waits for the database or Redis before calling it unreachable."""
SHUTDOWN_GRACE = 20.0
"""Seconds a stopping listener gives the updates it is handling to finish."""


# ---------------------------------------------------------------------------- the webhook


class WebhookHandler:
    """POST handler for Telegram's webhook."""

    def __init__(
        self, dispatcher: Dispatcher, bot: Bot, secret: str, timeout: float = HANDLE_TIMEOUT
    ) -> None:
        if not secret:
            raise ValueError("the webhook needs a secret")
        self.dispatcher = dispatcher
        self.bot = bot
        self.secret = secret.encode()
        self.timeout = timeout

    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return secrets.compare_digest(given.encode("utf-8", "replace"), self.secret)

    async def handle(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            observability.webhook_rejected("secret")
            log.warning(
                "webhook request without the right secret token refused", extra={"peer": request.remote}
            )
            return web.json_response({"ok": False, "description": "Unauthorized"}, status=401)
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.bot})
        except (ValueError, ValidationError):
            observability.webhook_rejected("malformed")
            return web.json_response({"ok": False, "description": "not an Update"}, status=400)
        try:
            result: Any = await self.dispatcher.feed_webhook_update(
                self.bot,
                update,
                _timeout=self.timeout,
                dispatcher=self.dispatcher,
                bots=[self.bot],
            )
        except Exception:
            # aiogram logged it; the update id was released, so Telegram's redelivery retries it
            return web.json_response({"ok": False, "description": "update failed"}, status=500)
        if isinstance(result, TelegramMethod):
            # a handler returned a method: call it rather than answer it in the body, so its
            # failures are seen and logged here
            await self.dispatcher.silent_call_request(self.bot, result)
        return web.json_response({"ok": True})


# ---------------------------------------------------------------------------- health


@dataclass
class Health:
    database_ok: bool = False
    database_error: str | None = None
    database_ms: float | None = None
    redis_ok: bool | None = None
    redis_error: str | None = None
    pending: int = 0
    sending: int = 0
    oldest_due_seconds: float | None = None
    timers_due: int = 0
    tick_lag_seconds: float | None = None
    checked_at: float = field(default_factory=time.time)

    @property
    def healthy(self) -> bool:
        return self.database_ok and self.redis_ok is not False


def _lag(now: datetime, since: datetime | None) -> float | None:
    if since is None:
        return None
    return round(max(0.0, (now - since).total_seconds()), 3)


class Operations:
    """Probes and renders /healthz and /metrics for one running App."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.redactor = RedactSecrets(observability.secrets_of(app.settings))

    def _error(self, error: BaseException) -> str:
        text_ = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return self.redactor.redact(text_)[:300]

    async def probe(self) -> Health:
        health = Health()
        try:
            await asyncio.wait_for(self._probe_database(health), PROBE_TIMEOUT)
            health.database_ok = True
        except Exception as error:
            health.database_error = self._error(error)
        redis = getattr(self.app.dispatcher.storage, "redis", None)
        if redis is not None:
            try:
                await asyncio.wait_for(redis.ping(), PROBE_TIMEOUT)
                health.redis_ok = True
            except Exception as error:
                health.redis_ok, health.redis_error = False, self._error(error)
        return health

    async def _probe_database(self, health: Health) -> None:
        now = self.app.clock.now()
        started = time.perf_counter()
        async with self.app.db.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
            health.database_ms = round((time.perf_counter() - started) * 1000, 2)
            health.pending, health.sending, oldest = await OutboxRepository(session).backlog(now)
            health.oldest_due_seconds = _lag(now, oldest)
            due, earliest = (
                await session.execute(
                    select(func.count(), func.min(Task.next_at)).where(
                        Task.next_at <= now, Task.status.in_(TIMED_STATUSES)
                    )
                )
            ).one()
            health.timers_due = int(due or 0)
            health.tick_lag_seconds = _lag(now, earliest)

    def health_document(self, health: Health) -> dict[str, Any]:
        settings = self.app.settings
        database: dict[str, Any] = {"ok": health.database_ok}
        if health.database_ok:
            database["latency_ms"] = health.database_ms
        else:
            database["error"] = health.database_error
        redis: dict[str, Any] | None = None
        if health.redis_ok is not None:
            redis = {"ok": health.redis_ok}
            if health.redis_error:
                redis["error"] = health.redis_error
        document: dict[str, Any] = {
            "status": "ok" if health.healthy else "unavailable",
            "instance": settings.instance_name,
            "mode": self.app.mode,
            "uptime_seconds": round(time.time() - observability.STARTED_AT, 1),
            "database": database,
            "redis": redis,
        }
        if health.database_ok:
            document["outbox"] = {
                "backlog": health.pending + health.sending,
                "pending": health.pending,
                "sending": health.sending,
                "oldest_due_lag_seconds": health.oldest_due_seconds,
            }
            document["timers"] = {"due": health.timers_due, "lag_seconds": health.tick_lag_seconds}
        return document

    def gauges(self, health: Health) -> list[Metric]:
        settings = self.app.settings
        info = Gauge("huiwu_info", "This instance (always 1).", ["instance", "mode"])
        info.set(1, instance=settings.instance_name, mode=self.app.mode)
        started = Gauge("process_start_time_seconds", "When this process started (Unix time).")
        started.set(observability.STARTED_AT)
        database = Gauge("huiwu_database_up", "1 when the database answered the last probe.")
        database.set(1 if health.database_ok else 0)
        metrics: list[Metric] = [info, started, database]
        if health.redis_ok is not None:
            redis = Gauge("huiwu_redis_up", "1 when Redis answered the last probe.")
            redis.set(1 if health.redis_ok else 0)
            metrics.append(redis)
        if health.database_ok:
            depth = Gauge("huiwu_outbox_depth", "Outbox rows not delivered yet, by status.", ["status"])
            depth.set(health.pending, status=PENDING)
            depth.set(health.sending, status=SENDING)
            oldest = Gauge(
                "huiwu_outbox_oldest_due_seconds", "How long the oldest due outbox row has been waiting."
            )
            oldest.set(health.oldest_due_seconds or 0.0)
            due = Gauge("huiwu_timers_due", "Task timers that are due and not taken yet.")
            due.set(health.timers_due)
            lag = Gauge("huiwu_tick_lag_seconds", "How late the oldest due task timer is.")
            lag.set(health.tick_lag_seconds or 0.0)
            metrics += [depth, oldest, due, lag]
        return metrics

    async def healthz(self, request: web.Request) -> web.Response:
        health = await self.probe()
        return web.json_response(self.health_document(health), status=200 if health.healthy else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        health = await self.probe()
        body = observability.REGISTRY.render(self.gauges(health))
        return web.Response(body=body.encode(), headers={"Content-Type": observability.CONTENT_TYPE})


# ---------------------------------------------------------------------------- room calendars


ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"


class RoomFeeds:
    """``GET /rooms/{room_id}.ics``: a room's bookings, as anonymous :class:`CalendarService`
    sees them (no viewer: no title, no unit), in the site's default language."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.service = CalendarService(app.site, app.clock)

    async def feed(self, request: web.Request) -> web.Response:
        room = self.app.site.room(request.match_info["room_id"])
        if room is None:
            return web.Response(status=404, text="no such room\n")
        try:
            async with self.app.db.sessionmaker() as session:
                entries = await self.service.entries(session, room.id, None, None)
        except Exception:
            log.exception("the calendar of room %s could not be read", room.id)
            return web.Response(status=503, text="the calendar cannot be read now\n")
        read = Reader(self.app.i18n, self.app.site.site.default_language, self.app.site)
        body = self.service.feed(room, entries, calendar_wording(read, room))
        return web.Response(
            body=body,
            headers={
                "Content-Type": ICS_CONTENT_TYPE,
                "Content-Disposition": f'inline; filename="{room.id}.ics"',
                "Cache-Control": "no-cache",
            },
        )


# ---------------------------------------------------------------------------- listeners


def build_web_app(app: App, *, webhook: bool, operations: bool) -> web.Application:
    web_app = web.Application()
    if operations:
        ops = Operations(app)
        web_app.router.add_get("/healthz", ops.healthz)
        web_app.router.add_get("/metrics", ops.metrics)
        web_app.router.add_get("/rooms/{room_id}.ics", RoomFeeds(app).feed)
    if webhook:
        secret = app.settings.webhook_secret
        if secret is None:
            raise ValueError("WEBHOOK_SECRET is not set")
        handler = WebhookHandler(app.dispatcher, app.bot, secret.get_secret_value())
        web_app.router.add_post(app.settings.webhook_route, handler.handle)
    return web_app


class ListenerError(RuntimeError):
    """A listener could not open its port (in use, not allowed)."""


class WebServer:
    """One aiohttp listener; port 0 picks a free port (see :attr:`port` once started)."""

    def __init__(self, web_app: web.Application, host: str, port: int, name: str) -> None:
        self.web_app = web_app
        self.host = host
        self.requested_port = port
        self.name = name
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"the {self.name} listener is not started")
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        runner = web.AppRunner(self.web_app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.requested_port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            setting = "HTTP_PORT" if self.name == "operations" else "WEBHOOK_PORT"
            raise ListenerError(
                f"cannot listen on {self.host}:{self.requested_port} for the {self.name} "
                f"({error.strerror or error}): set {setting} to a free port"
            ) from error
        except BaseException:
            await runner.cleanup()
            raise
        self.runner = runner
        self.port = int(runner.addresses[0][1])
        log.info("%s listening on %s:%s", self.name, self.host, self.port)

    async def stop(self) -> None:
        runner, self.runner = self.runner, None
        if runner is not None:
            await runner.cleanup()


def plan_listeners(app: App, *, webhook: bool) -> list[WebServer]:
    """The listeners this mode needs: operations on HTTP_PORT (unless off), the webhook on
    WEBHOOK_PORT; one listener serves both when they share host and (non-zero) port."""
    settings = app.settings
    operations = settings.http_port is not None
    if (
        webhook
        and operations
        and (settings.http_host, settings.http_port)
        == (
            settings.webhook_host,
            settings.webhook_port,
        )
        and settings.http_port != 0
    ):
        both = build_web_app(app, webhook=True, operations=True)
        return [WebServer(both, settings.webhook_host, settings.webhook_port, "webhook and operations")]
    servers: list[WebServer] = []
    if webhook:
        hook = build_web_app(app, webhook=True, operations=False)
        servers.append(WebServer(hook, settings.webhook_host, settings.webhook_port, "webhook"))
    if operations:
        assert settings.http_port is not None
        ops = build_web_app(app, webhook=False, operations=True)
        servers.append(WebServer(ops, settings.http_host, settings.http_port, "operations"))
    return servers
