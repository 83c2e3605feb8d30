"""Metrics: the counters the rest of the code bumps, and each App's Prometheus exposition.

The counters belong to the process: the sender, the escalation policy and the update
middlewares call the small functions below (:func:`message_sent`, :func:`rate_limited`,
:func:`escalated` …) without knowing which App they serve. They are ``prometheus_client``
metrics registered in no registry at all (the library's global default registry included):
each App gets a :class:`InstanceMetrics` with a ``CollectorRegistry`` of its own, which holds
these counters plus the gauges of that App (its instance name, what its health probe measured
at scrape time). Several Apps can so live in one process (the multi-instance tests, the
sandbox's reset) without a duplicate registration; they then report the same process-wide
counters, as separate processes each report their own and Prometheus sums the instances.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Summary, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

# The library adds a ``<name>_created`` timestamp series next to every counter and summary;
# the text format (0.0.4) Prometheus scrapes here has no use for it, and the operators' guide
# (docs/deploy.md) lists none.
disable_created_metrics()

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The text exposition format :func:`prometheus_client.generate_latest` writes."""
STARTED_AT = time.time()

UPDATES = Counter(
    "huiwu_updates_total",
    "Telegram updates by outcome (handled, duplicate, failed).",
    ["outcome"],
    registry=None,
)
HANDLER_ERRORS = Counter(
    "huiwu_update_errors_total", "Updates whose handlers raised (the person was told so).", registry=None
)
UPDATE_SECONDS = Summary("huiwu_update_seconds", "Time spent handling one update.", registry=None)
WEBHOOK_REJECTED = Counter(
    "huiwu_webhook_rejected_total",
    "Webhook requests refused (bad secret, malformed).",
    ["reason"],
    registry=None,
)
MESSAGES_SENT = Counter(
    "huiwu_messages_sent_total",
    "Outbox deliveries Telegram accepted (send or edit).",
    ["method"],
    registry=None,
)
SEND_FAILURES = Counter(
    "huiwu_send_failures_total",
    "Outbox deliveries that failed (retry later or given up).",
    ["kind"],
    registry=None,
)
RATE_LIMITED = Counter(
    "huiwu_telegram_429_total", "429 Too Many Requests answers from Telegram.", registry=None
)
ESCALATIONS = Counter(
    "huiwu_escalations_total", "Task escalations, by the role told.", ["role"], registry=None
)
TICKS = Counter("huiwu_tick_steps_total", "Task timer steps taken (push, remind, escalate).", registry=None)

PROCESS_METRICS: tuple[Counter | Summary, ...] = (
    UPDATES,
    HANDLER_ERRORS,
    UPDATE_SECONDS,
    WEBHOOK_REJECTED,
    MESSAGES_SENT,
    SEND_FAILURES,
    RATE_LIMITED,
    ESCALATIONS,
    TICKS,
)

# Label sets shown as 0 before they first happen, so a rate starts from a sample.
for _outcome in ("handled", "duplicate", "failed"):
    UPDATES.labels(outcome=_outcome)
for _method in ("send", "edit"):
    MESSAGES_SENT.labels(method=_method)
for _kind in ("retry", "failed"):
    SEND_FAILURES.labels(kind=_kind)
for _reason in ("secret", "malformed"):
    WEBHOOK_REJECTED.labels(reason=_reason)


def value(counter: Counter, **labels: str) -> float:
    """Where one of this process's counters stands (0 for a label set not seen yet)."""
    for family in counter.collect():
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels == labels:
                return sample.value
    return 0.0


# ---- what the rest of the code calls -------------------------------------------------------


def update_handled(outcome: str, seconds: float | None = None) -> None:
    """``outcome``: handled, duplicate, or failed (an error escaped every error handler)."""
    UPDATES.labels(outcome=outcome).inc()
    if seconds is not None:
        UPDATE_SECONDS.observe(seconds)


def handler_error() -> None:
    HANDLER_ERRORS.inc()


def webhook_rejected(reason: str) -> None:
    WEBHOOK_REJECTED.labels(reason=reason).inc()


def message_sent(method: str = "send") -> None:
    """A send (or an edit, ``method="edit"``) that Telegram accepted."""
    MESSAGES_SENT.labels(method=method).inc()


def send_failed(kind: str = "retry") -> None:
    """``kind``: ``retry`` (will be tried again) or ``failed`` (given up)."""
    SEND_FAILURES.labels(kind=kind).inc()


def rate_limited() -> None:
    RATE_LIMITED.inc()


def escalated(role: str | None) -> None:
    ESCALATIONS.labels(role=role or "none").inc()


def tick_steps(steps: int) -> None:
    if steps:
        TICKS.inc(steps)


# ---- one App's exposition ------------------------------------------------------------------


class _ScrapeGauges(Collector):
    """The gauges measured for the scrape being answered (none between scrapes)."""

    def __init__(self) -> None:
        self.current: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        yield from self.current


class InstanceMetrics:
    """``GET /metrics`` of one App: the process's counters and the gauges of this App."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for metric in PROCESS_METRICS:
            self.registry.register(metric)
        self._gauges = _ScrapeGauges()
        self.registry.register(self._gauges)

    def render(self, gauges: Iterable[Metric] = ()) -> bytes:
        """The text exposition with ``gauges`` (measured for this scrape) after the counters.

        Synchronous from start to end, so two scrapes answered at once on the event loop never
        see each other's gauges.
        """
        self._gauges.current = list(gauges)
        try:
            return generate_latest(self.registry)
        finally:
            self._gauges.current = []
