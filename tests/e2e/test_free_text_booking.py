"""A booking typed in one message: read, completed by the wizard's own windows,
confirmed on the same summary. The clock starts on Tuesday 2026-12-01 09:00 in Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.services.types import BookingStatus
from storage.models import Booking
from tests.e2e.booking_steps import book_directly, press_exact
from tests.support.harness import Harness
from tests.support.people import ALICE, DISPATCHER, WANG

JSON = dict[str, Any]


def labels(message: JSON) -> list[str]:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button["text"] for row in keyboard for button in row]


async def said_since(h: Harness, user: int, since: int) -> list[str]:
    """Every text the bot sent (or edited) in the chat after ``since``."""
    return [m.get("text") or "" for m in await h.emu.bot_messages(user) if m.get("seq", 0) > since]


async def only_booking(h: Harness) -> Booking:
    async with h.app.db.transaction() as session:
        return (await session.scalars(select(Booking))).one()


async def booking_count(h: Harness) -> int:
    async with h.app.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Booking)) or 0)


async def test_one_sentence_in_chinese_completed_with_two_buttons(harness: Harness) -> None:
    h = harness
    since = await h.emu.current_seq()
    sentence = (
        '明天上午9点到11点 第一会议室 12人 要茶水、会标"年度工作会议"，'
        "会议主题：年度工作会议，电话13800000000"
    )
    layout = await h.ask(WANG, sentence, "布置为哪种会议形式")
    read = next(text for text in await said_since(h, WANG, since) if "我从您的消息中读到" in text)
    assert "✓ 时间：2026年12月2日（周三） 09:00–11:00" in read
    assert "✓ 参会人数：12人" in read and "✓ 会议室：第一会议室" in read
    assert "✓ 会议名称：<b>年度工作会议</b>" not in read  # HTML is rendered, not shown
    assert "✓ 会议名称：年度工作会议" in read
    assert "会标（会标文字: 年度工作会议）" in read and "茶水服务" in read
    assert "✓ 联系人：王敏，13800000000（姓名来自您的登记信息）" in read
    assert "会议形式" in read and "接待级别" in read  # what is still to be asked
    assert "第一会议室" in layout["text"] and "座谈式" in labels(layout)
    await h.click(WANG, "座谈式", "接待级别")
    summary = await press_exact(h, WANG, "2", "请核对")
    text = summary["text"]
    assert "✓ 时间：2026年12月2日（周三） 09:00–11:00" in text
    assert "✓ 会议室：第一会议室" in text and "✓ 参会人数：12人" in text
    assert "会议形式：座谈式" in text and "✓ 会议形式" not in text  # answered, not read
    assert "联系人：王敏，13800000000" in text
    assert await booking_count(h) == 0  # nothing is booked before Confirm
    done = await h.click(WANG, "确认提交", "预订成功")
    assert "第一会议室" in done["text"]
    booking = await only_booking(h)
    assert booking.status == BookingStatus.confirmed
    assert (booking.room_id, booking.attendees, booking.layout, booking.reception_level) == (
        "r101",
        12,
        "discussion",
        2,
    )
    assert booking.start_at.astimezone(UTC) == datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    assert booking.end_at.astimezone(UTC) == datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    assert booking.title == "年度工作会议"
    assert booking.services == {"banner": {"text": "年度工作会议"}, "tea": {}}
    assert (booking.department_id, booking.contact_name, booking.contact_phone) == (
        "finance",
        "王敏",
        "13800000000",
    )
    assert booking.confidential is False


async def test_book_command_with_text_asks_the_rest_and_back_still_works(harness: Harness) -> None:
    h = harness
    layout = await h.ask(WANG, '/book 明天上午9点到11点 第一会议室 12人 要茶水、会标"年度工作会议"', "布置为")
    assert "上一步" in str(layout["reply_markup"])  # Back goes to the room before it
    await h.click(WANG, "上一步", "空闲会议室")
    await h.click(WANG, "第一会议室", "会议形式")
    await h.click(WANG, "U形", "接待级别")
    await press_exact(h, WANG, "1", "会议名称")
    await h.ask(WANG, "年度工作会议", "联系电话")  # the contact is 王敏 from the registration
    summary = await h.ask(WANG, "010-6512 3456", "请核对")
    assert "会议形式：U形" in summary["text"] and "联系人：王敏，010-6512 3456" in summary["text"]
    # Back from the summary walks the wizard's order: the notes can still be added
    await h.click(WANG, "上一步", "备注")
    summary = await h.ask(WANG, "请准备翻页笔", "请核对")
    assert "请准备翻页笔" in summary["text"]
    await h.click(WANG, "确认提交", "预订成功")
    booking = await only_booking(h)
    assert (booking.layout, booking.reception_level, booking.notes) == ("u_shape", 1, "请准备翻页笔")
    assert booking.services == {"banner": {"text": "年度工作会议"}, "tea": {}}


async def test_a_taken_room_is_refused_and_the_free_rooms_offered(harness: Harness) -> None:
    h = harness
    await book_directly(h, room="r101", start=h.at(1, 14), hours=2, requester=WANG, department="finance")
    since = await h.emu.current_seq()
    rooms = await h.ask(
        ALICE,
        "Meeting Room 1 for 12 tomorrow 2-4pm with tea and a projector, title: Budget review, "
        "phone 010-6512 3456",
        "Rooms free",
    )
    read = next(text for text in await said_since(h, ALICE, since) if "From your message" in text)
    assert "Meeting Room 1 is taken at that time" in read
    assert "✓ Time: Wed 2 Dec 2026 14:00–16:00" in read and "✓ Attendees: 12" in read
    offered = labels(rooms)
    assert not any("Meeting Room 1" in label for label in offered)
    assert "Reception Room · class A · 40 people" in offered
    # the Reception Room has one layout: nothing to ask about it
    await h.click(ALICE, "Reception Room", "Reception level")
    summary = await press_exact(h, ALICE, "3", "check your booking")
    text = summary["text"]
    assert "Room: Reception Room" in text and "✓ Room" not in text
    assert "✓ Title: Budget review" in text and "✓ Time: Wed 2 Dec 2026 14:00–16:00" in text
    assert "Layout: Discussion" in text
    await h.click(ALICE, "Confirm", "Booked")
    async with h.app.db.transaction() as session:
        mine = (await session.scalars(select(Booking).where(Booking.requester_id == ALICE))).one()
    assert (mine.room_id, mine.layout, mine.attendees, mine.reception_level) == ("r102", "discussion", 12, 3)
    assert mine.services == {"tea": {}, "projector": {}}
    assert (mine.title, mine.contact_name, mine.contact_phone) == (
        "Budget review",
        "Alice Chen",
        "010-6512 3456",
    )


async def test_a_message_with_nothing_recognisable_gets_an_example(harness: Harness) -> None:
    h = harness
    answer = await h.ask(ALICE, "I need to book a room please", "could not find anything")
    assert "for example" in answer["text"] and "/book" in answer["text"]
    assert "Meeting Room 1" in answer["text"]  # the example names the site's own room
    answer = await h.ask(WANG, "/book 帮我弄一下", "没有找到")
    assert "/book" in answer["text"] and "第一会议室" in answer["text"]
    # no dialog was opened: chatter still gets the general answer
    await h.ask(ALICE, "hello there", "did not understand")
    assert await booking_count(h) == 0


async def test_contradictory_times_are_asked_not_guessed(harness: Harness) -> None:
    h = harness
    since = await h.emu.current_seq()
    start = await h.ask(ALICE, "Room 101 tomorrow 11 to 9 for 10 people", "when does the meeting start")
    read = next(text for text in await said_since(h, ALICE, since) if "From your message" in text)
    assert "The end you wrote is before the start" in read
    assert "A request I understand looks like this" in read
    assert "11:00" not in start["text"].split("\n")[0] and "09:00–" not in start["text"]
    await h.ask(ALICE, "9:00", "When does it end")
    await h.ask(ALICE, "11:00", "How should")
    await h.click(ALICE, "Discussion", "Reception level")
    await press_exact(h, ALICE, "4", "title of the meeting")
    await h.ask(ALICE, "Weekly sync", "phone number")
    summary = await h.ask(ALICE, "6512 0000", "check your booking")
    assert "Wed 2 Dec 2026 09:00–11:00" in summary["text"]
    assert "✓ Time" not in summary["text"]  # the time was answered, not read
    abandoned = await h.click(ALICE, "Cancel", "Booking abandoned")
    assert "Nothing was saved" in abandoned["text"]
    assert await booking_count(h) == 0


async def test_ambiguous_readings_are_offered_as_buttons(harness: Harness) -> None:
    h = harness
    day = await h.ask(
        ALICE, "next Wednesday 2-4pm Meeting Room 1 for 8, title: Sync, phone 6512 0000", "Which day"
    )
    assert labels(day)[:2] == ["Wed 2 Dec 2026", "Wed 9 Dec 2026"]
    await h.click(ALICE, "Wed 9 Dec 2026", "How should")
    start = await h.ask(WANG, "后天7点到9点 接待室 10人 会议主题：早会 电话13800000000", "几点开始")
    assert [label for label in labels(start) if ":" in label] == ["07:00", "19:00"]
    await h.click(WANG, "07:00", "几点结束")


async def test_a_dispatcher_books_a_whole_request_in_one_message(harness: Harness) -> None:
    h = harness
    summary = await h.ask(
        DISPATCHER,
        "发展规划处 明天下午2点到4点 第一会议室 8人 U形 二级接待，"
        "会议主题：规划座谈会，联系人张处长，电话 6512 0000",
        "请核对预订信息",
    )
    assert "✓ 主办单位：发展规划处" in summary["text"] and "✓ 会议形式：U形" in summary["text"]
    await h.click(DISPATCHER, "确认提交", "预订成功")
    booking = await only_booking(h)
    assert (booking.department_id, booking.requester_id, booking.contact_name) == (
        "planning",
        DISPATCHER,
        "张处长",
    )


async def test_a_date_that_does_not_exist_is_asked_never_moved_to_another_month(harness: Harness) -> None:
    h = harness
    year = h.at(0, 9).year + 1  # a year ahead of the harness's clock: only the 30th is wrong
    since = await h.emu.current_seq()
    await h.ask(WANG, f"第一会议室 {year}年2月30日 下午2点到4点 10人", "会议在哪一天")
    said = await said_since(h, WANG, since)
    read = next(text for text in said if "我从您的消息中读到" in text)
    assert f"“{year}年2月30日”：该日期不存在，请核对月份和日期。" in read
    assert "✓ 会议室：第一会议室" in read and "✓ 参会人数：10人" in read
    assert not any("12月30日" in text for text in said)  # never 30 December
    # the wizard's own date question refuses it too, then takes a real day
    assert "不存在" in (await h.ask(WANG, "2月30日", "不存在"))["text"]
    layout = await h.ask(WANG, f"{year}-02-26", "布置为哪种会议形式")
    assert "座谈式" in labels(layout)
