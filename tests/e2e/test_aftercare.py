"""After the meeting, through the emulator: lost and found, consumables and the fee
confirmation (accepted, disputed), feedback — with the bad inputs and the wrong presses."""

from __future__ import annotations

import asyncio
import struct
import zlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.services.aftercare import AftercareService
from bot.services.types import BookingView
from storage.models.aftercare import FollowUp, LostItem
from tests.support.clock_steps import book, clock_jobs, drain, move_to, new_messages, text_of
from tests.support.harness import SHANGHAI, Harness
from tests.support.people import (
    AV_MEMBER,
    CLEANING_GROUP,
    REQUESTER,
    REQUESTER_EN,
    SECURITY_GROUP,
    SERVICE_GROUP,
    SERVICE_LEADER,
    SERVICE_MEMBER,
    SUPERVISOR,
)

JSON = dict[str, Any]
OTHER_SERVICE_MEMBER = 3003
TUESDAY = datetime(2026, 12, 1, tzinfo=SHANGHAI)


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\x00\xff" * 2)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


async def ended_meeting(h: Harness, **kwargs: Any) -> BookingView:
    """A meeting today 14:00–15:00, and the clock moved to its end (the follow-up goes out)."""
    booking = await book(h, TUESDAY.replace(hour=14), 60, **kwargs)
    await move_to(h, TUESDAY.replace(hour=15, minute=1))
    return booking


async def pressed(h: Harness, user: int, chat: int, label: str, **extra: Any) -> JSON:
    """Press a button; the bot's answer to the press (text, show_alert)."""
    record = await h.emu.press_button(user, chat, label, **extra)
    return await h.emu.wait_for_callback_answer(record["callback_query_id"], timeout=10)


async def forged(h: Harness, user: int, data: str, chat: int | None = None) -> JSON:
    """A press with made-up button data, on the bot's last message in ``chat`` (default: the
    presser's private chat)."""
    if chat is None:
        await h.ask(user, "/help", lambda m: True)
    message = await h.emu.last_bot_message(user if chat is None else chat)
    assert message is not None
    record = await h.emu.click_button(
        user, user if chat is None else chat, message["message_id"], data, forge=True
    )
    return await h.emu.wait_for_callback_answer(record["callback_query_id"], timeout=10)


async def prompt(h: Harness, chat: int, marker: str, since: int) -> JSON:
    """The bot's question, once the bot has recorded it.

    The question reaches the chat a moment before the bot records it, while the press that
    asked it is still being handled. The person asked is served in turn, but anyone else in
    the group is not: a reply of theirs in that moment would find no question to refuse."""
    question = await h.emu.wait_for_message(chat, marker, since=since, timeout=10)
    service = AftercareService(h.site, h.clock)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        async with h.app.db.transaction() as session:
            if await service.prompt(session, chat, question["message_id"]) is not None:
                return question
        assert loop.time() < deadline, "the bot never recorded its question"
        await asyncio.sleep(0.02)


async def answer(h: Harness, user: int, chat: int, question: JSON, expect: str, **message: Any) -> JSON:
    """Reply to the bot's question; the bot's next message in the chat matching ``expect``."""
    since = await h.emu.current_seq()
    await h.emu.send_message(user, chat_id=chat, reply_to_message_id=question["message_id"], **message)
    found = await h.emu.wait_for_message(chat, expect, since=since, timeout=10)
    await drain(h)
    return found


# ---------------------------------------------------------------------------- the follow-up


async def test_the_meeting_end_is_followed_up_once(harness: Harness) -> None:
    h = harness
    since = await h.emu.current_seq()
    booking = await ended_meeting(h, title="年终总结会", confidential=True)
    for group in (SERVICE_GROUP, SECURITY_GROUP, CLEANING_GROUP):
        cards = [m for m in await new_messages(h, group, since) if "会议已结束" in text_of(m)]
        assert len(cards) == 1, group
        assert "第一会议室" in text_of(cards[0]) and "年终总结会" not in text_of(cards[0])  # confidential
    request = [m for m in await new_messages(h, REQUESTER, since) if "满意" in text_of(m)]
    assert len(request) == 1 and "年终总结会" in text_of(request[0])  # the organiser sees its own title

    # exactly once: the jobs again, a later tick, a second instance's job all find it claimed
    await clock_jobs(h)
    await move_to(h, TUESDAY.replace(hour=16))
    service = AftercareService(h.site, h.clock)
    async with h.app.db.transaction() as session:
        assert await service.claim_finished(session, {}) == []
        assert await session.scalar(select(func.count()).select_from(FollowUp)) == 1
    cards = [m for m in await new_messages(h, SERVICE_GROUP, since) if "会议已结束" in text_of(m)]
    assert len(cards) == 1
    assert booking.id


# ---------------------------------------------------------------------------- lost and found


async def test_lost_and_found(harness: Harness) -> None:
    h = harness
    await h.emu.add_member(SERVICE_GROUP, REQUESTER_EN)
    await h.emu.add_member(SERVICE_GROUP, AV_MEMBER)
    await ended_meeting(h, title="预算评审会")

    # someone not of the team: refused, and no question asked
    for outsider, says in ((REQUESTER_EN, "Only this team"), (AV_MEMBER, "只有本组人员")):
        refused = await pressed(h, outsider, SERVICE_GROUP, "拾遗物品登记")
        assert refused["show_alert"] and says in refused["text"]
    assert not [m for m in await h.emu.bot_messages(SERVICE_GROUP) if "请描述" in text_of(m)]

    since = await h.emu.current_seq()
    await pressed(h, SERVICE_MEMBER, SERVICE_GROUP, "拾遗物品登记")
    question = await prompt(h, SERVICE_GROUP, "请描述", since)
    assert question["reply_markup"]["force_reply"] is True

    # another member's reply to someone else's question changes nothing
    other = await answer(h, OTHER_SERVICE_MEMBER, SERVICE_GROUP, question, "问别人的", text="一把伞")
    assert other
    # a photo without a description: the photo is kept and the description asked for
    again = await answer(h, SERVICE_MEMBER, SERVICE_GROUP, question, "照片已收到", photo=tiny_png())
    registered = await answer(
        h, SERVICE_MEMBER, SERVICE_GROUP, again, "已登记为物品", text="黑色钱包 <内有证件> & 钥匙"
    )
    assert "（附照片）" in registered["text"]

    # the organiser is told, and may see the photo
    told = await h.emu.wait_for_message(REQUESTER, "拾获遗留物品", since=0, timeout=10)
    assert "黑色钱包 <内有证件> & 钥匙" in told["text"] and "预算评审会" in told["text"]
    since = await h.emu.current_seq()
    await pressed(h, REQUESTER, REQUESTER, "查看照片")
    photo = await h.emu.wait_for_message(REQUESTER, lambda m: bool(m.get("photo")), since=since, timeout=10)
    assert "物品#1" in text_of(photo)

    # an item without a photo is registered as it is
    since = await h.emu.current_seq()
    await pressed(h, SERVICE_LEADER, SERVICE_GROUP, "拾遗物品登记")
    question = await prompt(h, SERVICE_GROUP, "请描述", since)
    empty = await answer(h, SERVICE_LEADER, SERVICE_GROUP, question, "请用文字描述", text="/skip")
    assert empty
    second = await answer(
        h,
        SERVICE_LEADER,
        SERVICE_GROUP,
        await prompt(h, SERVICE_GROUP, "请回复本消息", since),
        "已登记",
        text="蓝色雨伞",
    )
    assert "物品#2" in second["text"] and "（无照片）" in second["text"]

    # /lost: staff only; hand an item over
    refused_list = await h.ask(REQUESTER, "/lost", "只有服务中心工作人员")
    assert refused_list
    listing = await h.ask(SUPERVISOR, "/lost", "待认领的拾遗物品")
    assert "（2件）" in listing["text"] and "黑色钱包" in listing["text"] and "蓝色雨伞" in listing["text"]
    since = await h.emu.current_seq()
    await pressed(h, SUPERVISOR, SUPERVISOR, "#1 已交还")
    question = await prompt(h, SUPERVISOR, "由谁领取", since)
    blank = await answer(h, SUPERVISOR, SUPERVISOR, question, "请写明领取人", text="/skip")
    handed = await answer(
        h,
        SUPERVISOR,
        SUPERVISOR,
        await prompt(h, SUPERVISOR, "由谁领取", blank["seq"] - 1),
        "已交还给",
        text="王敏（财务处）",
    )
    assert "王敏（财务处）" in handed["text"]
    listing = await h.ask(SUPERVISOR, "/lost", "待认领的拾遗物品")
    assert "（1件）" in listing["text"] and "黑色钱包" not in listing["text"]
    async with h.app.db.transaction() as session:
        item = await session.get(LostItem, 1)
        assert item is not None and item.status == "handed_over" and item.handed_by_id == SUPERVISOR
        assert item.photo_file_id and item.finder_id == SERVICE_MEMBER and item.room_id == "r101"
    closed = await forged(h, SUPERVISOR, "lost:h:1")
    assert "已经交还" in closed["text"]


async def test_a_long_lost_list_is_paged(harness: Harness) -> None:
    h = harness
    booking = await ended_meeting(h)
    service = AftercareService(h.site, h.clock)
    async with h.app.db.transaction() as session:
        for number in range(11):
            await service.register_item(
                session, booking.id, SERVICE_MEMBER, "service", f"物品{number:02d}", None
            )
    first = await h.ask(SUPERVISOR, "/lost", "待认领")
    assert "（11件）" in first["text"] and "物品10" in first["text"] and "物品02" not in first["text"]
    second = await h.click(SUPERVISOR, "›", "物品02")
    assert second["message_id"] == first["message_id"] and "物品10" not in second["text"]


# ---------------------------------------------------------------------------- consumables and fees


async def record(h: Harness, user: int, item: str, quantity: str, expect: str) -> JSON:
    since = await h.emu.current_seq()
    await pressed(h, user, SERVICE_GROUP, item)
    question = await prompt(h, SERVICE_GROUP, "用了多少", since)
    return await answer(h, user, SERVICE_GROUP, question, expect, text=quantity)


async def test_consumables_and_a_disputed_fee(harness: Harness) -> None:
    h = harness
    await h.emu.add_member(SERVICE_GROUP, AV_MEMBER)
    booking = await ended_meeting(h, title="培训会")
    refused = await pressed(h, AV_MEMBER, SERVICE_GROUP, "会务用品登记")
    assert refused["show_alert"]
    since = await h.emu.current_seq()
    await pressed(h, SERVICE_LEADER, SERVICE_GROUP, "会务用品登记")
    await h.emu.wait_for_message(SERVICE_GROUP, "会务用品使用登记", since=since, timeout=10)

    # bad quantities are refused and asked again; nothing is recorded
    negative = await record(h, SERVICE_LEADER, "瓶装水", "-3", "数量至少为1")
    word = await answer(
        h,
        SERVICE_LEADER,
        SERVICE_GROUP,
        await prompt(h, SERVICE_GROUP, "用了多少", negative["seq"] - 1),
        "请回复一个整数",
        text="十二",
    )
    recorded = await answer(
        h,
        SERVICE_LEADER,
        SERVICE_GROUP,
        await prompt(h, SERVICE_GROUP, "用了多少", word["seq"] - 1),
        "已登记",
        text="12",
    )
    assert "瓶装水 — 12 瓶 × 2.00 元 = 24.00 元" in recorded["text"]
    recorded = await record(h, SERVICE_MEMBER, "纸杯", "50", "已登记")
    assert "合计：34.00 元" in recorded["text"]

    since = await h.emu.current_seq()
    sent = await pressed(h, SERVICE_LEADER, SERVICE_GROUP, "发送会议费确认单")
    assert "已发送" in sent["text"]
    fee = await h.emu.wait_for_message(REQUESTER, "会议费确认单", since=since, timeout=10)
    assert "瓶装水" in fee["text"] and "纸杯 — 50 个 × 0.20 元 = 10.00 元" in fee["text"]
    assert "合计：34.00 元" in fee["text"] and "培训会" in fee["text"]

    # nothing more can be added; someone else cannot answer the fee
    late = await forged(h, SERVICE_LEADER, f"cs:i:{booking.id}:pens", SERVICE_GROUP)
    assert "已发出" in late["text"]
    stranger = await forged(h, SUPERVISOR, "fee:a:1")
    assert "只有本次会议的主办人" in stranger["text"]

    # the organiser disputes it, with a reason (an empty one is asked again)
    since = await h.emu.current_seq()
    await pressed(h, REQUESTER, REQUESTER, "有异议")
    question = await prompt(h, REQUESTER, "有何异议", since)
    no_reason = await answer(h, REQUESTER, REQUESTER, question, "请写明", photo=tiny_png())
    done = await answer(
        h,
        REQUESTER,
        REQUESTER,
        await prompt(h, REQUESTER, "有何异议", no_reason["seq"] - 1),
        "已转给客服主管",
        text="纸杯只用了20个 <请核实>",
    )
    assert done
    alert = await h.emu.wait_for_message(SUPERVISOR, "会议费确认单有异议", since=0, timeout=10)
    assert "纸杯只用了20个 <请核实>" in alert["text"] and "王敏" in alert["text"]
    edited = await h.emu.get_message(REQUESTER, fee["message_id"])
    assert "有异议：纸杯只用了20个" in text_of(edited) and not edited.get("reply_markup")
    again = await pressed(h, REQUESTER, REQUESTER, "确认") if edited.get("reply_markup") else None
    assert again is None
    twice = await forged(h, REQUESTER, "fee:a:1")
    assert "已经回复过" in twice["text"]


async def test_an_accepted_fee_in_english(harness: Harness) -> None:
    h = harness
    await ended_meeting(h, requester=REQUESTER_EN, department="office", title="Board meeting")
    nothing = await pressed(h, SERVICE_LEADER, SERVICE_GROUP, "会务用品登记")
    assert not nothing.get("show_alert")
    empty_send = await forged(h, SERVICE_LEADER, "cs:s:1", SERVICE_GROUP)
    assert "尚未登记任何用品" in empty_send["text"]
    await record(h, SERVICE_LEADER, "鲜花", "2", "已登记")
    since = await h.emu.current_seq()
    await pressed(h, SERVICE_LEADER, SERVICE_GROUP, "发送会议费确认单")
    fee = await h.emu.wait_for_message(REQUESTER_EN, "Fee confirmation", since=since, timeout=10)
    assert "Fresh flowers — 2 bunch × 80.00 CNY = 160.00 CNY" in fee["text"]
    accepted = await pressed(h, REQUESTER_EN, REQUESTER_EN, "Accept")
    assert "Accepted" in accepted["text"]
    edited = await h.emu.get_message(REQUESTER_EN, fee["message_id"])
    assert "✅ Accepted on" in text_of(edited) and not edited.get("reply_markup")
    assert not [
        m for m in await h.emu.bot_messages(SUPERVISOR) if "Fee" in text_of(m) or "确认单" in text_of(m)
    ]


# ---------------------------------------------------------------------------- feedback


async def test_feedback_typed_with_bad_scores_and_a_low_score_alert(harness: Harness) -> None:
    h = harness
    booking = await ended_meeting(h, title="季度会")
    request = await h.emu.wait_for_message(REQUESTER, "您对本次会务服务满意吗", since=0, timeout=10)
    stranger = await forged(h, REQUESTER_EN, f"fb:{booking.id}:5")
    assert "Only the organiser" in stranger["text"]
    out_of_range = await forged(h, REQUESTER, f"fb:{booking.id}:9")
    assert "1至5" in out_of_range["text"]

    since = await h.emu.current_seq()
    await pressed(h, REQUESTER, REQUESTER, "输入评分和意见")
    question = await prompt(h, REQUESTER, "1至5的评分", since)
    words = await answer(h, REQUESTER, REQUESTER, question, "请回复1至5的分数", text="很好")
    seven = await answer(
        h,
        REQUESTER,
        REQUESTER,
        await prompt(h, REQUESTER, "1至5的评分", words["seq"] - 1),
        "评分须为1至5分",
        text="7",
    )
    thanks = await answer(
        h,
        REQUESTER,
        REQUESTER,
        await prompt(h, REQUESTER, "1至5的评分", seven["seq"] - 1),
        "谢谢",
        text="2 茶水续得不及时 <差>",
    )
    assert "2/5" in thanks["text"]
    alert = await h.emu.wait_for_message(SUPERVISOR, "满意度低分", since=0, timeout=10)
    assert "2/5" in alert["text"] and "茶水续得不及时 <差>" in alert["text"] and "财务处" in alert["text"]
    shown = await h.emu.get_message(REQUESTER, request["message_id"])
    assert "谢谢！您的评分是2/5" in text_of(shown) and not shown.get("reply_markup")  # buttons gone
    again = await forged(h, REQUESTER, f"fb:{booking.id}:5")
    assert "已为本次会议评过分" in again["text"]


async def test_feedback_by_button_then_a_comment(harness: Harness) -> None:
    h = harness
    await ended_meeting(h, requester=REQUESTER_EN, department="office", title="Board meeting")
    request = await h.emu.wait_for_message(REQUESTER_EN, "How was our service", since=0, timeout=10)
    assert "Board meeting" in request["text"]
    thanked = await pressed(h, REQUESTER_EN, REQUESTER_EN, "5 ⭐", exact=True)
    assert thanked["text"] == "Thank you!"
    since = await h.emu.current_seq()
    await pressed(h, REQUESTER_EN, REQUESTER_EN, "Add a comment")
    question = await prompt(h, REQUESTER_EN, "your comment", since)
    done = await answer(h, REQUESTER_EN, REQUESTER_EN, question, "Your comment", text="Great tea & service")
    assert "5/5" in done["text"] and "Great tea & service" in done["text"]
    supervisor = [text_of(m) for m in await h.emu.bot_messages(SUPERVISOR)]
    assert not [
        t for t in supervisor if "满意度" in t or "comment" in t.lower()
    ]  # a good score alerts nobody


async def test_a_low_score_by_button_alerts_the_supervisor_at_once(harness: Harness) -> None:
    h = harness
    await ended_meeting(h)
    since = await h.emu.current_seq()
    await pressed(h, REQUESTER, REQUESTER, "3 ⭐", exact=True)
    await drain(h)
    alert = await h.emu.wait_for_message(SUPERVISOR, "满意度低分：3/5", since=since, timeout=10)
    assert alert
    # and the comment given afterwards follows it
    await pressed(h, REQUESTER, REQUESTER, "补充意见")
    question = await prompt(h, REQUESTER, "填写您的意见", since)
    await answer(h, REQUESTER, REQUESTER, question, "您的意见", text="会场太冷")
    follow = await h.emu.wait_for_message(SUPERVISOR, "低分评价的意见", since=since, timeout=10)
    assert "会场太冷" in follow["text"]


async def test_no_follow_up_for_a_meeting_long_gone(harness: Harness) -> None:
    h = harness
    await book(h, TUESDAY.replace(hour=14), 60)
    # the bot was down from before the meeting until three days later (lookback 48 h)
    h.clock.advance(timedelta(days=3))
    await clock_jobs(h)
    assert not [m for m in await h.emu.bot_messages(SERVICE_GROUP) if "会议已结束" in text_of(m)]
