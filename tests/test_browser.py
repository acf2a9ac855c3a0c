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
            assert await page.locator(".msg .tag").count() == 0  # no decision tags without ?debug=1
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


async def test_debug_toggle_tags_my_messages_with_the_decision(chromium_path, config, db_url, clock):
    """Issue 10: with ?debug=1 a small grey tag under each of my messages shows the API's 'handled'."""
    from playwright.async_api import async_playwright

    transport = WebChatTransport(host="127.0.0.1", port=0)
    app = Stairwell(config, transport, clock=clock, database_url=db_url)
    await app.start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await page.goto(f"http://127.0.0.1:{transport.bound_port}/?debug=1")
            await page.wait_for_function("document.querySelectorAll('#room option').length >= 3")
            await page.select_option("#room", "s3-1")

            async def say(person: str, text: str, tag: str) -> None:
                await page.select_option("#person", person)
                await page.fill("#text", text)
                await page.click("#send")
                mine = page.locator(".msg.mine", has_text=text[:8])
                await mine.locator(".tag", has_text=tag).wait_for(timeout=10_000)

            await say("res-zhang", "3单元楼道里堆满了纸箱,消防通道都堵了", "诉求 #1")
            await say("res-chen", "楼道里的纸箱还没人清，消防通道还是堵着", "诉求 #1 追加")
            tag = await page.locator(".msg.mine .tag").last.inner_text()
            assert "追加" in tag and "·" in tag  # the category follows: 诉求 #1 追加 · 楼道堆物
            await say("res-chen", "早上好，今天天气不错", "闲聊")
            assert await page.locator(".msg.bot .tag").count() == 0  # only my own messages get tags
            await browser.close()
    finally:
        await app.stop()
