"""``GET /rooms/<room id>/display?token=…`` and its ``display.json``: the screen at a room's door.

The site is the example's with a display token for rooms r101 and r301 (the example itself
has none: a token is a secret). The clock is the harness's; bookings go through the service.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import start_listeners
from bot.services.deep_links import BOOK_ROOM_PAYLOAD, CHECKIN_PAYLOAD
from tests.support.clock_steps import book
from tests.support.harness import EXAMPLE_SITE, SHANGHAI, Harness, running_bot
from tests.support.people import REQUESTER, SITE_ADMIN, STRANGER

WEDNESDAY = datetime(2026, 12, 2, tzinfo=SHANGHAI)
R101_TOKEN = "r101-door-Xq7v2KpL9sWd4TnB"
R301_TOKEN = "r301-door-Hc3mZ8yRfQ1uVe6J"
PRIVATE = ("Secret strategy", "13800000000", "联系人", "comfortable chairs")


def site_with_display_tokens(tmp_path: Path) -> Path:
    text = EXAMPLE_SITE.read_text(encoding="utf-8")
    for room_id, token in (("r101", R101_TOKEN), ("r301", R301_TOKEN)):
        line = f'id = "{room_id}"\n'
        assert text.count(line) == 1
        text = text.replace(line, f'{line}display_token = "{token}"\n')
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path, site_path=site_with_display_tokens(tmp_path), http_port=0) as running:
        await start_listeners(running.app, webhook=False)
        yield running


def display_url(h: Harness, room_id: str, **query: str) -> str:
    (server,) = h.app.servers
    return str(aiohttp.client.URL(f"{server.base_url}/rooms/{room_id}/display").with_query(query))


async def page(h: Harness, room_id: str = "r101", **query: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(display_url(h, room_id, **query)) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        return await response.text()


async def state(h: Harness, room_id: str = "r101", **query: str) -> dict[str, Any]:
    url = display_url(h, room_id, **query).replace("/display?", "/display.json?")
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200, await response.text()
        document: dict[str, Any] = await response.json()
        return document


async def a_morning_of_meetings(h: Harness) -> tuple[int, int]:
    ordinary = await book(h, WEDNESDAY.replace(hour=9), title="季度财务分析会", attendees=12)
    secret = await book(
        h, WEDNESDAY.replace(hour=14), 60, title="Secret strategy", confidential=True, attendees=8
    )
    await book(h, WEDNESDAY.replace(hour=9), room="r301", title="Another room's meeting")
    return ordinary.id, secret.id


async def test_a_wrong_missing_or_other_rooms_token_is_refused_alike(harness: Harness) -> None:
    h = harness
    refusals = set()
    async with aiohttp.ClientSession() as http:
        for room_id, query in (
            ("r101", {"token": "r101-door-Xq7v2KpL9sWd4TnC"}),  # one character off
            ("r101", {}),
            ("r101", {"token": ""}),
            ("r101", {"token": R301_TOKEN}),  # another room's
            ("r102", {"token": R101_TOKEN}),  # a room without a display
            ("r102", {}),
            ("nosuch", {"token": R101_TOKEN}),  # no such room
        ):
            for endpoint in ("display", "display.json"):
                url = display_url(h, room_id, **query).replace("/display", f"/{endpoint}", 1)
                async with http.get(url) as response:
                    assert response.status == 403, url
                    body = await response.text()
                    refusals.add(body)
    (body,) = refusals  # one and the same page, whichever room was asked for
    assert "链接无效" in body
    assert not [name for name in ("第一会议室", "r101", "接待室", "nosuch") if name in body]


async def test_free_until_the_next_meeting_then_busy_then_free_for_the_rest_of_the_day(
    harness: Harness,
) -> None:
    h = harness
    ordinary, secret = await a_morning_of_meetings(h)
    h.clock.set(WEDNESDAY.replace(hour=8))

    free = await state(h, token=R101_TOKEN)
    assert free["room"] == "第一会议室"
    assert free["state"] == "free"
    assert free["status"] == "空闲至09:00"
    assert free["now"] is None
    assert [(m["time"], m["title"], m["unit"]) for m in free["later"]] == [
        ("09:00–11:00", "季度财务分析会", "财务处"),
        ("14:00–15:00", "已预订", ""),
    ]
    assert free["qr_link"] == f"https://t.me/huiwu_bot?start={BOOK_ROOM_PAYLOAD}r101"
    assert free["qr_caption"] == "扫码预订本会议室"
    assert free["qr_svg"].startswith("<svg")
    assert free["time"] == "08:00"

    h.clock.set(WEDNESDAY.replace(hour=8, minute=51))  # the check-in window is open
    opening = await state(h, token=R101_TOKEN)
    assert opening["state"] == "free"
    assert opening["qr_link"] == f"https://t.me/huiwu_bot?start={CHECKIN_PAYLOAD}{ordinary}"
    assert opening["qr_caption"] == "扫码签到"

    h.clock.set(WEDNESDAY.replace(hour=9, minute=30))
    busy = await state(h, token=R101_TOKEN)
    assert busy["state"] == "busy"
    assert busy["status"] == "使用中，至11:00"
    assert (busy["now"]["title"], busy["now"]["unit"]) == ("季度财务分析会", "财务处")
    assert [m["title"] for m in busy["later"]] == ["已预订"]
    assert busy["qr_link"].endswith(f"?start={CHECKIN_PAYLOAD}{ordinary}")

    h.clock.set(WEDNESDAY.replace(hour=11, minute=30))
    between = await state(h, token=R101_TOKEN)
    assert (between["state"], between["status"]) == ("free", "空闲至14:00")

    h.clock.set(WEDNESDAY.replace(hour=15, minute=5))
    evening = await state(h, token=R101_TOKEN)
    assert evening["status"] == "今日余下时间空闲"
    assert evening["now"] is None and evening["later"] == []
    assert evening["later_empty"] == "今日没有其他会议"
    assert secret  # booked in the room, shown above as "booked" only

    text = await page(h, token=R101_TOKEN)  # the first paint says the same
    assert "今日余下时间空闲" in text and "第一会议室" in text and "<svg" in text


async def test_a_confidential_meeting_shows_nothing_but_booked_and_its_time(harness: Harness) -> None:
    h = harness
    await a_morning_of_meetings(h)
    # an ordinary meeting shows its title and unit, never its contact or notes (first: the
    # clock only moves forward, as the bot's tick finishes meetings whose end it has passed)
    h.clock.set(WEDNESDAY.replace(hour=9, minute=5))
    text = await page(h, token=R101_TOKEN)
    assert "季度财务分析会" in text and "财务处" in text
    assert not [secret for secret in PRIVATE if secret in text]

    h.clock.set(WEDNESDAY.replace(hour=14, minute=10))
    document = await state(h, token=R101_TOKEN)
    assert document["now"] == {
        "time": "14:00–15:00",
        "title": "已预订",
        "unit": "",
        "booked_only": True,
        "note": "",
    }
    text = await page(h, token=R101_TOKEN)
    for shown in (str(document), text, str(await state(h, token=R101_TOKEN, lang="en"))):
        assert not [secret for secret in PRIVATE if secret in shown]
    assert "Another room" not in text


async def test_a_title_typed_with_markup_is_shown_as_text(harness: Harness) -> None:
    h = harness
    title = '<script>alert("x")</script> & <b>"review"</b>'
    await book(h, WEDNESDAY.replace(hour=9), title=title)
    h.clock.set(WEDNESDAY.replace(hour=9, minute=15))

    text = await page(h, token=R101_TOKEN)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in text
    assert "<script>alert" not in text and "<b>" not in text
    assert len(re.findall(r"<script\b", text)) == 1  # the page's own, with its nonce
    document = await state(h, token=R101_TOKEN)
    assert document["now"]["title"] == title  # plain text: the page sets it as textContent


async def test_the_language_follows_the_site_and_switches(harness: Harness) -> None:
    h = harness
    await a_morning_of_meetings(h)
    h.clock.set(WEDNESDAY.replace(hour=8))

    zh = await page(h, token=R101_TOKEN)
    assert '<html lang="zh-CN">' in zh and "空闲至09:00" in zh and ">English</button>" in zh
    en = await page(h, token=R101_TOKEN, lang="en")
    assert '<html lang="en">' in en and "Free until 09:00" in en and ">中文</button>" in en
    assert "Meeting Room 1" in en and "Booked" in en and "Finance" in en

    document = await state(h, token=R101_TOKEN, lang="en")
    assert (document["language"], document["status"], document["switch_to"]) == (
        "en",
        "Free until 09:00",
        "zh",
    )
    assert document["qr_caption"] == "Scan to book this room"
    assert (await state(h, token=R101_TOKEN, lang="fr"))["language"] == "zh"  # the site's default


async def test_the_poll_interval_is_a_query_parameter(harness: Harness) -> None:
    h = harness
    assert 'data-poll="30"' in await page(h, token=R101_TOKEN)
    assert 'data-poll="2"' in await page(h, token=R101_TOKEN, poll="2")
    assert 'data-poll="3600"' in await page(h, token=R101_TOKEN, poll="9999")
    assert 'data-poll="30"' in await page(h, token=R101_TOKEN, poll="-1")


async def test_the_qr_codes_deep_links_open_the_bot_and_are_not_invite_codes(harness: Harness) -> None:
    h = harness
    # booking from the door: the dialog opens with the room chosen
    reply = await h.ask(
        REQUESTER, f"/start {BOOK_ROOM_PAYLOAD}r101", lambda m: "第一会议室" in m.get("text", "")
    )
    assert "邀请码无效" not in reply["text"]
    # checking in answers about that booking (bot/handlers/checkin.py), never about an invite
    answer = await h.ask(REQUESTER, f"/start {CHECKIN_PAYLOAD}12345", lambda m: "#12345" in m.get("text", ""))
    assert "邀请码无效" not in answer["text"] and "未找到" in answer["text"]
    # someone the bot does not know is told how to join, not that an invite code failed
    await h.emu.create_user(STRANGER, "stranger", language_code="zh-hans")
    stranger = await h.ask(STRANGER, f"/start {BOOK_ROOM_PAYLOAD}r101", lambda m: bool(m.get("text")))
    assert stranger["text"].startswith("您好！使用本机器人前")


async def status_of(h: Harness, room_id: str, token: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(display_url(h, room_id, token=token)) as response:
        return response.status


def issued_token(message: dict[str, Any], room_id: str) -> str:
    found = re.search(rf"/rooms/{room_id}/display\?token=([A-Za-z0-9_-]+)", message["text"])
    assert found is not None, message["text"]
    return found.group(1)


async def test_a_site_admin_issues_and_rotates_a_display_link_in_chat(harness: Harness) -> None:
    h = harness
    first = await h.ask(SITE_ADMIN, "/display r101", "门牌屏")
    token = issued_token(first, "r101")
    assert len(token) >= 32 and token not in (R101_TOKEN, R301_TOKEN)
    assert await status_of(h, "r101", token) == 200
    assert await status_of(h, "r101", R101_TOKEN) == 403  # the site file's token is replaced

    await h.ask(SITE_ADMIN, "/language en", "Language set to English.")
    second = await h.ask(SITE_ADMIN, "/display R101", "door display link")
    rotated = issued_token(second, "r101")
    assert rotated != token and "no longer opens" in second["text"]
    assert await status_of(h, "r101", rotated) == 200
    assert await status_of(h, "r101", token) == 403  # the link before stops at once
    assert await status_of(h, "r301", R301_TOKEN) == 200  # other rooms keep theirs

    # a room without a display in the site file gets one
    third = await h.ask(SITE_ADMIN, "/display r102", "door display link")
    assert await status_of(h, "r102", issued_token(third, "r102")) == 200
    assert await status_of(h, "r101", issued_token(third, "r102")) == 403

    unknown = await h.ask(SITE_ADMIN, "/display nosuch", "Which room?")
    assert "r101" in unknown["text"]


async def test_only_a_site_admin_may_issue_a_display_link(harness: Harness) -> None:
    h = harness
    refused = await h.ask(REQUESTER, "/display r101", "只有站点管理员")
    assert "token=" not in refused["text"]
    assert await status_of(h, "r101", R101_TOKEN) == 200  # nothing changed
    await h.ask(REQUESTER, "/language en", "Language set to English.")
    await h.ask(REQUESTER, "/display r101", "Only a site admin can issue door display links.")
