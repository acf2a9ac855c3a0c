"""The staff console in headless Chromium: log in by link, the list, a ticket, an action, logout.

Screenshots at 390 px (a phone) and 1280 px are kept under tmp/artifacts/console/ (not committed).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, S1
from tests.test_browser import CHROMIUM_ARGS, chromium_path  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "tmp" / "artifacts" / "console"


async def test_staff_member_works_a_ticket_in_the_console(chromium_path, make_chat):  # noqa: F811
    from playwright.async_api import async_playwright

    chat = await make_chat(web_address=("127.0.0.1", 0))
    base = f"http://127.0.0.1:{chat.app.web_port}"
    await chat.say("3单元楼道里堆满了纸箱,消防通道都堵了", sender="res-zhang", room=S1)
    link = re.search(r"(/staff/login/\S+)", chat.texts(await chat.say("/登录", sender="officer-li", room=None))).group(1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        page = await context.new_page()
        await page.goto(base + link)
        await page.click("#confirm-login")
        await page.wait_for_url("**/staff/tickets")
        for width, height in ((390, 844), (1280, 800)):
            await page.set_viewport_size({"width": width, "height": height})
            await page.goto(base + "/staff/tickets")
            row = page.locator('tr[data-ticket="1"]')
            await row.wait_for()
            assert "已受理" in await row.inner_text()
            await page.screenshot(path=str(ARTIFACTS / f"tickets-{width}.png"), full_page=True)
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the list is wider than a {width} px screen"
        await page.click('tr[data-ticket="1"] a')
        await page.wait_for_url("**/staff/tickets/1")
        await page.fill("#progress-note", "已联系物业，明天清理")
        await page.click("form[action$='/progress'] button")
        await page.locator("#flash", has_text="进展已记录").wait_for()
        assert "处理中" in await page.locator("#status").inner_text()
        assert "已联系物业" in await page.locator("#history").inner_text()
        await page.screenshot(path=str(ARTIFACTS / "ticket-1280.png"), full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(ARTIFACTS / "ticket-390.png"), full_page=True)
        await page.click("form.logout button")
        await page.wait_for_url("**/staff/login")
        await page.goto(base + "/staff/tickets")
        assert page.url.endswith("/staff/login?next=/staff/tickets")
        await browser.close()
    await chat.app.idle()
    group = [m.text for m in chat.sent if m.room_id == "s3-1"]
    assert group[-1] == "@张阿姨 您反映的问题 #1（消防安全隐患）有新进展：已联系物业，明天清理"
    assert Path(ARTIFACTS / "tickets-390.png").stat().st_size > 0
