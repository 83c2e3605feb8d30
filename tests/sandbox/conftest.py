"""The sandbox in-process: its runtime on the test's event loop, or on a thread of its own for
the browser test (Playwright's sync API wants the main thread's loop to itself)."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import zlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.sandbox.runtime import Sandbox
from bot.sandbox.web import build_web_app

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning: every room class can be booked for the next day.
START = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
FAST = {"tick_seconds": 0.2, "sender_idle_seconds": 0.05, "log_level": "WARNING"}
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    running = Sandbox(start_at=START, workdir=tmp_path / "sandbox", settings=FAST, polling_timeout=1)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(build_web_app(sandbox))) as test_client:
        yield test_client


@pytest.fixture
async def unthrottled(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, Client]]:
    """A sandbox without Telegram's pacing, so a day's messages all go out inside one move."""
    settings = {**FAST, "per_chat_interval_seconds": 0, "group_per_minute": 1000, "global_per_second": 1000}
    running = Sandbox(
        start_at=START, workdir=tmp_path / "fast", settings=settings, polling_timeout=1, rate_limits=False
    )
    await running.start()
    try:
        async with TestClient(TestServer(build_web_app(running))) as test_client:
            yield running, test_client
    finally:
        await running.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SandboxThread:
    """``huiwu sandbox`` on a background thread: the same Sandbox and web app the CLI serves."""

    def __init__(self, workdir: Path, **options: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.options = {
            "start_at": START,
            "workdir": workdir,
            "settings": FAST,
            "polling_timeout": 1,
            **options,
        }
        self.sandbox: Sandbox | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sandbox", daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the sandbox did not start")
        if self._error is not None:
            raise self._error

    def stop(self, timeout: float = 15.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def call(self, coroutine: Any, timeout: float = 15.0) -> Any:
        """Run a coroutine on the sandbox's loop (for checks the page cannot show)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner: web.AppRunner | None = None
        try:
            self.sandbox = Sandbox(**self.options)
            runner = web.AppRunner(
                build_web_app(self.sandbox), handler_cancellation=True, shutdown_timeout=1.0
            )
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            await self.sandbox.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            if runner is not None:
                await runner.cleanup()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()
            await self.sandbox.stop()


def png(width: int = 4, height: int = 3) -> bytes:
    """A tiny valid PNG (a red rectangle)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def book_tomorrow_at_ten(sandbox: Sandbox) -> None:
    """王敏's meeting on Wednesday 10:00 in 第一会议室, booked through the bot's booking
    service: its day-before inspection is pushed to the tea group today at 10:00."""
    from datetime import timedelta

    from tests.support.factories import booking_request

    assert sandbox.app is not None
    start = START + timedelta(days=1, hours=1)
    request = booking_request(start)
    async with sandbox.app.db.transaction() as session:
        outcome = await sandbox.app.dispatcher.workflow_data["booking_service"].create(session, request)
        await sandbox.app.workers.delivery.deliver(session, outcome.notices)
