"""The pages in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

The real app is served by uvicorn on a free loopback port over a seeded SQLite database (a brand, its
buckets with a flare, an incident with its timeline, the default runbook). Every page must load with
HTTP 200 and no console or page errors, draw its SVG chart, render the Japanese text with a Japanese
font (the platform font Chromium actually used, asked over the DevTools protocol), and fit a phone
screen without horizontal scrolling. A screenshot of each page goes to benchmarks/output/screenshots/.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.context import ApiContext
from storage.engine import make_engine, make_session_factory
from storage.migrations import upgrade
from storage.models import DetectorRun
from tests.alerting.incident_rows import BRAND, NOW, add_flame

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "benchmarks" / "output" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the dev extra)")
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"
    ),
    pytest.mark.timeout(120),
]


@dataclass(frozen=True)
class Site:
    base: str
    brand_id: int
    incident_id: int
    has_digest: bool


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'pages.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        flame = add_flame(session)
        session.add(
            DetectorRun(
                brand_id=flame.brand_id, expected=30.0, upper=60.0, baseline_share=0.13, updated_at=NOW
            )
        )
    context = ApiContext(factory=factory, ingestor=None, clock=lambda: NOW)  # type: ignore[arg-type]
    app = create_app(context)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:  # the daily digest page is another helper's; visited when the app has it
        has_digest = urllib.request.urlopen(f"http://127.0.0.1:{port}/digest", timeout=10).status == 200
    except urllib.error.HTTPError:
        has_digest = False
    try:
        yield Site(f"http://127.0.0.1:{port}", flame.brand_id, flame.incident_id, has_digest)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def _pages(site: Site) -> list[tuple[str, str, str | None]]:
    """(name, path, selector of an element whose Japanese text must render) for every page."""
    incident = f"/incidents/{site.incident_id}"
    pages = [
        ("dashboard", "/", "h1"),
        ("brand", f"/brands/{site.brand_id}?range=24h", "h1"),
        ("incident-ja", f"{incident}?lang=ja", "#headline"),
        ("incident-en", f"{incident}?lang=en", "#headline"),
        ("report", f"{incident}/report?lang=ja", "#headline"),
        ("runbook", f"{incident}/runbook?locale=ja", "article.runbook"),
    ]
    if site.has_digest:
        pages.append(("digest", "/digest", "h1"))
    return pages


def _platform_fonts(page: Any, selector: str) -> dict[str, int]:
    """The fonts Chromium really used for the element's text: family → glyph count (DevTools CSS domain)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return {font["familyName"]: font["glyphCount"] for font in fonts}


def _visit(browser: Any, url: str, viewport: dict[str, int], shot: Path) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=viewport, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(url, wait_until="load")
    page.screenshot(path=str(shot), full_page=True)
    return context, (page, response), errors


def test_every_page_renders_in_chromium(site: Site, browser: Any) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path, text_selector in _pages(site):
        context, (page, response), errors = _visit(
            browser, site.base + path, DESKTOP, SCREENSHOTS / f"{name}-desktop.png"
        )
        try:
            assert response is not None and response.status == 200, (name, response and response.status)
            assert errors == [], (name, errors)
            charts = page.locator("svg.chart:visible, svg.spark:visible")
            if name not in ("runbook", "report"):
                box = charts.first.bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 10, (name, box)
            if text_selector:
                box = page.locator(text_selector).first.bounding_box()
                assert box is not None and box["width"] > 0 and box["height"] > 0, name
                assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK JP\"')")
                if name != "incident-en":
                    fonts = _platform_fonts(page, text_selector)
                    assert any("CJK" in family and glyphs > 0 for family, glyphs in fonts.items()), (
                        name,
                        fonts,
                    )
        finally:
            context.close()


def test_incident_summary_content_in_both_languages(site: Site, browser: Any) -> None:
    incident = f"{site.base}/incidents/{site.incident_id}"
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{incident}?lang=ja")
        headline = page.locator("#headline").inner_text()
        assert headline.startswith(f"{BRAND}の言及が通常の8倍") and "否定的な投稿は63%" in headline
        assert (page.locator("svg.chart:visible title").first.text_content() or "").startswith(BRAND)
        assert page.locator("svg.chart:visible .marker.onset").count() == 1
        assert page.locator("ol.steps li").count() >= 2
        page.get_by_role("link", name="English").click()  # the switch, remembered in a cookie
        assert page.locator("#headline").inner_text().startswith(f"Mentions of {BRAND} rose to 8×")
        page.goto(f"{incident}/report")
        assert page.locator("html").get_attribute("lang") == "en"
    finally:
        context.close()


def test_phone_viewport_has_no_horizontal_overflow(site: Site, browser: Any) -> None:
    for name, path, _ in _pages(site):
        context, (page, response), errors = _visit(
            browser, site.base + path, PHONE, SCREENSHOTS / f"{name}-phone.png"
        )
        try:
            assert response is not None and response.status == 200 and errors == [], (name, errors)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (name, overflow)
            if name.startswith("incident"):  # the narrow chart replaces the wide one on a phone
                box = page.locator("svg.chart:visible").first.bounding_box()
                assert box is not None and box["width"] <= PHONE["width"] and box["height"] > 150, box
        finally:
            context.close()


def test_the_brand_range_links_work_without_javascript(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{site.base}/brands/{site.brand_id}")
        page.get_by_role("link", name="30日間 / 30 days").click()
        assert "range=30d" in page.url
        assert "mentions per 360 min" in (page.locator("svg.chart title").first.text_content() or "")
    finally:
        context.close()
