"""The accessibility audit: axe-core on every page once it has drawn. axe-playwright-python ships
axe-core's script and injects it into the page; nothing is fetched. A serious or critical
violation fails the test and names the rule, its impact and the elements."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.browser.conftest import open_settled, page_paths

BLOCKING = {"serious", "critical"}
# a11y.js labels maps and charts a moment after they change; the audit waits for it
_LABELLED = "() => !window.__layerlab || !window.__layerlab.a11yPending"


def describe(violation: dict[str, Any]) -> str:
    targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
    return f"{violation['id']} ({violation['impact']}): {violation['help']}\n    {targets}"


def open_audited(page: Page, url: str) -> None:
    open_settled(page, url)
    page.wait_for_function(_LABELLED, timeout=5_000)


@pytest.mark.parametrize("path", page_paths())
def test_page_has_no_serious_accessibility_violation(page: Page, server_url: str, path: str) -> None:
    open_audited(page, server_url + path)
    violations = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {path}:\n" + "\n".join(map(describe, blocking))


def test_keyboard_focus_is_drawn(page: Page, server_url: str) -> None:
    """Tabbing reaches the controls, and the focused one shows a ring of at least 2 px."""
    open_audited(page, server_url + "/pool")
    for _ in range(3):
        page.keyboard.press("Tab")
    ring = page.evaluate(
        "() => { const el = document.activeElement, s = getComputedStyle(el);"
        " return { tag: el.tagName, style: s.outlineStyle, width: parseFloat(s.outlineWidth) }; }"
    )
    assert ring["tag"] != "BODY", "Tab did not move focus"
    assert ring["style"] != "none" and ring["width"] >= 2, ring


def test_maps_and_charts_have_text_alternatives(page: Page, server_url: str) -> None:
    """Each map is an image named by its title, size and colour range; each chart a named figure."""
    open_audited(page, server_url + "/activations")
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('.mapview, .js-plotly-plot')]
            .filter((el) => !el.closest('.mapview:not(:scope)'))
            .filter((el) => !el.getAttribute('role') || !(el.getAttribute('aria-label') || '').trim())
            .map((el) => el.id || el.className)"""
    )
    assert not unnamed
    open_audited(page, server_url + "/pool")
    label = page.locator("#input-view .mapview").first.get_attribute("aria-label") or ""
    assert " by " in label and "colour scale" in label, label
