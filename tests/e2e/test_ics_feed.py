"""``GET /rooms/<room id>.ics`` on the operations listener: a room's schedule for calendar apps.

Whoever reaches the port can read the feed, so it shows that the room is taken and never a
meeting's title or unit, confidential or not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from icalendar import Calendar

from bot.app import start_listeners
from tests.support.clock_steps import book
from tests.support.harness import SHANGHAI, Harness, running_bot

WEDNESDAY = datetime(2026, 12, 2, tzinfo=SHANGHAI)
PRIVATE = ("季度财务分析会", "Secret strategy", "Another room", "财务处", "finance", "联系人", "13800000000")


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path, http_port=0) as running:
        await start_listeners(running.app, webhook=False)
        yield running


def feed_url(h: Harness, room_id: str) -> str:
    (server,) = h.app.servers
    return f"{server.base_url}/rooms/{room_id}.ics"


async def test_a_rooms_feed_says_when_it_is_taken_and_nothing_more(harness: Harness) -> None:
    h = harness
    await book(h, WEDNESDAY.replace(hour=9), title="季度财务分析会", attendees=12)
    await book(h, WEDNESDAY.replace(hour=14), title="Secret strategy", confidential=True, attendees=8)
    await book(h, WEDNESDAY.replace(hour=9), room="r301", title="Another room's meeting")

    async with aiohttp.ClientSession() as http, http.get(feed_url(h, "r101")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        body = await response.read()

    calendar = Calendar.from_ical(body)
    events = sorted(calendar.walk("VEVENT"), key=lambda event: event.decoded("dtstart"))
    assert [event.decoded("dtstart") for event in events] == [
        WEDNESDAY.replace(hour=9),
        WEDNESDAY.replace(hour=14),
    ]
    assert {str(event["SUMMARY"]) for event in events} == {"已预订"}  # the site's language
    assert [str(event["DESCRIPTION"]) for event in events] == ["12人", "8人"]
    text = body.decode()
    assert not [secret for secret in PRIVATE if secret in text]


async def test_an_unknown_room_is_404(harness: Harness) -> None:
    async with aiohttp.ClientSession() as http:
        for room_id in ("nosuch", "r101x", "..%2Fr101"):
            async with http.get(feed_url(harness, room_id)) as response:
                assert response.status == 404
        async with http.get(feed_url(harness, "r101").removesuffix(".ics")) as response:
            assert response.status == 404
