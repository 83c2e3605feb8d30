"""``EmulatorServer``: the Bot API emulator and its control API on one aiohttp server."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import bot_api, control_api
from .bot_api import STATE_KEY
from .bot_api.files import MAX_UPLOAD
from .config import EmulatorConfig
from .state import EmulatorState

if TYPE_CHECKING:
    from .client import EmulatorClient


class _RunningHandlers:
    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()


_TASKS_KEY = web.AppKey("emulator_tasks", _RunningHandlers)


@web.middleware
async def _track_tasks(request: web.Request, handler: control_api.Handler) -> web.StreamResponse:
    """Remember running handlers so ``stop()`` can end long polls and event streams at once."""
    task = asyncio.current_task()
    tasks = request.app[_TASKS_KEY].tasks
    if task is not None:
        tasks.add(task)
    try:
        return await handler(request)
    finally:
        if task is not None:
            tasks.discard(task)


def build_app(state: EmulatorState) -> web.Application:
    app = web.Application(
        client_max_size=MAX_UPLOAD + 1024 * 1024,
        middlewares=[_track_tasks, control_api.control_middleware],
    )
    app[STATE_KEY] = state
    app[_TASKS_KEY] = _RunningHandlers()
    control_api.setup_routes(app)
    bot_api.setup_routes(app)
    return app


class EmulatorServer:
    """A Telegram Bot API emulator listening on ``host:port`` (port 0 picks a free port).

    ``settings`` are :class:`EmulatorConfig` fields (``privacy_mode=False``,
    ``rate_limits={"group_window": 2.0}``...); ``clock`` drives rate limits and callback expiry;
    ``wall_clock`` is the server's time, the ``date`` of messages (the sandbox gives its own).
    Point aiogram at it with
    ``AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))``; drive it through
    ``/_emu/...`` (see :class:`emulator.client.EmulatorClient`) or directly via ``server.state``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        config: EmulatorConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        **settings: Any,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.config = config or EmulatorConfig()
        if settings:
            self.config.update(settings)
        self.state = EmulatorState(self.config, clock, wall_clock)
        self.app = build_app(self.state)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}{control_api.PREFIX}"

    @property
    def started(self) -> bool:
        return self._runner is not None

    def api_url(self, token: str, method: str) -> str:
        return f"{self.base_url}/bot{token}/{method}"

    def client(self) -> EmulatorClient:
        from .client import EmulatorClient

        return EmulatorClient(self.base_url)

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        tasks = list(self.app[_TASKS_KEY].tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), 1.0)
        await runner.cleanup()

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
