"""The staff console in headless Chromium (issue 13's "how to show it"), one browser and one bot start:
login by a one-time link, a used and an expired link refused, scope (403 by URL), CSRF, 派单 and
办结 from the ticket page reaching the group, the 统计 chart's series read back from ECharts,
an accessibility and layout pass on every page at 390 px and 1280 px, logout.

Screenshots of every page at both widths are kept under tmp/artifacts/console/ (not committed).
"""
from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from bot.permissions import STAFF, caller_from_grants
from domain.dashboard import RATES, dashboard
from storage import directory, ledger
from tests.conftest import ROOT, S1, S2
from tests.test_browser import CHROMIUM_ARGS, chromium_path  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "tmp" / "artifacts" / "console"
WIDTHS = ((390, 844), (1280, 800))

# Per page: the language, one h1 and no skipped heading level, a label for every field, nothing
# wider than the screen, and (phone) the navigation's 退出 on screen without scrolling sideways.
AUDIT = """() => {
  const fields = [...document.querySelectorAll('input, select, textarea')].filter(e => e.type !== 'hidden');
  const unlabelled = fields.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                                        && !e.getAttribute('aria-labelledby')).map(e => e.name || e.id);
  const levels = [...document.querySelectorAll('h1, h2, h3, h4')].map(h => +h.tagName[1]);
  const skipped = levels.some((l, i) => i > 0 && l > levels[i - 1] + 1);
  const out = document.querySelector('form.logout button');
  const box = out && out.getBoundingClientRect();
  return {lang: document.documentElement.lang, h1: levels.filter(l => l === 1).length, skipped, unlabelled,
          overflow: document.documentElement.scrollWidth - window.innerWidth,
          logout: box ? box.left >= 0 && box.right <= window.innerWidth : null};
}"""

# The SLA colours (and the other badges) as the stylesheet paints them: text and background.
COLOURS = """() => {
  const box = document.createElement('div');
  box.innerHTML = '<table><tr class="sla-overdue"><td id="c1">超期</td></tr><tr class="sla-near"><td id="c2">将到期</td></tr></table>'
    + '<span class="badge overdue" id="c3">已超期</span><span class="badge near" id="c4">将到期</span>'
    + '<span class="badge urgent" id="c5">紧急</span><span class="tag risk" id="c6">独居老人</span>';
  document.querySelector('main').appendChild(box);
  const bg = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
                    if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };
  const out = {};
  for (const id of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']) {
    const e = document.getElementById(id);
    out[e.parentElement.className || e.className] = [getComputedStyle(e).color, bg(e)];
  }
  box.remove();
  return out;
}"""


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two CSS rgb() colours."""
    def luminance(colour: str) -> float:
        channels = [int(v) / 255 for v in re.findall(r"\d+", colour)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


async def test_the_console_in_a_real_browser(chromium_path, make_chat):  # noqa: F811
    from playwright.async_api import async_playwright

    chat = await make_chat(web_address=("127.0.0.1", 0))
    base = f"http://127.0.0.1:{chat.app.web_port}"
    await chat.say("3单元楼道里堆满了纸箱,消防通道都堵了", sender="res-zhang", room=S1)  # #1, her stairwell
    await chat.say("5楼楼道灯坏了好几天了，晚上黑乎乎的", sender="res-wu", room=S2)  # #2, another one

    async def link() -> str:
        replies = await chat.say("/登录", sender="officer-li", room=None)
        return re.search(r"(/staff/login/\S+)", chat.texts(replies)).group(1)

    expired = await link()
    chat.app.clock.advance(minutes=11)
    fresh = await link()
    with Session(chat.app.engine) as db:
        household = ledger.find(db, "3幢1单元", "101")
        assert household is not None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    audited: list[str] = []

    async def audit(page, name: str, path: str) -> None:
        for width, height in WIDTHS:
            await page.set_viewport_size({"width": width, "height": height})
            response = await page.goto(base + path)
            assert response is not None and response.status == 200, (name, response and response.status)
            found = await page.evaluate(AUDIT)
            assert found["lang"] == "zh-CN" and found["h1"] == 1 and not found["skipped"], (name, width, found)
            assert found["unlabelled"] == [], f"{name}: fields without a label at {width} px: {found['unlabelled']}"
            assert found["overflow"] <= 0, f"{name} is wider than a {width} px screen"
            assert found["logout"] in (True, None), f"{name}: 退出 off screen at {width} px"
            await page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        audited.append(name)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        phone = await browser.new_context(viewport={"width": 390, "height": 844})
        page = await phone.new_page()

        # login by the one-time link (the page's button), as the link's own person
        await page.goto(base + fresh)
        await page.click("#confirm-login")
        await page.wait_for_url("**/staff/tickets")
        assert await page.locator(".who").inner_text() == "李敏"

        # the same link again, and an expired one, from another browser: refused
        stranger = await (await browser.new_context()).new_page()
        for used in (fresh, expired):
            await stranger.goto(base + used)
            async with stranger.expect_response(lambda r: r.request.method == "POST") as posted:
                await stranger.click("#confirm-login")
            assert (await posted.value).status == 403
            assert "已用过或已过期" in await stranger.locator("main").inner_text()
        await audit(stranger, "login", "/staff/login")

        # scope: another stairwell's ticket by URL
        response = await page.goto(base + "/staff/tickets/2")
        assert response is not None and response.status == 403

        # CSRF: a form post from the logged-in browser without the token
        status = await page.evaluate("""() => fetch('/staff/tickets/1/progress', {method: 'POST',
            body: new URLSearchParams({note: '伪造的进展'})}).then(r => r.status)""")
        assert status == 403

        # 派单 then 办结 from the ticket page (audited first, while its action forms are there)
        await audit(page, "ticket", "/staff/tickets/1")
        await page.select_option("#person", "leader-zhou")
        await page.click("form[action$='/assign'] button")
        await page.locator("#flash", has_text="已派给周建国").wait_for()
        await page.fill("#resolve-note", "纸箱已清走，通道畅通")
        await page.click("form[action$='/resolve'] button")
        await page.locator("#status", has_text="已办结").wait_for()
        assert "伪造的进展" not in await page.locator("#history").inner_text()

        # 统计: the trend chart drawn by ECharts with the month's figures
        await page.goto(base + "/staff/stats")
        await page.wait_for_function("window.echarts && echarts.getInstanceByDom(document.getElementById('trend-chart'))")
        series = await page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('trend-chart'))
            .getOption().series.map(s => [s.name, s.type, s.data])""")
        assert await page.locator("#trend-chart svg path").count() > 0  # drawn, not just configured
        with Session(chat.app.engine) as db:
            li = caller_from_grants("officer-li", "李敏", directory.grants_for(db, "officer-li"))
            now = chat.app.clock.now()
            local = chat.app.clock.local()
            board = dashboard(db, local.year, local.month, li.scopes(STAFF), now)
        rates = board.stats.rates()
        assert [name for name, _, _ in series] == list(RATES) and {t for _, t, _ in series} == {"line"}
        assert all(len(data) == 12 for _, _, data in series)
        assert {name: data[-1] for name, _, data in series} == {
            r: None if rates[r] is None else round(rates[r] * 100, 1) for r in RATES}  # this month, as /统计
        assert series[list(RATES).index("办结率")][2][-1] == 100.0  # her one ticket, resolved above

        # every page at 390 and 1280 px; the SLA colours readable
        for name, path in (("tickets", "/staff/tickets"), ("stats", "/staff/stats"),
                           ("notices", "/staff/notices"), ("jobs", "/staff/jobs"), ("ledger", "/staff/ledger"),
                           ("household", f"/staff/ledger/{household.id}"), ("visits", "/staff/visits")):
            await audit(page, name, path)
        colours = await page.evaluate(COLOURS)
        low = {name: round(contrast(*pair), 2) for name, pair in colours.items() if contrast(*pair) < 4.5}
        assert len(colours) == 6 and low == {}, f"below WCAG AA 4.5:1: {low}"

        # logout, from the phone's navigation: back to the login page, the console closed
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(base + "/staff/tickets")
        await page.click("form.logout button")
        await page.wait_for_url("**/staff/login")
        await page.goto(base + "/staff/tickets")
        assert page.url.endswith("/staff/login?next=/staff/tickets")
        await browser.close()

    await chat.app.idle()
    assert len(audited) == 9
    group = [m.text for m in chat.sent if m.room_id == "s3-1"]
    assert any(t.startswith("@张阿姨") and "#1" in t and "纸箱已清走，通道畅通" in t for t in group), group
    assert any(m.to == "leader-zhou" and m.text.startswith("【派单 #1】李敏请您跟进") for m in chat.sent)
    assert (ARTIFACTS / "tickets-390.png").stat().st_size > 0
