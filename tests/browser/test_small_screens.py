"""Every page on a phone (390×844, touch): nothing scrolls sideways, the first picture starts on the
first screen (the settings fold behind a button), the top menu fits, the figures fit the width,
fields are large enough that the browser does not zoom, and a tap steps the step-through."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from layerlab.app.operations import OPERATIONS
from tests.browser.conftest import BrowserLog, guarded_context, open_settled, page_paths
from tests.browser.helpers import idle, step_number

PHONE = {"width": 390, "height": 844}

# pages with no picture of their own: the index lists the others, /docs is reference text
NO_PICTURE = {"/", "/docs"}

# the first picture in main: a map, a plot, a labelled svg or a canvas (a map's own parts not counted)
_FIGURE = """() => [...document.querySelectorAll(
    'main .mapview, main .js-plotly-plot, main svg[role], main canvas')]
  .find((el) => el.getClientRects().length > 0 && !el.closest('.mapview:not(:scope)'))"""

_MEASURE = """() => {
  const visible = (el) => el.getClientRects().length > 0;
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, right: r.right, bottom: r.bottom, top: r.top };
  };
  // a picture wider than the phone may scroll in its own box (the phone rules' design): that box must fit
  const scroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (/auto|scroll/.test(getComputedStyle(p).overflowX) && p.scrollWidth > p.clientWidth) return p;
    }
    return null;
  };
  const figure = (FIGURE)();
  const fields = 'main input:not([type=checkbox]):not([type=radio]):not([type=range]):not([type=file]),'
    + ' main select, main textarea';
  const small = [...document.querySelectorAll(fields)].filter(visible)
    .filter((el) => parseFloat(getComputedStyle(el).fontSize) < 16)
    .map((el) => el.id || el.outerHTML.slice(0, 60));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    scrollY: window.scrollY,
    figure: figure && { name: figure.id || figure.tagName, ...box(figure) },
    frame: figure && box(scroller(figure) || figure),
    small,
  };
}""".replace("FIGURE", _FIGURE)

# the boxes of the top bar's parts and of every page link, and whether each link is shown
_MENU = """() => {
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, shown: el.getClientRects().length > 0
      && getComputedStyle(el).visibility !== 'hidden' };
  };
  return {
    bar: [...document.querySelectorAll('.topbar > *')].filter((el) => el.getClientRects().length > 0)
      .map((el) => ({ name: el.className || el.tagName, ...box(el) })),
    links: [...document.querySelectorAll('.topbar nav a')].map((a) => ({ name: a.textContent, ...box(a) })),
  };
}"""

# the settings aside's parts other than its own toggle that are shown
_SETTINGS_SHOWN = """() => [...document.querySelectorAll('.page > aside.controls > :not(.controls-toggle)')]
  .filter((el) => el.getClientRects().length > 0).length"""


def inside(b: dict, width: float, height: float) -> bool:
    """Whether box `b` lies wholly in a width x height screen (half a pixel of rounding allowed)."""
    return min(b["left"], b["top"]) >= -0.5 and b["right"] <= width + 0.5 and b["bottom"] <= height + 0.5


@pytest.fixture
def phone(browser: Browser, browser_log: BrowserLog) -> Iterator[Page]:
    """A page in a phone-sized touch context, guarded like the `page` fixture."""
    with guarded_context(browser, browser_log, viewport=PHONE, is_mobile=True, has_touch=True) as ctx:
        yield ctx.new_page()


@pytest.mark.parametrize("path", page_paths())
def test_page_fits_a_phone(phone: Page, server_url: str, path: str) -> None:
    open_settled(phone, server_url + path)
    if path not in NO_PICTURE:
        phone.wait_for_function(_FIGURE)  # some pages draw once their first answer is in
    m = phone.evaluate(_MEASURE)
    assert m["innerWidth"] == PHONE["width"] and m["scrollY"] == 0
    assert m["scrollWidth"] <= m["innerWidth"], f"{path} scrolls sideways: {m['scrollWidth']} px wide"
    if m["figure"]:
        f = m["figure"]
        frame = m["frame"]
        assert frame["left"] >= 0 and frame["right"] <= PHONE["width"], f"{path}: {f['name']} spans {frame}"
        assert f["top"] < PHONE["height"], f"{path}: the first picture ({f['name']}) starts at {f['top']:.0f}"
    # the settings fold behind their button; opened, every field is large enough not to zoom
    toggle = phone.locator(".page > aside.controls > .controls-toggle")
    if toggle.count():
        assert phone.evaluate(_SETTINGS_SHOWN) == 0, f"{path}: the settings are open before the picture"
        toggle.tap()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert phone.evaluate(_SETTINGS_SHOWN) > 0, f"{path}: the Settings button shows nothing"
        opened = phone.evaluate(_MEASURE)
        assert opened["scrollWidth"] <= PHONE["width"], f"{path}: the open settings scroll sideways"
    assert not phone.evaluate(_MEASURE)["small"], f"{path}: fields under 16 px make the phone zoom"


@pytest.mark.parametrize("path", ["/", "/pool", "/network", "/docs"])
def test_the_top_menu_fits_a_phone_and_opens_every_page_link(phone: Page, server_url: str, path: str) -> None:
    open_settled(phone, server_url + path)
    width, height = PHONE["width"], PHONE["height"]
    menu = phone.evaluate(_MENU)
    cut = [b["name"] for b in menu["bar"] if not inside(b, width, height)]
    assert not cut, f"{path}: top bar parts outside the screen: {cut}"
    assert max(b["bottom"] for b in menu["bar"]) < 70, f"{path}: the top bar takes more than one row"
    assert not any(link["shown"] for link in menu["links"]), f"{path}: page links shown before the menu opens"
    phone.tap(".menu-toggle")
    menu = phone.evaluate(_MENU)
    assert len(menu["links"]) == len(OPERATIONS) + 1  # every page and the API docs
    cut = [link["name"] for link in menu["links"] if not (link["shown"] and inside(link, width, height))]
    assert not cut, f"{path}: page links cut or hidden with the menu open: {cut}"
    tools = phone.evaluate(
        """() => [...document.querySelectorAll('.classroom-tools > button:not([hidden]), #export-toggle')]
          .map((b) => { const r = b.getBoundingClientRect();
            return { name: b.id, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                     shown: b.getClientRects().length > 0 }; })"""
    )
    assert len(tools) == 4 and all(t["shown"] and inside(t, width, height) for t in tools), tools
    phone.tap(".topbar nav a[href='/calculator']")
    phone.wait_for_url("**/calculator")


def test_a_tap_steps_the_step_through(phone: Page, server_url: str) -> None:
    phone.goto(f"{server_url}/pool")
    phone.wait_for_function(
        "() => window.__layerlab && document.getElementById('step-label').textContent.startsWith('step ')",
        timeout=20_000,
    )
    idle(phone)
    before = step_number(phone)
    phone.tap('#stepper [data-act="next"]')
    idle(phone)
    assert step_number(phone) == before + 1
