"""A Trace's notebook view in Chromium, as Jupyter shows it (the HTML on a blank page, nothing served):
it draws, and "next" and the slider step through the recorded windows; no console error, no request."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Page

from layerlab.functional import conv2d, max_pool2d, relu
from layerlab.notebook import trace_html


def step_panel(page: Page, view: int) -> tuple[str, list[str]]:
    """The stepper's label and the step panel's canvases as images."""
    root = page.locator(".layerlab-trace").nth(view)
    label = root.locator(".ll-label").inner_text()
    images = root.locator(".ll-step canvas").evaluate_all("(cs) => cs.map((c) => c.toDataURL())")
    return label, images


def test_the_view_steps_through_conv2d_and_max_pool2d_windows(page: Page):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 7, 7)).astype(np.float32)
    w = rng.standard_normal((2, 2, 3, 3)).astype(np.float32)
    conv = conv2d(x, w, padding=1)
    pooled = max_pool2d(relu(conv), 2)
    page.set_content(
        f"<!doctype html><meta charset=utf-8><body>{trace_html(conv)}{trace_html(pooled)}</body>"
    )
    for view, total in ((0, conv.num_steps), (1, pooled.num_steps)):
        root = page.locator(".layerlab-trace").nth(view)
        assert root.locator(".ll-maps canvas").count() >= 4  # two output maps and their colour bars
        first_label, first = step_panel(page, view)
        assert first_label.startswith(f"step 1 of {total} shown")
        root.get_by_role("button", name="next ▶").click()
        second_label, second = step_panel(page, view)
        assert second_label.startswith(f"step 2 of {total} shown") and second != first
        root.locator("input[type=range]").fill(str(total - 1))
        assert step_panel(page, view)[0].startswith(f"step {total} of {total} shown")
        assert root.get_by_role("button", name="next ▶").is_disabled()
