"""Bounded storage: what the site's ``[retention]`` keeps, and how big a clean-up batch is.

Every batch is a transaction of its own (bot/jobs/retention.py); on SQLite a transaction
holds the database's only write lock from its first statement to its commit, so a batch
must stay short for a press or the tick waiting behind it: :class:`BatchSize` halves the
next batch when one took longer than :data:`TARGET_SECONDS` and doubles it when one was
quick, between :data:`SMALLEST` and :data:`LARGEST` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.site import Retention

TARGET_SECONDS = 0.02
"""A batch aims at this; the bound is 50 ms (docs/site-config.md, ``[retention]``)."""
SMALLEST = 50
LARGEST = 2000
FIRST = 500


@dataclass(frozen=True)
class Cutoffs:
    """Records older than these go."""

    outbox: datetime
    processed_updates: datetime
    task_events: datetime


def cutoffs(retention: Retention, now: datetime) -> Cutoffs:
    return Cutoffs(
        outbox=now - timedelta(days=retention.outbox_days),
        processed_updates=now - timedelta(days=retention.processed_updates_days),
        task_events=now - timedelta(days=retention.task_events_days),
    )


@dataclass
class BatchSize:
    """Rows (or ids) per batch, adjusted to the time the last batch took."""

    rows: int = FIRST
    target: float = TARGET_SECONDS
    smallest: int = SMALLEST
    largest: int = LARGEST

    def after(self, seconds: float) -> int:
        if seconds > self.target:
            self.rows = max(self.smallest, self.rows // 2)
        elif seconds < self.target / 3:
            self.rows = min(self.largest, self.rows * 2)
        return self.rows


@dataclass
class PruneReport:
    """What one clean-up run removed, and its longest batch (its longest write lock)."""

    outbox: int = 0
    processed_updates: int = 0
    task_events: int = 0
    batches: int = 0
    longest_batch: float = 0.0
    batch_seconds: list[float] = field(default_factory=list)
    finished: bool = True
    """False: the run stopped at its time budget; the next run goes on."""

    @property
    def removed(self) -> int:
        return self.outbox + self.processed_updates + self.task_events

    def record(self, seconds: float) -> None:
        self.batches += 1
        self.longest_batch = max(self.longest_batch, seconds)
        self.batch_seconds.append(seconds)
