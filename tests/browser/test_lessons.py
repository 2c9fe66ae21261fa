"""Lessons in the browser: every shipped lesson opened from the index and stepped to its end with
the clicker's keys, predict-then-reveal, and the camera as an image input."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from app.devserver import CHROMIUM, CHROMIUM_ARGS
from app.lessons import lessons
from tests.browser.conftest import LOCAL_HOSTS
from tests.browser.helpers import idle, map_values, open_conv

LESSONS = lessons()


def counter_is(page: Page, k: int, n: int) -> None:
    expect(page.locator("#lesson-counter")).to_have_text(f"step {k} of {n}", timeout=20_000)


def test_the_index_lists_every_lesson(page: Page, server_url: str) -> None:
    page.goto(server_url + "/")
    cards = page.locator("#lesson-list li")
    expect(cards).to_have_count(len(LESSONS))
    for card, lesson in zip(cards.all(), LESSONS.values(), strict=True):
        expect(card.locator("h3")).to_have_text(lesson.title)
        expect(card).to_contain_text(f"{len(lesson.steps)} steps")
        expect(card).to_contain_text(lesson.summary)


@pytest.mark.parametrize("lesson_id", list(LESSONS))
def test_a_lesson_steps_from_the_index_to_its_end(page: Page, server_url: str, lesson_id: str) -> None:
    lesson = LESSONS[lesson_id]
    n = len(lesson.steps)
    page.goto(server_url + "/")
    page.locator(f"#lesson-list li[data-lesson-id='{lesson_id}'] a").click()
    for k, step in enumerate(lesson.steps, start=1):
        counter_is(page, k, n)
        expect(page.locator("#lesson-step-title")).to_have_text(step.title)
        expect(page.locator("#lesson-narration")).to_have_text(step.narration)
        assert page.evaluate("() => document.body.dataset.lesson") == lesson_id
        assert urlsplit(page.url).path == urlsplit(step.page).path
        idle(page, timeout=20_000)  # the step's page drew what it asked for
        status = page.locator("#status")
        if status.count():
            assert status.inner_text().strip() == "", f"{step.page}: {status.inner_text()}"
        if step.predict:
            covered = page.locator(step.predict.cover[0]).first
            expect(covered).to_be_hidden()
            expect(page.locator("#lesson-question")).to_contain_text(step.predict.question)
            expect(page.locator("#lesson-answer")).to_be_hidden()
            page.keyboard.press("PageDown")  # the first press reveals
            expect(covered).to_be_visible()
            expect(page.locator("#lesson-answer")).to_contain_text(step.predict.answer)
            counter_is(page, k, n)
        if k < n:
            page.keyboard.press("PageDown")
    page.keyboard.press("PageDown")  # past the end: nothing happens
    counter_is(page, n, n)
    page.keyboard.press("PageUp")
    counter_is(page, n - 1, n)
    assert urlsplit(page.url).path == urlsplit(lesson.steps[-2].page).path


def test_n_reveals_b_goes_back_and_exit_keeps_the_view(page: Page, server_url: str) -> None:
    page.goto(server_url + "/pool?step=1&lesson=pooling&ls=2")
    counter_is(page, 2, len(LESSONS["pooling"].steps))
    idle(page)
    expect(page.locator("#output-view")).to_be_hidden()
    page.locator("#lesson-reveal").click()
    expect(page.locator("#output-view")).to_be_visible()
    expect(page.locator("#lesson-answer")).to_contain_text("2")
    page.keyboard.press("b")
    counter_is(page, 1, len(LESSONS["pooling"].steps))
    page.keyboard.press("n")
    counter_is(page, 2, len(LESSONS["pooling"].steps))
    page.locator("#lesson-exit").click()
    expect(page.locator("#lesson-bar")).to_have_count(0)
    expect(page.locator("#output-view")).to_be_visible()
    assert "lesson" not in page.url
    assert page.evaluate("() => document.body.dataset.lesson") is None


def test_an_unknown_lesson_says_so(page: Page, server_url: str, browser_log) -> None:
    browser_log.allow("404")
    page.goto(server_url + "/pool?lesson=no-such-lesson&ls=1")
    expect(page.locator("#lesson-narration")).to_contain_text("no lesson 'no-such-lesson'")


# ---- the camera ------------------------------------------------------------------------------


def test_a_missing_camera_is_explained_without_an_error(page: Page, server_url: str) -> None:
    open_conv(page, server_url)
    page.locator(".camera-button").click()
    expect(page.locator(".camera-status.camera-error")).to_contain_text("camera")


@pytest.fixture(scope="module")
def camera_browser(browser: Browser) -> Iterator[Browser]:
    """A second Chromium (same executable and flags) with a fake camera that needs no prompt."""
    args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    b = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield b
    b.close()


def test_the_camera_feeds_the_conv_page_and_freezes(camera_browser: Browser, server_url: str) -> None:
    ctx = camera_browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.grant_permissions(["camera"], origin=server_url)
    errors: list[str] = []
    requests: list[str] = []
    ctx.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    ctx.on("weberror", lambda e: errors.append(str(e.error)))
    ctx.on("request", lambda r: requests.append(r.url))
    page = ctx.new_page()
    try:
        open_conv(page, server_url)
        before = map_values(page, "map-0")
        page.locator(".camera-button").click()
        page.wait_for_function(
            "() => document.getElementById('image').value !== 'scene'"
            " && Number(document.querySelector('.camera-panel').dataset.framesSent) >= 2",
            timeout=20_000,
        )
        idle(page)
        assert page.locator("#image option:checked").inner_text() == "camera.png"
        assert not np.array_equal(map_values(page, "map-0"), before)  # the map shows the camera frame
        page.keyboard.press("f")
        expect(page.locator(".camera-panel")).to_have_class("camera-panel frozen")
        idle(page)
        frozen = page.locator(".camera-panel").get_attribute("data-frames-sent")
        page.wait_for_timeout(1_200)  # two frame periods: a live camera would have sent more
        assert page.locator(".camera-panel").get_attribute("data-frames-sent") == frozen
        page.keyboard.press("Escape")
        expect(page.locator(".camera-panel")).to_have_count(0)
    finally:
        ctx.close()
    assert errors == []
    assert {urlsplit(u).hostname for u in requests if not u.startswith(("data:", "blob:"))} <= LOCAL_HOSTS
    assert sum("/api/images" in u for u in requests) >= 2
