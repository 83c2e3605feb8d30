"""The booking wizard end to end: class A in English and Chinese, class C approved and rejected."""

from __future__ import annotations

from sqlalchemy import select

from bot.services.types import BookingStatus
from storage.models import Booking
from tests.e2e.booking_steps import answer_of, press_exact
from tests.support.harness import Harness
from tests.support.people import ALICE, APPROVER, WANG


async def test_full_class_a_booking_in_english(harness: Harness) -> None:
    h = harness
    await h.ask(ALICE, "/book", "Which day")
    await press_exact(h, ALICE, "03", "when does the meeting start")
    await h.click(ALICE, "10:00", "When does it end")
    await h.click(ALICE, "12:00", "How many people")
    await h.ask(ALICE, "12", "Rooms free")
    rooms = await h.emu.last_bot_message(ALICE)
    assert rooms is not None
    labels = [b["text"] for row in rooms["reply_markup"]["inline_keyboard"] for b in row]
    assert "Meeting Room 1 · class A · 20 people" in labels
    assert "Hall 203 · class C · 400 people" in labels
    assert labels.index("Meeting Room 1 · class A · 20 people") < labels.index(
        "Hall 203 · class C · 400 people"
    )
    await h.click(ALICE, "Meeting Room 1", "How should")
    await h.click(ALICE, "Discussion", "Reception level")
    await press_exact(h, ALICE, "3", "Which services")
    await h.click(ALICE, "Banner", "Which services")
    await h.click(ALICE, "Tea service", "Which services")
    await h.click(ALICE, "Done", "Banner text")
    await h.ask(ALICE, "Annual <b>review</b> 2026 🎉", "Refill every")
    await h.click(ALICE, "Use 30", "title of the meeting")
    await h.ask(ALICE, "Budget <script>x</script>", "contact person")
    await h.click(ALICE, "Alice Chen", "phone number")
    await h.ask(ALICE, "010-6512 3456", "confidential")
    await press_exact(h, ALICE, "No", "notes")
    summary = await h.click(ALICE, "No notes", "check your booking")
    assert "Budget <script>x</script>" in summary["text"]  # shown as typed: it was escaped
    assert "Thu 3 Dec 2026 10:00–12:00" in summary["text"]
    done = await h.click(ALICE, "Confirm", "Booked")
    assert "Booking #1 is confirmed" in done["text"]
    assert "Annual <b>review</b> 2026 🎉" in done["text"]
    async with h.app.db.transaction() as session:
        booking = (await session.scalars(select(Booking))).one()
    assert booking.status == BookingStatus.confirmed
    assert booking.title == "Budget <script>x</script>"
    assert booking.start_at.isoformat() == "2026-12-03T02:00:00+00:00"
    assert booking.services == {
        "banner": {"text": "Annual <b>review</b> 2026 🎉"},
        "tea": {"refill_minutes": 30},
    }
    assert booking.department_id == "office"


async def test_full_class_a_booking_in_chinese_with_typed_values(harness: Harness) -> None:
    h = harness
    await h.ask(WANG, "/book", "哪一天")
    await h.ask(WANG, "12月3日", "几点开始")
    await h.ask(WANG, "9点半", "几点结束")
    await h.ask(WANG, "1130", "参会人数")
    await h.ask(WANG, "１５人", "空闲会议室")
    await h.click(WANG, "接待室", "会议形式")
    await h.click(WANG, "座谈式", "接待级别")
    await press_exact(h, WANG, "1", "服务项目")
    await h.click(WANG, "话筒", "服务项目")
    await h.click(WANG, "完成", "话筒数量")
    await h.ask(WANG, "4", "会议名称")
    await h.ask(WANG, "财务工作座谈会", "联系人")
    await h.click(WANG, "王敏", "联系电话")
    await h.ask(WANG, "13800000000", "保密")
    await h.click(WANG, "是，保密", "备注")
    await h.ask(WANG, "请提前开空调", "请核对")
    done = await h.click(WANG, "确认提交", "预订成功")
    text = done["text"]
    assert "2026年12月3日（周四） 09:30–11:30" in text
    assert "接待室" in text and "15人" in text and "是否保密：是" in text
    assert "话筒数量: 4" in text and "主办单位：财务处" in text


async def _class_c_to_pending(h: Harness) -> int:
    await h.ask(WANG, "/book", "哪一天")
    await h.ask(WANG, "2026-12-03", "几点开始")
    await h.ask(WANG, "9:00", "几点结束")
    await h.ask(WANG, "11:00", "参会人数")
    await h.ask(WANG, "180", "空闲会议室")
    await h.click(WANG, "203会议厅", "会议形式")
    await h.click(WANG, "戏院式", "接待级别")
    await press_exact(h, WANG, "1", "服务项目")
    await h.click(WANG, "完成", "会议名称")
    await h.ask(WANG, "年度工作<会议>", "联系人")
    await h.click(WANG, "王敏", "联系电话")
    await h.ask(WANG, "010-6512 3456", "保密")
    await press_exact(h, WANG, "否", "备注")
    summary = await h.click(WANG, "无备注", "请核对")
    assert "须经审批人审批" in summary["text"]
    since = await h.emu.current_seq()
    done = await h.click(WANG, "确认提交", "已提交")
    assert "预订 #1" in done["text"]
    await h.settle()
    request = await h.emu.wait_for_message(APPROVER, "待审批", since=since, timeout=10)
    assert "年度工作<会议>" in request["text"] and "王敏" in request["text"]
    return 1


async def test_class_c_waits_and_is_approved(harness: Harness) -> None:
    h = harness
    await _class_c_to_pending(h)
    # someone who is not the approver cannot decide, even with forged data
    approval = await h.emu.last_bot_message(APPROVER)
    assert approval is not None
    data = approval["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    own = await h.emu.last_bot_message(WANG)
    assert own is not None
    own_message = own["message_id"]
    forged = await h.emu.click_button(WANG, WANG, own_message, data, forge=True)
    assert "只有审批人" in (await answer_of(h, forged))["text"]
    since = await h.emu.current_seq()
    press = await h.press(APPROVER, "批准")
    assert (await answer_of(h, press))["text"] == "已批准。"
    edited = await h.emu.wait_for_message(APPROVER, "已由孙建国批准", since=since, timeout=10)
    assert edited.get("reply_markup") in (None, {}, {"inline_keyboard": []})
    await h.settle()
    told = await h.emu.wait_for_message(WANG, "已获批准", since=since, timeout=10)
    assert "预订 #1" in told["text"]
    # a stale press on the old request: already decided, nothing changes
    stale = await h.emu.click_button(APPROVER, APPROVER, approval["message_id"], data, forge=True)
    assert "已处理" in (await answer_of(h, stale))["text"]


async def test_class_c_rejected_with_a_reason(harness: Harness) -> None:
    h = harness
    await _class_c_to_pending(h)
    prompt = await h.click(APPROVER, "驳回", "驳回预订 #1 的理由")
    assert "/cancel" in prompt["text"]
    since = await h.emu.current_seq()
    await h.ask(APPROVER, "会场<b>检修</b>", "已驳回")
    await h.settle()
    told = await h.emu.wait_for_message(WANG, "未获批准", since=since, timeout=10)
    assert "会场<b>检修</b>" in told["text"]
    async with h.app.db.transaction() as session:
        booking = (await session.scalars(select(Booking))).one()
    assert booking.status == BookingStatus.rejected
    assert booking.decision_reason == "会场<b>检修</b>"


async def test_dispatcher_books_for_a_department_by_phone(harness: Harness) -> None:
    h = harness
    dispatcher = 2001
    await h.ask(dispatcher, "/book", "为哪个部门预订")
    await h.click(dispatcher, "发展规划处", "哪一天")
    await h.ask(dispatcher, "2026-12-02", "几点开始")
    await h.ask(dispatcher, "14:00", "几点结束")
    await h.ask(dispatcher, "15:00", "参会人数")
    rooms = await h.ask(dispatcher, "8", "空闲会议室")
    assert "发展规划处" in rooms["text"]  # the recap names the department booked for
    await h.click(dispatcher, "第一会议室", "会议形式")
    await h.click(dispatcher, "U形", "接待级别")
    await press_exact(h, dispatcher, "4", "服务项目")
    await h.click(dispatcher, "完成", "会议名称")
    await h.ask(dispatcher, "电话预订的会议", "联系人")
    await h.ask(dispatcher, "张处长", "联系电话")
    await h.ask(dispatcher, "6512 0000", "保密")
    await press_exact(h, dispatcher, "否", "备注")
    await h.click(dispatcher, "无备注", "请核对")
    done = await h.click(dispatcher, "确认提交", "预订成功")
    assert "主办单位：发展规划处" in done["text"] and "联系人：张处长" in done["text"]
    async with h.app.db.transaction() as session:
        booking = (await session.scalars(select(Booking))).one()
    assert (booking.department_id, booking.requester_id, booking.booked_by_id) == ("planning", 2001, 2001)


async def test_cancel_button_and_back_at_the_first_steps(harness: Harness) -> None:
    h = harness
    first = await h.ask(ALICE, "/book", "Which day")
    assert "Back" not in str(first["reply_markup"])  # nothing to go back to
    await h.ask(ALICE, "2026-12-03", "when does the meeting start")
    await h.click(ALICE, "Back", "Which day")
    await h.ask(ALICE, "2026-12-04", "Fri 4 Dec 2026")
    abandoned = await h.click(ALICE, "Cancel", "Booking abandoned")
    assert "Nothing was saved" in abandoned["text"]
    async with h.app.db.transaction() as session:
        assert (await session.scalars(select(Booking))).first() is None


async def test_approver_can_leave_the_reason_question(harness: Harness) -> None:
    h = harness
    await _class_c_to_pending(h)
    await h.click(APPROVER, "驳回", "驳回预订 #1 的理由")
    await h.ask(APPROVER, "/cancel", "已取消")
    await h.ask(APPROVER, "随便说点什么", "没有理解")  # no longer taken as a reason
    async with h.app.db.transaction() as session:
        assert (await session.scalars(select(Booking))).one().status == BookingStatus.pending
    await h.click(APPROVER, "批准", "已由孙建国批准")
