"""Optional webhook delivery: POST the emulator's updates to a bot's webhook, as Telegram does.

The emulator itself only records ``setWebhook``. A test that wants Telegram's push side runs a
:class:`WebhookPusher` next to the server::

    async with WebhookPusher(server.state, targets=[bot_a_url, bot_b_url]):
        ...  # users act through the control API; updates arrive at the webhooks

Once the bot has called ``setWebhook``, each pending update is POSTed (JSON) with the
``X-Telegram-Bot-Api-Secret-Token`` header the bot registered. The targets are the real
addresses to post to (the registered URL is https and public; a test's bot listens on
http://127.0.0.1), taken in turn, like a load balancer in front of several instances.
Deliveries are one at a time and in order. A 2xx answer removes the update; anything else
(or no answer within ``timeout``) keeps it, records ``last_error_message`` in
``getWebhookInfo`` and tries again after ``retry_delay``, with the next target.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp

from .state import EmulatorState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class WebhookDelivery:
    update_id: int
    target: str
    status: int | None
    """The HTTP status of the answer; None when there was none (connection error, timeout)."""
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookPusher:
    def __init__(
        self,
        state: EmulatorState,
        targets: Sequence[str] | None = None,
        *,
        retry_delay: float = 0.2,
        timeout: float = 30.0,
    ) -> None:
        self.state = state
        self.targets = list(targets or [])
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.deliveries: list[WebhookDelivery] = []
        self._turn = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._task = asyncio.create_task(self._run(), name="emulator-webhook-pusher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> WebhookPusher:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ---- what happened -----------------------------------------------------------------
    def accepted_by(self, target: str) -> list[int]:
        return [d.update_id for d in self.deliveries if d.target == target and d.accepted]

    async def drained(self, seconds: float = 10.0) -> bool:
        """Wait until no update is waiting for the webhook."""
        return await self.state.updates_changed.wait_for(lambda: not self._waiting(), seconds)

    # ---- delivering --------------------------------------------------------------------
    def _waiting(self) -> list[dict[str, Any]]:
        if not self.state.webhook.get("url"):
            return []
        return self.state.webhook_updates()

    def _next_target(self) -> str:
        if self.targets:
            return self.targets[next(self._turn) % len(self.targets)]
        return str(self.state.webhook["url"])

    async def _run(self) -> None:
        while True:
            await self.state.updates_changed.wait_for(lambda: bool(self._waiting()), 1.0)
            waiting = self._waiting()
            if not waiting:
                continue
            if not await self._deliver(waiting[0]):
                await asyncio.sleep(self.retry_delay)

    async def _deliver(self, update: dict[str, Any]) -> bool:
        assert self._session is not None
        target = self._next_target()
        headers = {"Content-Type": "application/json"}
        secret = self.state.webhook.get("secret_token")
        if secret:
            headers[SECRET_HEADER] = str(secret)
        status: int | None = None
        error: str | None = None
        try:
            async with self._session.post(target, data=json.dumps(update), headers=headers) as response:
                status = response.status
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery = WebhookDelivery(update["update_id"], target, status, error)
        self.deliveries.append(delivery)
        if delivery.accepted:
            self.state.drop_update(update["update_id"])
            self.state.updates_changed.notify()
            return True
        self.state.webhook["last_error_date"] = int(time.time())
        self.state.webhook["last_error_message"] = error
        return False
