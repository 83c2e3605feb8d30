"""The weekly briefing is never empty, and a missed one is caught up once, for the week just ended."""

from __future__ import annotations

from datetime import datetime

from tests.support.clock_steps import clock_jobs, move_to, new_messages, text_of
from tests.support.harness import SHANGHAI, Harness
from tests.support.people import MANAGER, SUPERVISOR
from tests.unit import week_seed
from tests.unit.week_seed import REPORT_AT


async def _briefings(h: Harness, chat_id: int, since: int) -> list[str]:
    """Captions of the briefing pictures and names of the briefing files sent to ``chat_id``."""
    return [
        text_of(message) or message["document"]["file_name"]
        for message in await new_messages(h, chat_id, since)
        if message.get("photo") or message.get("document")
    ]


async def test_a_week_without_meetings_sends_no_briefing(harness: Harness) -> None:
    h = harness
    since = await h.emu.current_seq()
    await move_to(h, REPORT_AT)  # Friday 17:00 of an empty week
    await move_to(h, datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI))  # and the Monday after
    assert await _briefings(h, SUPERVISOR, since) == []
    assert await _briefings(h, MANAGER, since) == []


async def test_a_briefing_missed_over_the_weekend_is_sent_once_on_monday(harness: Harness) -> None:
    h = harness
    async with h.app.db.transaction() as session:
        await week_seed.seed(session, h.site)
    since = await h.emu.current_seq()
    # the bot was down from Friday afternoon to Monday morning: the clock jumps over 17:00
    await h.advance(seconds=(datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI) - h.clock.now()).total_seconds())
    await clock_jobs(h)
    await clock_jobs(h)
    for person in (SUPERVISOR, MANAGER):
        sent = await _briefings(h, person, since)
        assert len(sent) == 2, sent
        assert "2026-W49" in sent[0] and sent[1] == "huiwu-week-2026-W49.xlsx"
    # a week later, only that week's own briefing: W49 is never sent again
    await move_to(h, datetime(2026, 12, 14, 9, 0, tzinfo=SHANGHAI))
    sent = await _briefings(h, SUPERVISOR, since)
    assert sum("2026-W49" in line for line in sent) == 2
    assert sum("2026-W50" in line for line in sent) == 2
