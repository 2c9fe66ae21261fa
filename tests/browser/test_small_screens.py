"""Every page on a phone (390×844, touch): nothing scrolls sideways, the figures fit the width,
fields are large enough that the browser does not zoom, and a tap steps the step-through."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import BrowserLog, guarded_context, open_settled, page_paths
from tests.browser.helpers import idle, step_number

PHONE = {"width": 390, "height": 844}

_MEASURE = """() => {
  const visible = (el) => el.getClientRects().length > 0;
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, right: r.right, bottom: r.bottom, top: r.top };
  };
  const figures = 'main .mapview, main .js-plotly-plot, main svg[role], main canvas';
  const figure = [...document.querySelectorAll(figures)]
    .find((el) => visible(el) && !el.closest('.mapview:not(:scope)'));
  const controls = document.querySelector('.page > .controls');
  const stage = document.querySelector('.page > .stage');
  const fields = 'main input:not([type=checkbox]):not([type=radio]):not([type=range]):not([type=file]),'
    + ' main select, main textarea';
  const small = [...document.querySelectorAll(fields)].filter(visible)
    .filter((el) => parseFloat(getComputedStyle(el).fontSize) < 16)
    .map((el) => el.id || el.outerHTML.slice(0, 60));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    figure: figure && { name: figure.id || figure.className.baseVal || figure.className, ...box(figure) },
    controls: controls && visible(controls) ? box(controls) : null,
    stage: stage && visible(stage) ? box(stage) : null,
    small,
  };
}"""


@pytest.fixture
def phone(browser: Browser, browser_log: BrowserLog) -> Iterator[Page]:
    """A page in a phone-sized touch context, guarded like the `page` fixture."""
    with guarded_context(browser, browser_log, viewport=PHONE, is_mobile=True, has_touch=True) as ctx:
        yield ctx.new_page()


@pytest.mark.parametrize("path", page_paths())
def test_page_fits_a_phone(phone: Page, server_url: str, path: str) -> None:
    open_settled(phone, server_url + path)
    m = phone.evaluate(_MEASURE)
    assert m["clientWidth"] == PHONE["width"]
    assert m["scrollWidth"] <= PHONE["width"], f"{path} scrolls sideways: {m['scrollWidth']} px wide"
    if m["figure"]:
        f = m["figure"]
        assert f["left"] >= 0 and f["right"] <= PHONE["width"], f"{path}: {f['name']} spans {f}"
    if m["controls"] and m["stage"]:
        assert m["controls"]["bottom"] <= m["stage"]["top"], f"{path}: the settings are not above the content"
    assert not m["small"], f"{path}: fields under 16 px make the phone zoom: {m['small']}"


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
