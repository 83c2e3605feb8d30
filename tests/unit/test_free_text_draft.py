"""A booking typed in one message: the draft it starts and the texts about it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiogram.utils.i18n import I18n

from bot.dialogs.booking.draft import BookingDraft
from bot.dialogs.booking.free_text import FREE, start_data, summary_marks
from bot.render.text import Reader
from bot.render.understood import example_request, nothing_understood_text, problem_text, understood_text
from bot.services.people import PersonContext
from bot.services.understanding import looks_like_booking_request, understand
from bot.site import Role, SiteConfig
from bot.telegram.i18n import LOCALES_DIR

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale="zh", domain="messages")


def person(*roles: Role, department: str | None = "finance") -> PersonContext:
    return PersonContext(1001, "王敏", "zh", department, frozenset(roles), ())


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_example_is_a_request_the_bot_reads_completely(
    site: SiteConfig, i18n: I18n, language: str
) -> None:
    example = example_request(Reader(i18n, language, site))
    assert looks_like_booking_request(example, site)
    result = understand(example, site, NOW, language_hint=language)
    assert not result.problems and not result.ambiguous
    assert result.date is not None and result.start is not None and result.end is not None
    assert result.attendees == 12 and result.room_id is not None and result.services
    assert example in nothing_understood_text(Reader(i18n, language, site))


def test_the_draft_holds_only_what_the_message_says(site: SiteConfig) -> None:
    text = '明天上午9点到11点 第一会议室 12人 要茶水、4个话筒、会标"年度工作会议"，电话13800000000'
    data = start_data(understand(text, site, NOW), site, person(Role.requester))
    free = data[FREE]
    assert data["department_id"] == "finance"
    assert free["read"] == {
        "date": "2026-12-02",
        "start": "09:00",
        "end": "11:00",
        "attendees": 12,
        "room_id": "r101",
        "contact_name": "王敏",
        "contact_phone": "13800000000",
        "services": {"banner": {"text": "年度工作会议"}, "tea": {}, "microphones": {"count": 4}},
    }
    assert free["how"]["contact_name"] == "registration" and free["how"]["start"] == "stated"
    assert "layout" not in free["read"] and "title" not in free["read"]  # asked, never guessed


def test_readings_become_choices_and_problems_are_kept(site: SiteConfig) -> None:
    data = start_data(understand("明天7点到9点 接待室 10人", site, NOW), site, person(Role.requester))
    free = data[FREE]
    assert free["choices"] == {"start": ["07:00", "19:00"]}
    assert "start" not in free["read"] and free["read"]["layout"] == "discussion"
    assert free["how"]["layout"] == "implied"
    assert [code for code, _field, _text in free["problems"]] == ["am_or_pm"]


def test_a_dispatcher_gives_the_department_and_is_asked_the_contact(site: SiteConfig) -> None:
    dispatcher = PersonContext(2001, "刘洋", "zh", None, frozenset({Role.dispatcher}), ())
    data = start_data(understand("发展规划处 明天下午2点到4点 接待室 8人", site, NOW), site, dispatcher)
    assert data["department_id"] == "planning"
    assert "contact_name" not in data[FREE]["read"]


def test_marks_follow_the_values_still_as_read(site: SiteConfig) -> None:
    data = start_data(understand("tomorrow at 2 for 3 hours, room 101, 8 people", site, NOW), site, person())
    draft = BookingDraft.model_validate({**data, **data[FREE]["read"]})
    marks = summary_marks(draft)
    assert marks["time"] == "≈"  # "at 2" read as 14:00 by office hours
    assert marks["room"] == "✓" and marks["attendees"] == "✓"
    assert "contact" not in marks  # the registration's name, not the message
    draft.room_id = "r102"
    assert "room" not in summary_marks(draft)


def test_texts_in_both_languages(site: SiteConfig, i18n: I18n) -> None:
    zh, en = Reader(i18n, "zh", site), Reader(i18n, "en", site)
    assert "结束时间早于开始时间" in problem_text(zh, "end_before_start", "end", "11点到9点")
    assert problem_text(en, "unknown_room", "room", "room 505").startswith("“room 505”: I do not know")
    assert "<" not in problem_text(en, "unknown_room", "room", "<b>")[:8]  # typed text is escaped
    text = understood_text(
        en,
        values={"date": "2026-12-02", "start": "14:00", "end": "16:00", "room_id": "r101"},
        how={"date": "stated", "start": "assumed", "end": "assumed", "room_id": "stated"},
        problems=[["count_range", "attendees", ""]],
        asks=["attendees", "layout"],
    )
    assert "≈ Time: Wed 2 Dec 2026 14:00–16:00" in text and "✓ Room: Meeting Room 1" in text
    assert "I still need the number of attendees, the layout." in text
    assert "A request I understand looks like this" in text


def test_a_date_that_does_not_exist_is_asked_with_a_clear_note(site: SiteConfig, i18n: I18n) -> None:
    data = start_data(
        understand("第一会议室 2027年2月30日 下午2点到4点 10人", site, NOW), site, person(Role.requester)
    )
    free = data[FREE]
    assert "date" not in free["read"] and "date" not in free["choices"]  # never 30 December
    assert free["read"]["start"] == "14:00" and free["read"]["room_id"] == "r101"
    assert [code for code, _field, _text in free["problems"]] == ["no_such_date"]
    zh, en = Reader(i18n, "zh", site), Reader(i18n, "en", site)
    assert problem_text(zh, *free["problems"][0]) == "“2027年2月30日”：该日期不存在，请核对月份和日期。"
    assert "That date does not exist" in problem_text(en, "no_such_date", "date", "feb 30")


def test_notes_typed_in_the_message_go_to_the_draft(site: SiteConfig) -> None:
    text = "明天下午2点到4点 第一会议室 备注：请提前30分钟开门 10人 要茶水"
    free = start_data(understand(text, site, NOW), site, person(Role.requester))[FREE]
    assert free["read"]["notes"] == "请提前30分钟开门"
    assert free["read"]["attendees"] == 10 and free["read"]["services"] == {"tea": {}}
    assert free["read"]["end"] == "16:00" and not free["minutes"]  # the 30 minutes are the notes'
