"""Health: is the database (and Redis) reachable, how long is the outbox, how late the timers.

:class:`HealthProbe` measures; ``GET /healthz`` answers :func:`health_document` of what it
measured (503 when the database or Redis cannot be reached) and ``GET /metrics`` adds
:func:`health_gauges` to the counters (bot/ops/web.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import func, select, text

from bot.ops.logs import RedactSecrets
from bot.ops.metrics import STARTED_AT
from bot.services.clock import Clock
from storage.database import Database
from storage.models import Task
from storage.repositories.outbox import PENDING, SENDING, OutboxRepository
from storage.repositories.tasks import TIMED_STATUSES

PROBE_TIMEOUT = 3.0
"""Seconds a health probe waits for the database or Redis before calling it unreachable."""


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


class HealthProbe:
    """Measures one App's :class:`Health`; ``redis`` is None when dialog state lives in memory."""

    def __init__(self, db: Database, clock: Clock, redis: Any | None, secrets: Iterable[str] = ()) -> None:
        self.db = db
        self.clock = clock
        self.redis = redis
        # the error text of a failed probe is shown to whoever reaches the listener
        self.redactor = RedactSecrets(secrets)

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
        if self.redis is not None:
            try:
                await asyncio.wait_for(self.redis.ping(), PROBE_TIMEOUT)
                health.redis_ok = True
            except Exception as error:
                health.redis_ok, health.redis_error = False, self._error(error)
        return health

    async def _probe_database(self, health: Health) -> None:
        now = self.clock.now()
        started = time.perf_counter()
        async with self.db.sessionmaker() as session:
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


def health_document(health: Health, instance: str, mode: str) -> dict[str, Any]:
    """The JSON of ``GET /healthz``."""
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
        "instance": instance,
        "mode": mode,
        "uptime_seconds": round(time.time() - STARTED_AT, 1),
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


def health_gauges(health: Health, instance: str, mode: str) -> list[Metric]:
    """The gauges ``GET /metrics`` adds to the counters, measured for this scrape."""
    info = GaugeMetricFamily("huiwu_info", "This instance (always 1).", labels=["instance", "mode"])
    info.add_metric([instance, mode], 1)
    started = GaugeMetricFamily("process_start_time_seconds", "When this process started (Unix time).")
    started.add_metric([], STARTED_AT)
    database = GaugeMetricFamily("huiwu_database_up", "1 when the database answered the last probe.")
    database.add_metric([], 1 if health.database_ok else 0)
    gauges: list[Metric] = [info, started, database]
    if health.redis_ok is not None:
        redis = GaugeMetricFamily("huiwu_redis_up", "1 when Redis answered the last probe.")
        redis.add_metric([], 1 if health.redis_ok else 0)
        gauges.append(redis)
    if health.database_ok:
        depth = GaugeMetricFamily(
            "huiwu_outbox_depth", "Outbox rows not delivered yet, by status.", labels=["status"]
        )
        depth.add_metric([PENDING], health.pending)
        depth.add_metric([SENDING], health.sending)
        oldest = GaugeMetricFamily(
            "huiwu_outbox_oldest_due_seconds", "How long the oldest due outbox row has been waiting."
        )
        oldest.add_metric([], health.oldest_due_seconds or 0.0)
        due = GaugeMetricFamily("huiwu_timers_due", "Task timers that are due and not taken yet.")
        due.add_metric([], health.timers_due)
        lag = GaugeMetricFamily("huiwu_tick_lag_seconds", "How late the oldest due task timer is.")
        lag.add_metric([], health.tick_lag_seconds or 0.0)
        gauges += [depth, oldest, due, lag]
    return gauges
