"""One step on one screen: every element a page names as part of its step (`data-step-part`) lies inside
the viewport as the page opens, in presenter view at 1280x720 and in the normal view at 1440x900."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import BrowserLog, guarded_context, open_settled, page_paths

STEP_PAGES = [p for p in page_paths() if p not in ("/", "/docs")]

# the visible elements a page marks as the parts of one step, with their boxes in viewport pixels
STEP_PARTS = """() => [...document.querySelectorAll('[data-step-part]')]
  .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
  .map((el) => { const b = el.getBoundingClientRect();
    return { name: el.dataset.stepPart, top: b.top, bottom: b.bottom, left: b.left, right: b.right }; })"""


def parts_outside(page: Page) -> tuple[list[dict], list[str]]:
    """The step parts on the page, and a description of each one that is not wholly on screen."""
    width, height = page.evaluate("() => [window.innerWidth, window.innerHeight]")
    parts = page.evaluate(STEP_PARTS)
    outside = [
        f"{p['name']}: top {p['top']:.0f}, bottom {p['bottom']:.0f},"
        f" left {p['left']:.0f}, right {p['right']:.0f} (viewport {width}x{height})"
        for p in parts
        if p["top"] < -0.5 or p["left"] < -0.5 or p["bottom"] > height + 0.5 or p["right"] > width + 0.5
    ]
    return parts, outside


VIEWS = [("presenter", 1280, 720), ("normal", 1440, 900)]


@pytest.mark.parametrize(("view", "width", "height"), VIEWS, ids=["presenter-1280", "normal-1440"])
@pytest.mark.parametrize("path", STEP_PAGES)
def test_one_step_is_on_one_screen(
    browser: Browser, browser_log: BrowserLog, server_url: str, path: str, view: str, width: int, height: int
) -> None:
    with guarded_context(browser, browser_log, viewport={"width": width, "height": height}) as ctx:
        page = ctx.new_page()
        query = "?present=1" if view == "presenter" else ""
        open_settled(page, f"{server_url}{path}{query}")
        parts, outside = parts_outside(page)
        assert len(parts) >= 2, f"{path} names {len(parts)} step parts (data-step-part)"
        assert not outside, f"{path} ({view}): parts of the step off screen:\n" + "\n".join(outside)
