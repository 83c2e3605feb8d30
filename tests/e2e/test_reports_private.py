"""Reports and files are answered only in a private chat, through the emulator.

The supervisor types /week, /today, /overdue, /tomorrow (and /ics) in a team's group and in
a group with people who are not registered: each gets one line saying to ask in private, in
the person's language, and no picture, file or list. In private the same commands work.
"""

from __future__ import annotations

import asyncio

from tests.support.clock_steps import new_messages, text_of
from tests.support.harness import Harness
from tests.support.people import REQUESTER_EN, SERVICE_GROUP, SERVICE_MEMBER, SUPERVISOR
from tests.unit import week_seed

STRANGER = 7_000_001  # a Telegram user the site does not know
MIXED_GROUP = -1_077
COMMANDS = ("/week", "/week 2026-W49", "/today", "/overdue", "/tomorrow", "/ics 101")


def _private_only(message: dict) -> bool:
    return "私聊" in text_of(message)


async def _typed_in_group(h: Harness, group: int, command: str) -> None:
    since = await h.emu.current_seq()
    await h.say(SUPERVISOR, command, chat_id=group)
    reply = await h.emu.wait_for_message(group, _private_only, since=since, timeout=10)
    assert "\n" not in text_of(reply) and not reply.get("reply_markup"), reply
    await asyncio.sleep(0.5)  # anything sent after the line would be here by now
    answered = await new_messages(h, group, since)
    assert [m["message_id"] for m in answered] == [reply["message_id"]], (command, answered)
    assert not [m for m in await new_messages(h, SUPERVISOR, since)], f"{command}: sent in private instead"


async def test_reports_typed_in_a_group_get_one_line(harness: Harness) -> None:
    h = harness
    async with h.app.db.transaction() as session:
        await week_seed.seed(session, h.site)
    await h.emu.create_user(STRANGER, "路人", language_code="zh-hans")
    await h.emu.create_group(MIXED_GROUP, "大家的群", [SUPERVISOR, SERVICE_MEMBER, STRANGER, REQUESTER_EN])
    await h.emu.add_member(SERVICE_GROUP, SUPERVISOR)
    start = await h.emu.current_seq()

    for group in (SERVICE_GROUP, MIXED_GROUP):
        for command in COMMANDS:
            await _typed_in_group(h, group, command)

    # in the person's language
    since = await h.emu.current_seq()
    await h.say(REQUESTER_EN, "/week", chat_id=MIXED_GROUP)
    english = await h.emu.wait_for_message(MIXED_GROUP, "private chat", since=since, timeout=10)
    assert "私聊" not in text_of(english)

    # in private every one of them works
    since = await h.emu.current_seq()
    await h.ask(SUPERVISOR, "/week 2026-W49", "2026-W49")
    await h.emu.wait_for_message(SUPERVISOR, lambda m: bool(m.get("photo")), since=since, timeout=30)
    document = await h.emu.wait_for_message(
        SUPERVISOR, lambda m: bool(m.get("document")), since=since, timeout=30
    )
    assert document["document"]["file_name"] == "huiwu-week-2026-W49.xlsx"
    assert "今天" in text_of(await h.ask(SUPERVISOR, "/today", "今天"))
    await h.ask(SUPERVISOR, "/overdue", lambda m: "逾期" in text_of(m) or "没有" in text_of(m))
    await h.ask(SUPERVISOR, "/tomorrow", "📅")
    since = await h.emu.current_seq()
    await h.say(SUPERVISOR, "/ics 101")
    await h.emu.wait_for_message(SUPERVISOR, lambda m: bool(m.get("document")), since=since, timeout=10)

    # after all that, the groups still hold only the one-line answers
    for group in (SERVICE_GROUP, MIXED_GROUP):
        sent = await new_messages(h, group, start)
        assert sent and all(not m.get("photo") and not m.get("document") for m in sent)
        assert all("\n" not in text_of(m) and ("私聊" in text_of(m) or "private" in text_of(m)) for m in sent)
