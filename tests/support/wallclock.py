"""The moment tests that start a real `huiwu run` process pretend it is.

Such a test must pass whatever day and hour the machine says (CI runs on Saturday nights
too): the bot's clock is shifted to a chosen moment with ``CLOCK_OFFSET_SECONDS`` and the test
reads the same shifted clock for every time it computes. The moment is ``HUIWU_TEST_NOW``
(ISO 8601 with its offset, e.g. ``2026-12-05T19:00+08:00``), by default a working-day
morning. ``.ci/run`` runs these tests again at a Saturday evening, a Friday 17:00 (the weekly
briefing's and the digest's moment) and a working-day morning.

The offset is fixed once per test, so time flows on from the chosen moment and a restarted
process carries on where the killed one stopped. Moments within a quarter of an hour of
midnight are refused: the tests book meetings "today" a few minutes ahead.
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.services.clock import OffsetClock

ENVIRONMENT_NAME = "HUIWU_TEST_NOW"
SITE_ZONE = ZoneInfo("Asia/Shanghai")
WORKING_DAY_MORNING = datetime(2026, 12, 2, 9, 30, tzinfo=SITE_ZONE)  # a Wednesday


def pretended_moment() -> datetime:
    """HUIWU_TEST_NOW, else a working-day morning; always timezone-aware."""
    value = os.environ.get(ENVIRONMENT_NAME, "").strip()
    if not value:
        return WORKING_DAY_MORNING
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{ENVIRONMENT_NAME}={value!r}: give the offset too, e.g. 2026-12-05T19:00+08:00")
    local = moment.astimezone(SITE_ZONE).time()
    if local >= time(23, 45) or local < time(0, 5):
        raise ValueError(f"{ENVIRONMENT_NAME}={value!r}: choose a moment away from midnight")
    return moment


class PretendClock(OffsetClock):
    """Real time shifted to the pretended moment; the same shift goes to the bot's process."""

    def __init__(self, moment: datetime | None = None) -> None:
        super().__init__()
        self.set(moment or pretended_moment())

    def environment(self) -> dict[str, str]:
        """What a `huiwu run` subprocess needs to share this clock."""
        return {"CLOCK_OFFSET_SECONDS": f"{self.offset / timedelta(seconds=1):.6f}"}
