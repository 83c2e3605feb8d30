"""The daily digest through the emulator, with the ManualClock moving the days."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from icalendar import Calendar

from bot.jobs.digest import run_digest
from tests.support.clock_steps import book, clock_jobs, move_to, new_messages, text_of
from tests.support.harness import EXAMPLE_SITE, SHANGHAI, Harness, running_bot
from tests.support.people import (
    AV_GROUP,
    CLEANING_GROUP,
    DISPATCHER,
    HOTLINE_GROUP,
    MANAGER,
    REQUESTER_EN,
    SERVICE_GROUP,
    SERVICE_MEMBER,
    SUPERVISOR,
)

TUESDAY_17 = datetime(2026, 12, 1, 17, 0, tzinfo=SHANGHAI)
WEDNESDAY = datetime(2026, 12, 2, tzinfo=SHANGHAI)


async def test_digest_of_a_day_with_meetings(harness: Harness) -> None:
    h = harness
    await book(h, WEDNESDAY.replace(hour=9), title="季度财务分析会", attendees=12, level=2)
    await book(
        h,
        WEDNESDAY.replace(hour=14),
        room="r301",
        title="Secret strategy",
        confidential=True,
        attendees=80,
        services={"projector": {}, "microphones": {"count": 4}},
    )
    await book(
        h,
        WEDNESDAY.replace(hour=15),
        room="vc1",
        requester=REQUESTER_EN,
        department="office",
        title="Video conference <with> province",
        attendees=60,
        services={},
    )  # class C: awaiting approval
    since = await h.emu.current_seq()
    await move_to(h, TUESDAY_17.replace(hour=16, minute=59))
    assert not [m for m in await new_messages(h, SUPERVISOR, since) if "📅" in text_of(m)], (
        "sent before 17:00"
    )

    await move_to(h, TUESDAY_17)
    digest = [text_of(m) for m in await new_messages(h, SUPERVISOR, since) if "📅" in text_of(m)]
    assert len(digest) == 1
    text = digest[0]
    assert "明日会议" in text and "12月2日" in text
    assert "09:00–11:00" in text and "第一会议室" in text and "财务处" in text and "季度财务分析会" in text
    assert "12人" in text and "接待级别2" in text and "茶水服务" in text and "饮用水" in text
    # confidential: time, room and people, but neither unit nor title
    assert "14:00–16:00" in text and "301课堂式会议室" in text and "保密" in text
    assert "Secret strategy" not in text
    # awaiting approval, and the typed title is escaped
    assert (
        "待审批" in text and "Video conference <with> province" in text
    )  # escaped: the emulator refuses bad HTML
    assert "共3场会议" in text

    for person in (MANAGER, DISPATCHER):
        assert [m for m in await new_messages(h, person, since) if "明日会议" in text_of(m)]

    service_tasks = [
        text_of(m) for m in await new_messages(h, SERVICE_GROUP, since) if "明日任务" in text_of(m)
    ]
    assert len(service_tasks) == 1
    tasks = service_tasks[0]
    assert "会务茶水组" in tasks and "明日任务" in tasks
    assert "茶水准备" in tasks and "一级检查" in tasks and "续水" in tasks
    av_tasks = [text_of(m) for m in await new_messages(h, AV_GROUP, since) if "明日任务" in text_of(m)]
    assert av_tasks and "设备调试" in av_tasks[0]
    hotline = [text_of(m) for m in await new_messages(h, HOTLINE_GROUP, since) if "明日任务" in text_of(m)]
    assert hotline and "三级检查" in hotline[0]

    # once a day: running the jobs again, or later that evening, sends nothing more
    assert await run_digest(h.app.jobs) == 0
    await move_to(h, TUESDAY_17.replace(hour=21))
    digests = [m for m in await h.emu.bot_messages(SUPERVISOR) if "明日会议" in text_of(m)]
    assert len(digests) == 1


async def test_a_day_without_meetings_says_so(harness: Harness) -> None:
    h = harness
    since = await h.emu.current_seq()
    await move_to(h, TUESDAY_17)
    supervisor = [text_of(m) for m in await new_messages(h, SUPERVISOR, since) if "📅" in text_of(m)]
    assert len(supervisor) == 1 and "没有会议" in supervisor[0]
    cleaning = [text_of(m) for m in await new_messages(h, CLEANING_GROUP, since) if "明日任务" in text_of(m)]
    assert len(cleaning) == 1 and "没有任务" in cleaning[0]


async def test_english_reader_gets_english(harness: Harness) -> None:
    h = harness
    await h.ask(SUPERVISOR, "/language", lambda m: True)
    await h.click(
        SUPERVISOR, "English", lambda m: "English" in text_of(m) or "language" in text_of(m).lower()
    )
    since = await h.emu.current_seq()
    await book(h, WEDNESDAY.replace(hour=10), title="Budget review")
    await move_to(h, TUESDAY_17)
    digest = [text_of(m) for m in await new_messages(h, SUPERVISOR, since) if "📅" in text_of(m)]
    assert digest and "Tomorrow's meetings" in digest[0] and "Meeting Room 1" in digest[0]
    assert "Finance Department" in digest[0] and "Wed 2 Dec 2026" in digest[0]


async def test_friday_digest_covers_the_weekend_and_monday(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    # Monday 7 December is a holiday here: Friday's digest runs on to Tuesday 8 December
    site.write_text(
        EXAMPLE_SITE.read_text(encoding="utf-8").replace(
            'holidays = ["2027-01-01"]', 'holidays = ["2026-12-07", "2027-01-01"]'
        ),
        encoding="utf-8",
    )
    friday = datetime(2026, 12, 4, 9, 0, tzinfo=SHANGHAI)
    async with running_bot(tmp_path, site_path=site, start_at=friday) as h:
        await book(h, datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI), title="周六加班会")
        await book(h, datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI), room="r102", title="周二座谈会")
        await book(h, datetime(2026, 12, 9, 9, 0, tzinfo=SHANGHAI), title="周三例会")  # not covered
        since = await h.emu.current_seq()
        await move_to(h, friday.replace(hour=17))
        digest = "\n".join(text_of(m) for m in await new_messages(h, SUPERVISOR, since) if "📅" in text_of(m))
        for heading in ("12月5日（周六）", "12月6日（周日）", "12月7日（周一）", "12月8日（周二）"):
            assert heading in digest
        assert "周六加班会" in digest and "周二座谈会" in digest and "周三例会" not in digest
        assert digest.count("没有会议") == 2  # Sunday and the holiday Monday

        # no digest on Saturday, Sunday or the holiday; Tuesday's covers Wednesday
        for day in (5, 6, 7):
            before = await h.emu.current_seq()
            await move_to(h, datetime(2026, 12, day, 18, 0, tzinfo=SHANGHAI))
            assert not [m for m in await new_messages(h, SUPERVISOR, before) if "📅" in text_of(m)]
        before = await h.emu.current_seq()
        await move_to(h, datetime(2026, 12, 8, 17, 30, tzinfo=SHANGHAI))
        tuesday = [text_of(m) for m in await new_messages(h, SUPERVISOR, before) if "📅" in text_of(m)]
        assert len(tuesday) == 1 and "周三例会" in tuesday[0] and "12月9日" in tuesday[0]


async def test_tomorrow_on_demand_and_who_may_see_it(harness: Harness) -> None:
    h = harness
    await book(h, WEDNESDAY.replace(hour=9), title="按需查看")
    reply = await h.ask(SUPERVISOR, "/tomorrow", "📅")
    assert "按需查看" in reply["text"]
    staff = await h.ask(SERVICE_MEMBER, "/tomorrow", "明日任务")
    assert "会务茶水组" in staff["text"] and "茶水准备" in staff["text"]
    since = await h.emu.current_seq()
    await h.say(SERVICE_MEMBER, "/tomorrow", chat_id=SERVICE_GROUP)
    group = await h.emu.wait_for_message(SERVICE_GROUP, "私聊", since=since, timeout=10)
    assert "茶水准备" not in group["text"]  # a group gets its list from the 17:00 digest only
    outsider = await h.ask(REQUESTER_EN, "/tomorrow", lambda m: True)
    assert "supervisors and staff" in outsider["text"]


async def test_a_long_digest_is_split_and_paged(harness: Harness) -> None:
    h = harness
    rooms = ["r101", "r102", "r301"]
    for index in range(24):
        hour, room = 8 + (index // 3) * 2, rooms[index % 3]
        if hour + 2 > 24:
            break
        await book(
            h,
            WEDNESDAY.replace(hour=hour),
            minutes=60,
            room=room,
            title=f"长标题会议{index:02d}" + "很长的会议名称" * 12,
            services={
                s: {} for s in ("water", "bottled_water", "flowers", "sign_in", "signage", "photography")
            },
        )
    since = await h.emu.current_seq()
    await move_to(h, TUESDAY_17)
    parts = [
        m for m in await new_messages(h, SUPERVISOR, since) if "(1/" in text_of(m) or "(2/" in text_of(m)
    ]
    assert len(parts) >= 2
    for part in parts:
        assert len(text_of(part)) <= 4096
    joined = "\n".join(text_of(p) for p in parts)
    assert "长标题会议00" in joined and "长标题会议23" in joined

    first = await h.ask(SUPERVISOR, "/tomorrow", "(1/")
    second = await h.click(SUPERVISOR, "›", "(2/")
    assert second["message_id"] == first["message_id"]  # the same message, edited
    await clock_jobs(h)


async def test_ics_sends_a_room_calendar(harness: Harness) -> None:
    h = harness
    await book(h, WEDNESDAY.replace(hour=9), title="日历测试")
    await h.ask(REQUESTER_EN, "/ics", "Which room's calendar")
    since = await h.emu.current_seq()
    await h.press(REQUESTER_EN, "Meeting Room 1")
    document = await h.emu.wait_for_message(
        REQUESTER_EN, lambda m: bool(m.get("document")), since=since, timeout=10
    )
    assert document["document"]["file_name"] == "r101.ics" and "1 booking" in text_of(document)
    calendar = Calendar.from_ical(await h.emu.file_bytes(document["document"]["file_id"]))
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Booked"  # another unit's meeting: only that the room is taken

    since = await h.emu.current_seq()
    await h.say(SUPERVISOR, "/ics 101")
    document = await h.emu.wait_for_message(
        SUPERVISOR, lambda m: bool(m.get("document")), since=since, timeout=10
    )
    (event,) = Calendar.from_ical(await h.emu.file_bytes(document["document"]["file_id"])).walk("VEVENT")
    assert str(event["SUMMARY"]) == "日历测试" and "财务处" in str(event["DESCRIPTION"])
    unknown = await h.ask(SUPERVISOR, "/ics <nowhere>", "这个会议室")
    assert "<nowhere>" in unknown["text"] and unknown["reply_markup"]["inline_keyboard"]
