"""The sender: delivers outbox rows through the Bot API within Telegram's limits.

What may go when, how bursts are merged and how each row is rendered is decided in
bot/delivery/outbox.py; this module makes the calls (a message, an edit, or a picture or
document with its caption) through a :class:`~bot.delivery.gateway.MessageGateway`
(bot/telegram/gateway.py in the running bot) and sorts Telegram's answers:

* 429 Too Many Requests: that chat waits ``retry_after`` (other chats carry on); never given up.
* 5xx, timeouts, connection errors (Telegram or the network is down): the chat waits 1, 2,
  4 … 60 s, then tries again, for as long as the outage lasts — never given up, so nothing
  queued during an outage of minutes or hours is lost.
* other API errors (401, 409 …) and unexpected exceptions: retried the same way, but after
  ``MAX_ATTEMPTS`` the row is failed and the supervisor told (a row that always fails must
  not hold its chat's queue for ever).
* 403 (bot removed from the group, or blocked) and 400 "chat not found": failed at once and
  the supervisor told (once a day per chat).
* "message is not modified" answering an edit: success.
* a group that became a supergroup: its rows and its binding follow the new chat id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from bot.delivery.budget import SharedSendBudget
from bot.delivery.gateway import (
    BadRequest,
    ChatMigrated,
    ChatUnreachable,
    MessageGateway,
    RetryLater,
    SendError,
    TelegramUnavailable,
)
from bot.delivery.merging import Delivery
from bot.delivery.notices import NoticeDelivery
from bot.delivery.outbox import OutboxService
from bot.delivery.pacing import Limits, Pacer, backoff_seconds
from bot.services.clock import Clock
from bot.services.types import Notice
from bot.settings import Settings
from bot.site import Role, SiteConfig
from storage.database import Database
from storage.repositories.tasks import ChatBindingRepository

log = logging.getLogger(__name__)

FINAL_BAD_REQUESTS = (
    "chat not found",
    "user not found",
    "peer_id_invalid",
    "have no rights",
    "not enough rights",
)


def sending_limits(settings: Settings) -> Limits:
    return Limits(
        per_chat_interval=settings.per_chat_interval_seconds,
        group_per_minute=settings.group_per_minute,
        global_per_second=settings.global_per_second,
    )


class SendCounters(Protocol):
    """Where the sender counts its calls (bot/ops/metrics.py in the running bot)."""

    def message_sent(self, method: str = "send") -> None: ...

    def rate_limited(self) -> None: ...

    def send_failed(self, kind: str = "retry") -> None: ...


class NoSendCounters:
    """Counts nothing (tests, benchmarks)."""

    def message_sent(self, method: str = "send") -> None:
        pass

    def rate_limited(self) -> None:
        pass

    def send_failed(self, kind: str = "retry") -> None:
        pass


class Sender:
    def __init__(
        self,
        gateway: MessageGateway,
        db: Database,
        clock: Clock,
        site: SiteConfig,
        delivery: NoticeDelivery,
        settings: Settings,
        monotonic: Callable[[], float] = time.monotonic,
        request_timeout: float | None = None,
        budget: SharedSendBudget | None = None,
        counters: SendCounters | None = None,
    ) -> None:
        self.counters: SendCounters = counters or NoSendCounters()
        self.gateway = gateway
        self.db = db
        self.clock = clock
        self.site = site
        self.delivery = delivery
        self.pacer = Pacer(sending_limits(settings), monotonic)
        self.outbox = OutboxService(db, clock, self.pacer, delivery.render, instance=settings.instance_name)
        self.request_timeout = request_timeout or settings.send_timeout_seconds
        self.budget = budget
        self.stats = {"sent": 0, "edited": 0, "retry_after": 0, "retried": 0, "failed": 0, "merged_parts": 0}

    async def send_pending(self) -> int:
        """Deliver everything that may be sent now; the number of messages sent or edited."""
        total = 0
        while True:
            deliveries = await self.outbox.claim()
            if not deliveries:
                return total
            results = await asyncio.gather(*(self._deliver(item) for item in deliveries))
            total += sum(results)

    async def next_ready_in(self) -> float | None:
        """Seconds until a waiting chat may send again (None: nothing is waiting)."""
        return self.pacer.next_ready_in(await self.outbox.waiting_chats())

    async def _deliver(self, item: Delivery) -> int:
        if self.budget is not None:
            wait = await self.budget.take(item.chat_id, counts_for_group=item.method == "send")
            if wait > 0:  # another instance used this chat's (or the bot's) moment
                await self.outbox.postpone(item, wait)
                return 0
        try:
            if item.method == "send":
                message_id = await self._send(item)
                await self.outbox.mark_sent(item, message_id)
                self.stats["sent"] += 1
                self.counters.message_sent("send")
                self.stats["merged_parts"] += len(item.part_ids)
            else:
                assert item.message_id is not None
                await self.gateway.edit_message(
                    item.chat_id, item.message_id, item.text, item.keyboard, self._timeout()
                )
                await self.outbox.mark_sent(item, None)
                self.stats["edited"] += 1
                self.counters.message_sent("edit")
            return 1
        except RetryLater as error:  # the gateway's calls are not waited out (bot/telegram/retry.py)
            self.stats["retry_after"] += 1
            self.counters.rate_limited()
            log.warning("429 for chat %s: waiting %s s", item.chat_id, error.retry_after)
            if self.budget is not None:
                await self.budget.pause(item.chat_id, float(error.retry_after))
            await self.outbox.mark_retry(item, error.message, float(error.retry_after), may_give_up=False)
        except ChatMigrated as error:
            log.info("chat %s is now %s", item.chat_id, error.new_chat_id)
            await self._moved(item, error.new_chat_id)
        except BadRequest as error:
            if item.method == "edit" and "not modified" in error.message.lower():
                await self.outbox.mark_sent(item, None)
                return 1
            await self._failed(
                item, error.message, tell=any(s in error.message.lower() for s in FINAL_BAD_REQUESTS)
            )
        except ChatUnreachable as error:
            await self._failed(item, error.message, tell=True)
        except (TimeoutError, TelegramUnavailable) as error:
            await self._retry(item, str(error), may_give_up=False)
        except SendError as error:  # 401, 409 …: nothing this message did; try later
            await self._retry(item, str(error))
        except Exception as error:  # never lose a row to a bug in one call
            log.exception("sending outbox row %s failed", item.row_id)
            await self._retry(item, repr(error))
        return 0

    def _timeout(self) -> int:
        return max(1, round(self.request_timeout))

    async def _send(self, item: Delivery) -> int:
        """The message, picture or document of a send; its message id."""
        if item.file is None:
            return await self.gateway.send_message(item.chat_id, item.text, item.keyboard, self._timeout())
        content = await item.file.content()
        return await self.gateway.send_file(
            item.chat_id,
            item.file.method,
            content,
            item.file.name,
            item.text or None,
            item.keyboard,
            self._timeout(),
        )

    async def _retry(self, item: Delivery, error: str, may_give_up: bool = True) -> None:
        self.stats["retried"] += 1
        self.counters.send_failed("retry")
        wait = backoff_seconds(item.attempts)
        log.warning("outbox row %s to %s: %s; retry in %.0f s", item.row_id, item.chat_id, error, wait)
        if not await self.outbox.mark_retry(item, error, wait, may_give_up=may_give_up):
            self.stats["failed"] += 1
            self.counters.send_failed("failed")
            await self._tell_supervisors(item, error)

    async def _failed(self, item: Delivery, error: str, tell: bool) -> None:
        self.stats["failed"] += 1
        self.counters.send_failed("failed")
        log.warning("outbox row %s to %s failed: %s", item.row_id, item.chat_id, error)
        await self.outbox.mark_failed(item, error)
        if tell and item.method == "send":
            await self._tell_supervisors(item, error)

    async def _moved(self, item: Delivery, new_chat_id: int) -> None:
        async with self.db.transaction() as session:
            await ChatBindingRepository(session).move(item.chat_id, new_chat_id)
        await self.outbox.move_chat(item.chat_id, new_chat_id)
        await self.outbox.mark_retry(item, "group moved to a supergroup", 0.0, may_give_up=False)

    async def _tell_supervisors(self, item: Delivery, error: str) -> None:
        day = self.clock.now().date().isoformat()
        notices = [
            Notice(
                "delivery_failed",
                person,
                {"chat_id": item.chat_id, "error": error},
                dedupe_key=f"undeliverable:{item.chat_id}:{day}:{person}",
            )
            for person in self.site.people_with(Role.supervisor)
            if person != item.chat_id
        ]
        if notices:
            async with self.db.transaction() as session:
                await self.delivery.deliver(session, notices)
