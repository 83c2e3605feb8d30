"""Helpers for the webhook and multi-instance tests: a fresh PostgreSQL database, a Redis key
prefix of its own, and bots started in webhook mode against the emulator.

PostgreSQL (user postgres, trust auth) and Redis are expected on 127.0.0.1; a test that needs
one that does not answer is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.app import App, build_app, serve_webhook, start, stop
from bot.services.clock import Clock
from bot.site import SiteConfig
from bot.telegram.webhook import SECRET_HEADER
from tests.support.harness import harness_settings

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/0"
WEBHOOK_URL = "https://huiwu.test/telegram/webhook"
SECRET = "test-webhook-secret_0123456789"
JSON = dict[str, Any]


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new, empty database for this test; dropped afterwards. Yields its asyncpg URL."""
    import asyncpg

    try:
        admin = await asyncpg.connect(database="postgres", timeout=3, **POSTGRES)
    except Exception as error:  # not running, refused, authentication …
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({error})")
    name = f"huiwu_scaleout_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+asyncpg://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"
    finally:
        with contextlib.suppress(Exception):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix no other test uses; every key under it is deleted afterwards."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as error:
        await client.aclose()
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error})")
    prefix = f"huiwu-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=500)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@dataclass
class Instance:
    app: App

    @property
    def webhook_url(self) -> str:
        """Where this instance's webhook listens (what the proxy would forward to)."""
        server = next(s for s in self.app.servers if "webhook" in s.name)
        return server.base_url + self.app.settings.webhook_route

    @property
    def operations_url(self) -> str:
        server = next(s for s in self.app.servers if "operations" in s.name)
        return server.base_url


def webhook_settings(database_url: str, api_base: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "webhook_url": WEBHOOK_URL,
        "webhook_secret": SECRET,
        "webhook_port": 0,
        "http_port": 0,
        "group_per_minute": 1000,
        "global_per_second": 1000,
    }
    values.update(overrides)
    return harness_settings(database_url, api_base, **values)


@contextlib.asynccontextmanager
async def webhook_instance(
    site: SiteConfig, clock: Clock, database_url: str, api_base: str, **overrides: Any
) -> AsyncIterator[Instance]:
    app = build_app(webhook_settings(database_url, api_base, **overrides), site, clock)
    try:
        await start(app)
        await serve_webhook(app)
        yield Instance(app)
    finally:
        await stop(app)


async def post_update(
    session: aiohttp.ClientSession, url: str, update: JSON, secret: str | None = SECRET
) -> int:
    headers = {} if secret is None else {SECRET_HEADER: secret}
    async with session.post(url, json=update, headers=headers) as response:
        await response.read()
        return response.status


async def post_everywhere(session: aiohttp.ClientSession, urls: list[str], update: JSON) -> list[int]:
    """The same update to every url at the same moment (a redelivery racing the first)."""
    return list(await asyncio.gather(*(post_update(session, url, update) for url in urls)))
