"""Languages: Telegram's language_code decides until /language; command menus per language."""

from __future__ import annotations

from tests.e2e.invite_steps import issue_invite
from tests.support.harness import Harness
from tests.support.people import ALICE, WANG

NEWCOMER = 9002


async def test_telegram_language_decides_until_chosen(harness: Harness) -> None:
    h = harness
    await h.emu.create_user(NEWCOMER, "Lee", language_code="zh-hant")
    await h.ask(NEWCOMER, f"/start {await issue_invite(h, 'office')}", "欢迎")
    await h.ask(NEWCOMER, "/help", "使用说明")
    await h.ask(NEWCOMER, "/language", "请选择语言")
    await h.click(NEWCOMER, "English", "Language set to English.")
    await h.ask(NEWCOMER, "/help", "What I can do")
    await h.ask(NEWCOMER, "/book", "Which day")


async def test_site_file_language_and_switching_back(harness: Harness) -> None:
    h = harness
    await h.ask(ALICE, "/start", "Hello, Alice Chen")  # the site file says English
    await h.ask(WANG, "/start", "王敏，您好")
    await h.ask(WANG, "/language en", "Language set to English.")
    await h.ask(WANG, "/my", "no upcoming bookings")
    await h.ask(WANG, "/language zh", "语言已切换为中文。")


async def test_command_menus_per_language(harness: Harness) -> None:
    menus = await harness.emu.commands()
    private = {
        menu["language_code"]: {c["command"]: c["description"] for c in menu["commands"]}
        for menu in menus
        if menu["scope"]["type"] == "all_private_chats"
    }
    assert private["en"]["book"] == "Book a meeting room"
    assert private["zh"]["book"] == "预订会议室"
    assert {"start", "book", "my", "language", "cancel", "help"} <= set(private["zh"])
