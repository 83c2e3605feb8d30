"""Shared pieces of the benchmarks: a fresh PostgreSQL database, a Redis key prefix, the bot
run as a separate process (``python -m bot run [--webhook]``) and a webhook pusher that
delivers updates in parallel, as Telegram does.

PostgreSQL (user postgres, trust auth) and Redis are expected on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from emulator.state import EmulatorState

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
JSON = dict[str, Any]


def machine() -> str:
    load = ", load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return (
        f"{platform.machine()}, {os.cpu_count()} CPU{load}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


@contextlib.asynccontextmanager
async def postgres_database(prefix: str = "huiwu_bench") -> AsyncIterator[str]:
    """A new, empty PostgreSQL database; dropped afterwards (WITH FORCE). Yields its URL."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(database="postgres", timeout=5, **POSTGRES)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+asyncpg://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def redis_prefix(prefix: str = "huiwu-bench") -> AsyncIterator[str]:
    """A key prefix of this run alone; every key under it is deleted afterwards."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    await client.ping()
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        keys = [key async for key in client.scan_iter(match=f"{name}:*", count=500)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def port_open(port: int, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return True
        await asyncio.sleep(0.2)
    return False


class BotProcess:
    """``python -m bot run [--webhook]`` as its own process, configured by environment
    variables as in production; its log (stderr and stdout) goes to ``log``."""

    def __init__(self, name: str, env: dict[str, str], log: Path, *, webhook: bool) -> None:
        self.name, self.log, self.webhook = name, log, webhook
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "INSTANCE_NAME": name, **env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, cwd: Path) -> None:
        command = [sys.executable, "-m", "bot", "run", *(["--webhook"] if self.webhook else [])]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    async def stop(self, seconds: float = 30) -> int | None:
        """SIGTERM (systemd's stop), then SIGKILL after ``seconds``; the exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + seconds
            while process.poll() is None and loop.time() < deadline:  # noqa: ASYNC110 (a process)
                await asyncio.sleep(0.1)
            if process.poll() is None:
                process.kill()
        return process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def problems(self) -> list[str]:
        """Log lines at WARNING or above, and tracebacks."""
        if not self.log.exists():
            return []
        words = ("level=WARNING", "level=ERROR", "level=CRITICAL", "Traceback", '"level": "')
        text = self.log.read_text(encoding="utf-8", errors="replace")
        benign = ("Received SIGTERM signal",)  # the stop the benchmark asked for
        return [
            line
            for line in text.splitlines()
            if any(word in line for word in words) and not any(word in line for word in benign)
        ]


def gist(line: str) -> str:
    """A log line in short: its logger and message, and the last line of its traceback."""
    logger = re.search(r"logger=(\S+)", line)
    message = re.search(r'msg="((?:[^"\\]|\\.)*)"', line)
    exc = re.search(r'exc="((?:[^"\\]|\\.)*)"', line)
    if not message:
        return line[:200]
    text = re.sub(r"\d+", "N", message.group(1))  # "update 103 failed" and the like, as one
    last = exc.group(1).replace("\\n", "\n").strip().splitlines()[-1][:200] if exc else ""
    return f"{logger.group(1) if logger else '?'}: {text}" + (f" — {last}" if last else "")


def chat_of(update: JSON) -> Any:
    """The chat an update belongs to (updates of one chat are delivered in order)."""
    for kind in ("message", "edited_message", "my_chat_member", "chat_member"):
        if kind in update:
            return update[kind]["chat"]["id"]
    if "callback_query" in update:
        query = update["callback_query"]
        return (query.get("message") or {}).get("chat", {}).get("id") or query["from"]["id"]
    return ("update", update["update_id"])


class ParallelPusher:
    """Push the emulator's updates to webhooks like Telegram: up to the ``max_connections``
    the bot registered in parallel, one at a time per chat (in order), the targets taken in
    turn like a load balancer. The emulator's own WebhookPusher delivers one update at a time
    for everyone, which would make N concurrent users wait for each other's handlers.

    A 2xx answer removes the update; anything else keeps it for another try after
    ``retry_delay`` (with the next target).
    """

    def __init__(
        self, state: EmulatorState, targets: list[str], *, retry_delay: float = 0.2, timeout: float = 60.0
    ) -> None:
        self.state, self.targets = state, targets
        self.retry_delay, self.timeout = retry_delay, timeout
        self._turn = itertools.count()
        self._flying: dict[int, Any] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.accepted = 0
        self.failed = 0
        self.per_target: dict[str, int] = dict.fromkeys(targets, 0)

    async def __aenter__(self) -> ParallelPusher:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout), connector=aiohttp.TCPConnector(limit=0)
        )
        self._runner = asyncio.create_task(self._run(), name="bench-webhook-pusher")
        return self

    async def __aexit__(self, *exc: object) -> None:
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()

    def _ready(self) -> list[JSON]:
        if not self.state.webhook.get("url"):
            return []
        limit = int(self.state.webhook.get("max_connections") or 40)
        busy = set(self._flying.values())
        ready: list[JSON] = []
        for update in self.state.webhook_updates():
            if len(self._flying) + len(ready) >= limit:
                break
            chat = chat_of(update)
            if update["update_id"] in self._flying or chat in busy:
                busy.add(chat)
                continue
            busy.add(chat)
            ready.append(update)
        return ready

    async def _run(self) -> None:
        while True:
            await self.state.updates_changed.wait_for(lambda: bool(self._ready()), 1.0)
            for update in self._ready():
                self._flying[update["update_id"]] = chat_of(update)
                task = asyncio.create_task(self._deliver(update))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, update: JSON) -> None:
        assert self._session is not None
        target = self.targets[next(self._turn) % len(self.targets)]
        headers = {"Content-Type": "application/json"}
        secret = self.state.webhook.get("secret_token")
        if secret:
            headers[SECRET_HEADER] = str(secret)
        ok = False
        try:
            async with self._session.post(target, data=json.dumps(update), headers=headers) as response:
                await response.read()
                ok = 200 <= response.status < 300
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        try:
            if ok:
                self.accepted += 1
                self.per_target[target] += 1
                self.state.drop_update(update["update_id"])
            else:
                self.failed += 1
                await asyncio.sleep(self.retry_delay)
        finally:
            self._flying.pop(update["update_id"], None)
            self.state.updates_changed.notify()
