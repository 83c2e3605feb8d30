"""The door display in a real browser: Debian's Chromium, driven by Playwright (as the sandbox's
browser test does), never a downloaded one.

The page shows the room and its QR code, switches language without a reload, and updates itself
when a booking is made and when the clock moves (the poll interval is a query parameter, so
the test waits a second, not thirty). The last state is saved to artifacts/door-display/;
HUIWU_UPDATE_SCREENSHOTS=1 (or a missing file) also refreshes docs/door-display.png.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.app import start_listeners
from tests.e2e.test_door_display import R101_TOKEN, display_url, site_with_display_tokens
from tests.support.clock_steps import book
from tests.support.harness import SHANGHAI, Harness, running_bot

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "artifacts" / "door-display" / "door-display.png"
DOCS_SCREENSHOT = ROOT / "docs" / "door-display.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WAIT = 15_000  # ms: a poll or two
WEDNESDAY = datetime(2026, 12, 2, tzinfo=SHANGHAI)

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing (Debian's chromium package): no browser to drive", allow_module_level=True
    )
async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect


def chinese_fonts(tmp_path: Path) -> dict[str, str]:
    """A fontconfig that adds the Chinese font the project already installs (for its PDFs), so
    the screenshot shows characters where a machine without CJK fonts would draw boxes."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:  # pragma: no cover - the screenshot then has boxes, the test still runs
        return {}
    fonts = Path(pylopdf_fonts_zh_cn.__file__).parent
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{fonts}</dir><cachedir>{tmp_path / 'font-cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return {"FONTCONFIG_FILE": str(config)}


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path, site_path=site_with_display_tokens(tmp_path), http_port=0) as running:
        await start_listeners(running.app, webhook=False)
        yield running


async def test_the_door_display_in_chromium(harness: Harness, tmp_path: Path) -> None:
    h = harness
    h.clock.set(WEDNESDAY.replace(hour=7, minute=30))
    await book(h, WEDNESDAY.replace(hour=14), 60, title="Secret strategy", confidential=True)
    errors: list[str] = []
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            env={**os.environ, **chinese_fonts(tmp_path)},
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
            page.set_default_timeout(WAIT)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console", lambda message: errors.append(message.text) if message.type == "error" else None
            )
            await page.goto(display_url(h, "r101", token=R101_TOKEN, poll="1"))

            await expect(page.locator("#room")).to_have_text("第一会议室")
            await expect(page.locator("#status")).to_have_text("空闲至14:00")
            await expect(page.locator("#qr svg")).to_be_visible()
            await expect(page.locator("#qr")).to_have_attribute(
                "data-link", "https://t.me/huiwu_bot?start=book-r101"
            )
            await expect(page.locator("#later")).to_contain_text("已预订")
            await page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded

            await page.click("#switch")
            await expect(page.locator("#room")).to_have_text("Meeting Room 1")
            await expect(page.locator("#status")).to_have_text("Free until 14:00")
            await expect(page.locator("#qr-caption")).to_have_text("Scan to book this room")
            await expect(page.locator("html")).to_have_attribute("lang", "en")
            assert "lang=en" in page.url

            # a booking is made: the next poll shows it
            booked = await book(h, WEDNESDAY.replace(hour=9), title="季度财务分析会 <Q4>", attendees=12)
            await expect(page.locator("#status")).to_have_text("Free until 09:00")
            await expect(page.locator("#later li").first).to_contain_text("季度财务分析会 <Q4>")
            await expect(page.locator("#later li").first).to_contain_text("Finance")

            # back in Chinese, and the meeting begins
            await page.click("#switch")
            await expect(page.locator("#status")).to_have_text("空闲至09:00")
            h.clock.set(WEDNESDAY.replace(hour=9, minute=20))
            await expect(page.locator("#status")).to_have_text("使用中，至11:00")
            await expect(page.locator("#now")).to_contain_text("季度财务分析会 <Q4>")
            await expect(page.locator("#now")).to_contain_text("财务处")
            await expect(page.locator("#qr-caption")).to_have_text("扫码签到")
            await expect(page.locator("#qr")).to_have_attribute(
                "data-link", f"https://t.me/huiwu_bot?start=checkin-{booked.id}"
            )
            await expect(page.locator("#time")).to_have_text("09:20")
            assert await page.evaluate("window.loadedOnce") is True

            ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
            await page.wait_for_timeout(150)  # let the last update paint
            await page.screenshot(path=str(ARTIFACT))
            if os.environ.get("HUIWU_UPDATE_SCREENSHOTS") == "1" or not DOCS_SCREENSHOT.exists():
                shutil.copyfile(ARTIFACT, DOCS_SCREENSHOT)
        finally:
            await browser.close()
    assert not errors, f"the page raised: {errors}"
