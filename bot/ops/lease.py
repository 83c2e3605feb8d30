"""One live process per INSTANCE_NAME, held as a lease in Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

log = logging.getLogger(__name__)


class InstanceNameTaken(RuntimeError):
    pass


class InstanceNameLease:
    """INSTANCE_NAME held in Redis while this process runs.

    Leases on task and outbox rows carry the instance name, and a starting instance takes back
    the rows its name left in flight. Two live instances with one name would take each
    other's rows and send messages twice, so a second one waits for the name (a crashed
    holder's entry expires after :attr:`TTL` seconds) and then refuses to start.
    """

    TTL = 30
    _REFRESH = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end "
        "return 0"
    )
    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

    def __init__(self, redis: Any, prefix: str, name: str) -> None:
        self.redis = redis
        self.name = name
        self.key = f"{prefix}:instance:{name}"
        self.value = uuid.uuid4().hex

    async def acquire(self, wait: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.TTL + 5 if wait is None else wait)
        while not await self.redis.set(self.key, self.value, nx=True, ex=self.TTL):
            if loop.time() >= deadline:
                raise InstanceNameTaken(
                    f"another running instance is named {self.name!r}: "
                    "give every instance its own INSTANCE_NAME"
                )
            await asyncio.sleep(1.0)

    async def keep(self) -> None:
        while True:
            await asyncio.sleep(self.TTL / 3)
            try:
                if not await self.redis.eval(self._REFRESH, 1, self.key, self.value, self.TTL):
                    log.error("instance name %r was taken over by another process", self.name)
            except Exception:
                log.warning("could not renew the instance name lease", exc_info=True)

    async def release(self) -> None:
        with contextlib.suppress(Exception):
            await self.redis.eval(self._RELEASE, 1, self.key, self.value)
