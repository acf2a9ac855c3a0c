"""A person in a real browser: headless Chromium opens the web chat and talks to the bot."""
from __future__ import annotations

import os
import shutil

import pytest

from bot.app import Stairwell
from bot.transports.webchat import WebChatTransport

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium_path() -> str:
    if CHROMIUM:
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail("CI needs Chromium for the browser test: .ci/run installs Debian's chromium package")
    pytest.skip("Chromium is not installed (apt-get install chromium); the browser test needs it")


async def test_person_sends_a_petition_from_the_page(chromium_path, config, db_url, clock, tmp_path):
    from playwright.async_api import async_playwright

    transport = WebChatTransport(host="127.0.0.1", port=0)
    app = Stairwell(config, transport, clock=clock, database_url=db_url)
    await app.start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            await page.goto(f"http://127.0.0.1:{transport.bound_port}/")
            await page.wait_for_function("document.querySelectorAll('#room option').length >= 3")
            await page.select_option("#room", "s3-1")
            await page.select_option("#person", "res-zhang")
            await page.fill("#text", "3单元楼道里堆满了纸箱,消防通道都堵了")
            await page.click("#send")
            mine = page.locator(".msg.mine .bubble", has_text="消防通道都堵了")
            await mine.wait_for(timeout=10_000)
            bot = page.locator(".msg.bot .bubble", has_text="编号 #1")
            await bot.wait_for(timeout=10_000)
            assert "@张阿姨" in await bot.inner_text()
            await page.screenshot(path=str(tmp_path / "webchat.png"))
            # a new resident typed by name, in another group, sees the history reload
            await page.select_option("#room", "s3-2")
            await page.wait_for_selector("#messages .hint")
            await page.select_option("#person", "__new__")
            await page.fill("#newName", "刘奶奶")
            await page.fill("#text", "大家好")
            await page.click("#send")
            await page.locator(".msg.mine .bubble", has_text="大家好").wait_for(timeout=10_000)
            await browser.close()
    finally:
        await app.stop()
