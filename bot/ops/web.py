"""The bot's HTTP side: Telegram's webhook, ``GET /healthz`` and ``GET /metrics``.

* The webhook (``huiwu run --webhook``) on ``WEBHOOK_ROUTE``: its handler is Telegram's side
  (bot/telegram/webhook.py: the secret token checked, the update handled before answering),
  made by :attr:`WebDependencies.webhook` from ``WEBHOOK_SECRET``.
* ``/healthz`` answers JSON: database (and Redis) reachable, outbox backlog, how late the
  oldest due outbox row and task timer are. 503 when the database or Redis cannot be reached.
* ``/metrics`` answers the Prometheus text format: the counters of bot/ops/metrics.py and
  gauges measured in the database at scrape time (bot/ops/health.py).
* ``/rooms/<room id>.ics`` answers a room's schedule as iCalendar (what ``/ics <room>`` sends
  in chat; 404 for a room the site does not know). Whoever reaches the listener can read it,
  so it is read as by nobody in particular: every event says only that the room is taken
  (time, status, people), never a title, unit or notes — confidential or not.
* ``/rooms/<room id>/display?token=…`` (and ``display.json``) is the screen at a room's door,
  for rooms whose site file entry has a ``display_token`` (bot/ops/door_display.py).

Operations (``HTTP_HOST:HTTP_PORT``) and the webhook (``WEBHOOK_HOST:WEBHOOK_PORT``) are two
listeners unless they are given the same address, so /metrics is not behind the public proxy.

The listeners take what they serve as explicit :class:`WebDependencies`, built by the
composition root (bot/app.py); this module knows nothing of the App.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.delivery.notices import Translations
from bot.ops.door_display import DoorDisplays
from bot.ops.health import HealthProbe, health_document, health_gauges
from bot.ops.metrics import CONTENT_TYPE, InstanceMetrics
from bot.render.calendar import calendar_wording
from bot.render.text import Reader
from bot.services.calendar import CalendarService
from bot.services.clock import Clock
from bot.settings import Settings
from bot.site import SiteConfig
from storage.database import Database

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 20.0
"""Seconds a stopping listener gives the updates it is handling to finish."""

WebHandler = Callable[[web.Request], Awaitable[web.Response]]


# ---------------------------------------------------------------------------- health and metrics


class Operations:
    """``GET /healthz`` and ``GET /metrics`` of one running App."""

    def __init__(
        self, probe: HealthProbe, instance_metrics: InstanceMetrics, instance: str, mode: str
    ) -> None:
        self.probe = probe
        self.instance_metrics = instance_metrics
        self.instance = instance
        self.mode = mode

    async def healthz(self, request: web.Request) -> web.Response:
        health = await self.probe.probe()
        document = health_document(health, self.instance, self.mode)
        return web.json_response(document, status=200 if health.healthy else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        health = await self.probe.probe()
        body = self.instance_metrics.render(health_gauges(health, self.instance, self.mode))
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


# ---------------------------------------------------------------------------- room calendars


ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"


class RoomFeeds:
    """``GET /rooms/{room_id}.ics``: a room's bookings, as anonymous :class:`CalendarService`
    sees them (no viewer: no title, no unit), in the site's default language."""

    def __init__(self, site: SiteConfig, clock: Clock, db: Database, i18n: Translations) -> None:
        self.site = site
        self.db = db
        self.i18n = i18n
        self.service = CalendarService(site, clock)

    async def feed(self, request: web.Request) -> web.Response:
        room = self.site.room(request.match_info["room_id"])
        if room is None:
            return web.Response(status=404, text="no such room\n")
        try:
            async with self.db.sessionmaker() as session:
                entries = await self.service.entries(session, room.id, None, None)
        except Exception:
            log.exception("the calendar of room %s could not be read", room.id)
            return web.Response(status=503, text="the calendar cannot be read now\n")
        read = Reader(self.i18n, self.site.site.default_language, self.site)
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


@dataclass(frozen=True)
class WebDependencies:
    """What the listeners serve, handed over by the composition root."""

    settings: Settings
    webhook: Callable[[str], WebHandler]
    """Makes the webhook's POST handler for a secret token (bot/telegram/webhook.py)."""
    health: HealthProbe
    metrics: InstanceMetrics
    rooms: RoomFeeds
    mode: str
    """``polling`` or ``webhook``, as /healthz and ``huiwu_info`` report it."""
    displays: DoorDisplays | None = None
    """The rooms' door displays (None: not served)."""


def build_web_app(deps: WebDependencies, *, webhook: bool, operations: bool) -> web.Application:
    web_app = web.Application()
    if operations:
        ops = Operations(deps.health, deps.metrics, deps.settings.instance_name, deps.mode)
        web_app.router.add_get("/healthz", ops.healthz)
        web_app.router.add_get("/metrics", ops.metrics)
        web_app.router.add_get("/rooms/{room_id}.ics", deps.rooms.feed)
        if deps.displays is not None:
            web_app.router.add_get("/rooms/{room_id}/display", deps.displays.page)
            web_app.router.add_get("/rooms/{room_id}/display.json", deps.displays.state)
    if webhook:
        secret = deps.settings.webhook_secret
        if secret is None:
            raise ValueError("WEBHOOK_SECRET is not set")
        web_app.router.add_post(deps.settings.webhook_route, deps.webhook(secret.get_secret_value()))
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


def plan_listeners(deps: WebDependencies, *, webhook: bool) -> list[WebServer]:
    """The listeners this mode needs: operations on HTTP_PORT (unless off), the webhook on
    WEBHOOK_PORT; one listener serves both when they share host and (non-zero) port."""
    settings = deps.settings
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
        both = build_web_app(deps, webhook=True, operations=True)
        return [WebServer(both, settings.webhook_host, settings.webhook_port, "webhook and operations")]
    servers: list[WebServer] = []
    if webhook:
        hook = build_web_app(deps, webhook=True, operations=False)
        servers.append(WebServer(hook, settings.webhook_host, settings.webhook_port, "webhook"))
    if operations:
        assert settings.http_port is not None
        ops = build_web_app(deps, webhook=False, operations=True)
        servers.append(WebServer(ops, settings.http_host, settings.http_port, "operations"))
    return servers
