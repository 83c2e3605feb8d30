"""Booking a series in the wizard, end to end: the series on the summary, a taken meeting
skipped or moved to another room, bad ends said and typed again, a series read from one
message. (/my on a series: test_booking_series.py.)

The harness starts on Tuesday 1 December 2026, 09:00 in Shanghai."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Booking
from tests.e2e.booking_steps import book_directly, english_to_summary, press_exact
from tests.support.harness import Harness
from tests.support.people import ALICE, WANG


async def _bookings(h: Harness) -> list[Booking]:
    async with h.app.db.transaction() as session:
        return list((await session.scalars(select(Booking).order_by(Booking.start_at))).all())


async def test_weekly_series_skips_the_taken_meeting_in_english(harness: Harness) -> None:
    h = harness
    await book_directly(h, room="r101", start=h.at(9, 10))  # Thursday 10 December, 10:00–12:00
    await english_to_summary(h)  # Thursday 3 December 10:00–12:00, Meeting Room 1
    await h.click(ALICE, "Repeat", "How often")
    await h.click(ALICE, "every Thursday", "until when")
    # bad ends are said on the window, which stays for another try
    wrong = await h.ask(ALICE, "2026-11-01", "cannot end on 2026-11-01")
    assert "2026-12-03" in wrong["text"]
    await h.ask(ALICE, "next spring", "number of meetings, such as 10")
    await h.ask(ALICE, "1000", "at most 366 days")
    summary = await h.ask(ALICE, "4", "cannot be booked as asked")
    text = summary["text"]
    assert "every Thursday 10:00–12:00, 4 meetings until 2026-12-24" in text
    assert "Thu 10 Dec 10:00–12:00: Sorry, someone else has just booked" in text
    assert "17 Dec" not in text and "24 Dec" not in text  # free: not listed
    done = await h.click(ALICE, "Book the 3 free ones", "meetings of the series")
    assert "Booked 3 meetings of the series" in done["text"]
    assert "Skipped (1): Thu 10 Dec" in done["text"]
    bookings = await _bookings(h)
    assert len(bookings) == 4  # the one taken before, and three of the series
    series = [b for b in bookings if b.series_id is not None]
    assert [b.start_at.astimezone(h.site.zone).day for b in series] == [3, 17, 24]
    assert {b.room_id for b in series} == {"r101"}
    assert [b.series_index for b in series] == [0, 2, 3]


async def test_weekly_series_with_another_room_in_chinese(harness: Harness) -> None:
    h = harness
    await book_directly(h, room="r102", start=h.at(9, 9, 30))  # 接待室, 周四 12月10日
    await h.ask(WANG, "/book", "哪一天")
    await h.ask(WANG, "12月3日", "几点开始")
    await h.ask(WANG, "9点半", "几点结束")
    await h.ask(WANG, "1130", "参会人数")
    await h.ask(WANG, "15人", "空闲会议室")
    await h.click(WANG, "接待室", "会议形式")
    await h.click(WANG, "座谈式", "接待级别")
    await press_exact(h, WANG, "1", "服务项目")
    await h.click(WANG, "完成", "会议名称")
    await h.ask(WANG, "处务例会", "联系人")
    await h.click(WANG, "王敏", "联系电话")
    await h.ask(WANG, "13800000000", "保密")
    await press_exact(h, WANG, "否", "备注")
    await h.click(WANG, "无备注", "请核对")
    await h.click(WANG, "重复", "多久重复")
    await h.click(WANG, "每周四", "到哪天为止")
    summary = await h.ask(WANG, "4次", "无法按原样预订")
    assert "每周四 09:30–11:30，共4次，截至2026-12-24" in summary["text"]
    assert "12月10日 周四 09:30–11:30" in summary["text"]
    await h.click(WANG, "另选会议室", "另选会议室")
    rooms = await h.click(WANG, "12月10日", "空闲的会议室")
    labels = [b["text"] for row in rooms["reply_markup"]["inline_keyboard"] for b in row]
    assert any(label.startswith("第一会议室") for label in labels)
    assert not any(label.startswith("接待室") for label in labels)  # taken then
    await h.click(WANG, "第一会议室", "另选会议室")
    summary = await h.click(WANG, "完成", "请核对")
    assert "12月10日 周四 09:30–11:30：改在第一会议室" in summary["text"]
    done = await h.click(WANG, "确认提交", "系列会议")
    assert "已预订系列会议4次" in done["text"]
    assert "跳过" not in done["text"]
    series = [b for b in await _bookings(h) if b.series_id is not None]
    assert [(b.start_at.astimezone(h.site.zone).day, b.room_id) for b in series] == [
        (3, "r102"),
        (10, "r101"),
        (17, "r102"),
        (24, "r102"),
    ]


async def test_a_series_typed_in_one_message(harness: Harness) -> None:
    h = harness
    first = await h.ask(ALICE, "every Thursday 10-11am in room 101 for 12, 3 times", "Repeats")
    assert "Repeats: every Thursday, 3 times" in first["text"]
    # the wizard asks the rest (layout, level, title …) and keeps the series
    await h.click(ALICE, "Discussion", "Reception level")
    await press_exact(h, ALICE, "3", "title of the meeting")
    await h.ask(ALICE, "Weekly sync", "phone number")
    summary = await h.ask(ALICE, "010-6512 3456", "check your booking")
    assert "every Thursday 10:00–11:00, 3 meetings until 2026-12-17" in summary["text"]
    await h.click(ALICE, "Confirm", "Booked 3 meetings of the series")
    assert len(await _bookings(h)) == 3


async def test_the_chinese_sentence_of_a_weekly_meeting(harness: Harness) -> None:
    h = harness
    await h.ask(WANG, "每周一上午9点到10点例会 第一会议室 12人", "会议形式")
    assert "✓ 重复：每周一" in "\n".join(await h.texts(WANG))  # what was read, before the questions
    await h.click(WANG, "座谈式", "接待级别")
    await press_exact(h, WANG, "1", "会议名称")
    await h.ask(WANG, "处务例会", "联系电话")
    summary = await h.ask(WANG, "13800000000", "请核对")
    assert "每周一 09:00–10:00，共53次，截至2027-12-06" in summary["text"]  # up to a year
    assert "12月6日 周一 09:00–10:00：会议室最多可提前一年预订" in summary["text"]
    # a shorter series: the end typed as the dialog takes dates
    await h.click(WANG, "重复", "多久重复")
    await h.click(WANG, "每周一", "到哪天为止")
    summary = await h.ask(WANG, "1月4日", "请核对")
    assert "每周一 09:00–10:00，共5次，截至2027-01-04" in summary["text"]
    await h.click(WANG, "确认提交", "已预订系列会议5次")
    series = [b for b in await _bookings(h) if b.series_id is not None]
    assert [b.start_at.astimezone(h.site.zone).strftime("%m-%d %H:%M") for b in series] == [
        "12-07 09:00",
        "12-14 09:00",
        "12-21 09:00",
        "12-28 09:00",
        "01-04 09:00",
    ]


def _labels(message: dict[str, object]) -> list[str]:
    markup = message.get("reply_markup") or {}
    assert isinstance(markup, dict)
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


async def test_the_last_friday_is_offered_beside_the_fourth_in_english(harness: Harness) -> None:
    """Fri 25 Dec 2026 is both the fourth and the last Friday of December; January has five."""
    h = harness
    await english_to_summary(h, day="2026-12-25")
    choices = await h.click(ALICE, "Repeat", "How often")
    labels = _labels(choices)
    assert "the fourth Friday of each month" in labels and "the last Friday of each month" in labels
    await press_exact(h, ALICE, "the last Friday of each month", "until when")
    summary = await h.ask(ALICE, "3", "check your booking")
    assert "the last Friday of each month 10:00–12:00, 3 meetings until 2027-02-26" in summary["text"]
    await h.click(ALICE, "Confirm", "Booked 3 meetings of the series")
    series = [b for b in await _bookings(h) if b.series_id is not None]
    assert [b.start_at.astimezone(h.site.zone).strftime("%m-%d") for b in series] == [
        "12-25",
        "01-29",
        "02-26",
    ]


async def test_the_fourth_friday_is_still_the_fourth_in_chinese(harness: Harness) -> None:
    h = harness
    await h.ask(WANG, "12月25日上午9点到10点例会 第一会议室 12人", "会议形式")
    await h.click(WANG, "座谈式", "接待级别")
    await press_exact(h, WANG, "1", "会议名称")
    await h.ask(WANG, "处务例会", "联系电话")
    await h.ask(WANG, "13800000000", "请核对")
    labels = _labels(await h.click(WANG, "重复", "多久重复"))
    assert "每月第四个周五" in labels and "每月最后一个周五" in labels
    await press_exact(h, WANG, "每月第四个周五", "到哪天为止")
    summary = await h.ask(WANG, "3次", "请核对")
    assert "每月第四个周五 09:00–10:00，共3次，截至2027-02-26" in summary["text"]
    await h.click(WANG, "确认提交", "已预订系列会议3次")
    series = [b for b in await _bookings(h) if b.series_id is not None]
    assert [b.start_at.astimezone(h.site.zone).strftime("%m-%d") for b in series] == [
        "12-25",
        "01-22",
        "02-26",
    ]


async def test_a_forged_frequency_press_stays_on_the_choice(harness: Harness) -> None:
    h = harness
    await english_to_summary(h, day="2026-12-25")
    choices = await h.click(ALICE, "Repeat", "How often")
    data = choices["reply_markup"]["inline_keyboard"][1][0]["callback_data"]
    forged = data.rsplit(":", 1)[0] + ":yearly"
    await h.emu.click_button(ALICE, ALICE, choices["message_id"], forged, forge=True)
    await h.settle()
    # the dialog is where it was: the real buttons still work
    await press_exact(h, ALICE, "every Friday", "until when")
