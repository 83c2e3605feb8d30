"""The sandbox in a real browser: Debian's Chromium, driven by Playwright, never a downloaded one.

A requester books a class-A room by clicking through the page; the tea team's leader presses
Done on a task in the team group; the clock is moved past an unconfirmed check and the
escalation shows up in the supervisor's chat. Screenshots of every step go to
artifacts/sandbox/; HUIWU_UPDATE_SCREENSHOTS=1 also refreshes docs/sandbox.png (the README's).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from bot.sandbox.runtime import SANDBOX_TOKEN
from tests.sandbox.conftest import SandboxThread, book_tomorrow_at_ten, png

if TYPE_CHECKING:
    # Only for the annotations: the module is imported below, skipping the file when it is missing.
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "sandbox"
DOCS_SCREENSHOT = ROOT / "docs" / "sandbox.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ALICE, LI_QIANG, CHEN_JING = 1002, 3001, 2201
TEA_GROUP = -1001
WAIT = 15_000  # ms: a bot answer, a timer pass

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing (Debian's chromium package): no browser to drive", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def running(tmp_path: Path) -> Iterator[SandboxThread]:
    thread = SandboxThread(tmp_path / "sandbox")
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def page(running: SandboxThread) -> Iterator[Page]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_page(viewport={"width": 1280, "height": 820}, locale="zh-CN")
        errors: list[str] = []
        context.on("pageerror", lambda error: errors.append(str(error)))
        context.set_default_timeout(WAIT)
        try:
            yield context
        finally:
            browser.close()
        assert not errors, f"the page raised: {errors}"


# ---- acting in the page ---------------------------------------------------------------------------------
class Shots:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob("[0-9][0-9]-*.png"):
            old.unlink()

    def __call__(self, name: str) -> Path:
        self.count += 1
        path = ARTIFACTS / f"{self.count:02d}-{name}.png"
        self.page.wait_for_timeout(150)  # let the last edit paint
        self.page.screenshot(path=str(path))
        return path


def snapshot(page: Page, name: str) -> None:
    """A screenshot beside the tour's numbered ones (which a new tour clears)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def bot_says(page: Page, text: str | re.Pattern[str]) -> None:
    """The newest message of the bot in the open chat shows ``text`` (new or edited in place)."""
    expect(page.locator("#messages .message[data-sender=bot]").last).to_contain_text(text, timeout=WAIT)


def press(page: Page, label: str | re.Pattern[str], *, exact: bool = False) -> None:
    """Press a button of the newest message that has an inline keyboard."""
    keyboard = page.locator("#messages .message:has(.inline-keyboard)").last
    if exact:
        button = keyboard.get_by_role("button", name=label, exact=True)
    else:
        button = keyboard.locator(".inline-button", has_text=label)
    button.first.click()


def write(page: Page, text: str) -> None:
    page.fill("#composer-input", text)
    page.click("#send")


def become(page: Page, persona: int, chat: int) -> None:
    page.select_option("#persona", str(persona))
    page.locator(f'#chat-list .chat-item[data-chat-id="{chat}"]').click()
    expect(page.locator(f'#chat-list .chat-item.active[data-chat-id="{chat}"]')).to_be_visible()


def move_clock(page: Page, button: str, expect_local: str) -> None:
    page.click(button)
    expect(page.locator("#clock-display")).to_have_attribute("data-local", expect_local, timeout=WAIT)


# ---- the story ----------------------------------------------------------------------------------------
def test_book_confirm_a_task_and_see_the_escalation(page: Page, running: SandboxThread) -> None:
    shot = Shots(page)
    page.goto(f"{running.url}/?as={ALICE}")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    # Alice's page speaks English; the sandbox's time is shown in the site's zone.
    expect(page.locator("#clock-next")).to_have_text("⏭ Next task")
    expect(page.locator("#clock-display")).to_have_attribute("data-local", re.compile(r"^2026-12-01 09:0"))
    expect(page.locator("#start-panel")).to_be_visible()
    shot("alice-empty-chat")

    # The rooms panel: each room's door display opens in a new tab, served by the sandbox.
    link = page.locator('#room-list a[data-room="r101"]')
    expect(link).to_have_text("Meeting Room 1")
    expect(link).to_have_attribute("target", "_blank")
    with page.expect_popup() as opened:
        link.click()
    display = opened.value
    expect(display.locator("#room")).to_have_text("Meeting Room 1")
    expect(display.locator("#time")).to_have_text(re.compile(r"^09:0"))  # the sandbox's time
    display.close()

    # START sends /start, as Telegram's button does.
    page.click("#start-button")
    bot_says(page, "/book")

    # Bad input: refused by the emulator with Telegram's wording, shown in the page.
    write(page, "")
    expect(page.locator("#send-error")).to_contain_text("empty")
    write(page, "x" * 10_000)
    expect(page.locator("#send-error")).to_contain_text("4096")
    expect(page.locator("#composer-input")).to_have_value("x" * 10_000)  # kept for another try
    shot("bad-input-refused")
    write(page, "<b>bold?</b> <script>alert(1)</script>")
    mine = page.locator("#messages .message.from-me").last
    expect(mine).to_contain_text("<b>bold?</b> <script>alert(1)</script>")
    expect(mine.locator("b, script")).to_have_count(0)
    expect(page.locator("#send-error")).to_be_hidden()
    bot_says(page, re.compile(r"\S"))

    # The command menu is the bot's, in Alice's language; /book starts the wizard.
    page.click("#menu-button")
    expect(page.locator("#command-menu")).to_contain_text("Book a meeting room")
    page.locator('#command-menu .command-item[data-command="book"]').click()
    bot_says(page, "Which day")
    shot("book-calendar")

    press(page, "02", exact=True)  # tomorrow, Wednesday 2 December
    bot_says(page, "when does the meeting start")
    press(page, "10:00", exact=True)
    bot_says(page, "When does it end")
    press(page, re.compile(r"^11:00"))
    bot_says(page, "How many people")
    press(page, "10", exact=True)
    bot_says(page, "Rooms free")
    expect(page.locator("#messages .message:has(.inline-keyboard)").last).to_contain_text("class A")
    shot("book-rooms")
    press(page, "Meeting Room 1")
    bot_says(page, "How should")
    press(page, "Discussion")
    bot_says(page, "Reception level")
    press(page, "3", exact=True)
    bot_says(page, "Which services")
    press(page, "Tea service")
    expect(page.locator("#messages .message:has(.inline-keyboard)").last).to_contain_text("✅ Tea service")
    shot("book-services")
    press(page, "Done")
    bot_says(page, "Refill every")
    press(page, "Use 30")
    bot_says(page, "title of the meeting")
    write(page, "Budget review")
    bot_says(page, "contact person")
    press(page, "Alice Chen")
    bot_says(page, "phone number")
    write(page, "010-6512 3456")
    bot_says(page, "confidential")
    press(page, "No", exact=True)
    bot_says(page, "notes")
    press(page, "No notes")
    bot_says(page, "check your booking")
    shot("book-summary")
    press(page, "Confirm")
    bot_says(page, "is confirmed")
    shot("book-confirmed")

    # The tea team's leader: the page switches to Chinese; the team group is in his chat list.
    become(page, LI_QIANG, TEA_GROUP)
    expect(page.locator("#clock-next")).to_have_text("⏭ 下一个任务")
    # The first task timer: the day-before inspection, pushed to the group at 10:00.
    move_clock(page, "#clock-next", "2026-12-01 10:00")
    card = page.locator("#messages .message[data-sender=bot]:has(.inline-keyboard)").last
    expect(card).to_contain_text(re.compile(r"第一会议室|Meeting Room 1"))
    shot("team-task-card")
    card.locator(".inline-button", has_text=re.compile(r"Done|完成")).first.click()
    expect(
        page.locator(f'#messages .message[data-message-id="{card.get_attribute("data-message-id")}"]')
    ).to_contain_text("李强", timeout=WAIT)
    shot("team-task-done")

    # The supervisor: check 1 is pushed at 08:00 the next day, due 08:15, not confirmed;
    # the group is reminded at 08:15, the supervisor alerted at 08:25.
    become(page, CHEN_JING, CHEN_JING)
    move_clock(page, "#clock-next", "2026-12-02 08:00")
    move_clock(page, "#clock-15", "2026-12-02 08:15")
    move_clock(page, "#clock-15", "2026-12-02 08:30")
    bot_says(page, re.compile(r"一级检查|Check 1"))
    escalation = page.locator("#messages .message[data-sender=bot]").last
    expect(escalation.locator(".inline-button").first).to_be_visible()
    # The clock moved through 08:15 and 08:25 rather than jumping: the alert was on time.
    expect(escalation).not_to_contain_text("comes late")
    shot("supervisor-escalation")

    # Back in the tea group: the done inspection, the 17:00 digest of the next day's tasks (the
    # clock moved through it) and check 1, whose card now carries the reminder to its leader
    # (the reminder edits the card: one message and one keyboard per task).
    become(page, LI_QIANG, TEA_GROUP)
    expect(page.locator("#messages .message[data-sender=bot]")).to_have_count(3)
    expect(page.locator("#messages .message[data-sender=bot]").nth(1)).to_contain_text("明日")
    bot_says(page, re.compile(r"一级检查|Check 1"))
    expect(page.locator("#toasts .toast")).to_have_count(0, timeout=8_000)
    team_shot = shot("team-group-reminded")

    # Reset: an empty database and empty chats, everyone still there.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#reset")
    expect(page.locator("#messages .empty")).to_be_visible(timeout=WAIT)
    expect(page.locator("#messages .message")).to_have_count(0)
    # The page re-selects the open chat when the reset's events arrive; a click made before
    # that lands is undone by it, so click until the private chat stays open.
    for _attempt in range(20):
        page.locator(f'#chat-list .chat-item[data-chat-id="{LI_QIANG}"]').click()
        try:
            expect(page.locator("#start-panel")).to_be_visible(timeout=1_000)
            break
        except AssertionError:
            continue
    expect(page.locator("#start-panel")).to_be_visible()
    expect(page.locator("#clock-display")).to_have_attribute("data-local", re.compile(r"^2026-12-01 09:0"))
    shot("after-reset")

    # The README's picture: written when missing, or on request (not on every run, so that
    # running the tests leaves the tree clean).
    if not DOCS_SCREENSHOT.exists() or os.environ.get("HUIWU_UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(team_shot, DOCS_SCREENSHOT)


# ---- answering the bot's questions ------------------------------------------------------------------------
def test_a_problem_reason_without_quoting_and_a_reply_to_any_message(
    page: Page, running: SandboxThread
) -> None:
    """Problem → Other: the bot's ForceReply puts the composer in reply mode, as Telegram's apps
    do; the leader cancels it and sends the reason as a plain message, which the bot takes.
    Then any message can be replied to with its ↩ action."""
    assert running.sandbox is not None
    running.call(book_tomorrow_at_ten(running.sandbox))
    page.goto(f"{running.url}/?as={LI_QIANG}&chat={TEA_GROUP}")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    move_clock(page, "#clock-next", "2026-12-01 10:00")
    card = page.locator("#messages .message[data-sender=bot]:has(.inline-keyboard)").last
    expect(card).to_contain_text("第一会议室")
    card.locator(".inline-button", has_text="有问题").first.click()
    bot_says(page, "什么问题")
    expect(page.locator("#reply-bar")).to_be_hidden()  # buttons to choose from: no reply mode
    press(page, "其他")

    bot_says(page, "请回复本条消息")
    question = page.locator("#messages .message[data-sender=bot]").last
    expect(page.locator("#reply-bar")).to_be_visible()
    expect(page.locator("#reply-bar")).to_have_attribute(
        "data-message-id", question.get_attribute("data-message-id") or ""
    )
    expect(page.locator("#reply-bar-title")).to_contain_text("回复")
    expect(page.locator("#reply-bar-text")).to_contain_text("请回复本条消息")
    expect(page.locator("#composer-input")).to_have_attribute("placeholder", "问题是……")
    snapshot(page, "force-reply-mode")

    # Cancelled: the reason goes as a plain message, quoting nothing — and is taken.
    page.click("#reply-cancel")
    expect(page.locator("#reply-bar")).to_be_hidden()
    write(page, "铭牌缺了两个")
    bot_says(page, "已报告客服主管")
    mine = page.locator("#messages .message.from-me").last
    expect(mine).to_contain_text("铭牌缺了两个")
    expect(mine.locator(".reply-quote")).to_have_count(0)
    expect(page.locator("#reply-bar")).to_be_hidden()  # the answered question is not offered again
    expect(page.locator("#composer-input")).to_have_attribute("placeholder", "输入消息…")

    # Any message can be replied to: ↩ on the bot's answer, then a message quoting it.
    answer = page.locator("#messages .message[data-sender=bot]").last
    answer.hover()
    answer.locator(".reply-action").click()
    expect(page.locator("#reply-bar-text")).to_contain_text("已报告客服主管")
    page.keyboard.press("Escape")  # Escape cancels, as in Telegram
    expect(page.locator("#reply-bar")).to_be_hidden()
    answer.hover()
    answer.locator(".reply-action").click()
    write(page, "收到")
    mine = page.locator("#messages .message.from-me").last
    expect(mine).to_contain_text("收到")
    expect(mine.locator(".reply-quote")).to_contain_text("已报告客服主管")
    expect(page.locator("#reply-bar")).to_be_hidden()
    snapshot(page, "replied-to-a-message")


# ---- how the bot's messages are drawn ----------------------------------------------------------------------
async def _bot_api(running: SandboxThread, method: str, **fields: Any) -> dict[str, Any]:
    """Call the emulator's Bot API as the bot would (the sandbox's own token)."""
    assert running.sandbox is not None and running.sandbox.server is not None
    url = running.sandbox.server.api_url(SANDBOX_TOKEN, method)
    async with aiohttp.ClientSession() as session:
        upload = fields.pop("upload", None)
        if upload is None:
            response = await session.post(url, json=fields)
        else:
            form = aiohttp.FormData(quote_fields=False)
            for key, value in fields.items():
                form.add_field(key, str(value))
            name, filename, data, mime = upload
            form.add_field(name, data, filename=filename, content_type=mime)
            response = await session.post(url, data=form)
        body = await response.json()
    assert body["ok"], body
    return body["result"]


def test_messages_render_like_telegram_and_safely(page: Page, running: SandboxThread) -> None:
    html = (
        "<b>bold</b> <i>italic</i> <u>under</u> <s>strike</s> <tg-spoiler>secret</tg-spoiler> "
        '<code>x&lt;y</code> <a href="https://example.com/?a=1&amp;b=2">a link</a> '
        "&lt;img src=x onerror=alert(1)&gt;\n"
        '<pre><code class="language-python">print("&lt;b&gt;")</code></pre>'
        "<blockquote>quoted &lt;script&gt;alert(2)&lt;/script&gt;</blockquote>"
    )
    sent = running.call(
        _bot_api(
            running,
            "sendMessage",
            chat_id=ALICE,
            text=html,
            parse_mode="HTML",
            reply_markup={"inline_keyboard": [[{"text": "Open", "url": "https://example.com"}]]},
        )
    )
    running.call(
        _bot_api(
            running,
            "sendPhoto",
            chat_id=ALICE,
            caption="chart",
            upload=("photo", "c.png", png(), "image/png"),
        )
    )
    running.call(
        _bot_api(
            running, "sendDocument", chat_id=ALICE, upload=("document", "report.csv", b"a,b\n", "text/csv")
        )
    )
    page.goto(f"{running.url}/?as={ALICE}")
    expect(page.locator("#messages .message")).to_have_count(3)
    first = page.locator(f'#messages .message[data-message-id="{sent["message_id"]}"]')
    text = first.locator(".text")
    expect(text.locator("b")).to_have_text("bold")
    expect(text.locator("i")).to_have_text("italic")
    expect(text.locator("u")).to_have_text("under")
    expect(text.locator("s")).to_have_text("strike")
    expect(text.locator(".spoiler")).to_have_text("secret")
    expect(text.locator("code").first).to_have_text("x<y")
    expect(text.locator("a", has_text="a link")).to_have_attribute("href", "https://example.com/?a=1&b=2")
    expect(text.locator("pre")).to_have_text('print("<b>")')
    expect(text.locator("blockquote")).to_contain_text("quoted <script>alert(2)</script>")
    expect(text).to_contain_text("<img src=x onerror=alert(1)>")
    expect(page.locator("#messages img:not(.photo), #messages script")).to_have_count(0)
    expect(first.locator("a.inline-button.url")).to_have_attribute("href", "https://example.com/")
    expect(page.locator("#messages img.photo")).to_have_count(1)
    expect(page.locator("#messages a.document")).to_have_attribute("download", "report.csv")
    shot = ARTIFACTS / "render-entities.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))

    # Edited in place, then deleted: the page follows without a reload.
    running.call(
        _bot_api(running, "editMessageText", chat_id=ALICE, message_id=sent["message_id"], text="now plain")
    )
    expect(first.locator(".text")).to_have_text("now plain")
    expect(first.locator(".edited")).to_be_visible()
    running.call(_bot_api(running, "deleteMessage", chat_id=ALICE, message_id=sent["message_id"]))
    expect(page.locator(f'#messages .message[data-message-id="{sent["message_id"]}"]')).to_have_count(0)
    expect(page.locator("#messages .message")).to_have_count(2)
