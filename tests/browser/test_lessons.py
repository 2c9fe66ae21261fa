"""Lessons in the browser: every shipped lesson stepped to its end with the clicker's keys in presenter
view at 1280x720, each step's subject on screen and marked, predict-then-reveal, and the camera as an
image input."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from layerlab.app.devserver import CHROMIUM, CHROMIUM_ARGS
from layerlab.app.lessons import Lesson, Step, lessons, step_url
from tests.browser.conftest import LOCAL_HOSTS, guarded_context
from tests.browser.helpers import idle, map_values, open_conv

LESSONS = lessons()


PRESENTER_SCREEN = {"width": 1280, "height": 720}
BAR_MAX = 130  # px: the lesson bar leaves the room at least 80% of a 720-px screen

# Where a step's elements are and how they are marked: for each selector, every drawn element it
# matches, with its box, whether it carries the focus mark and a ring around it, and whether a
# predict cover hides it behind its question.
_SUBJECT = """([focus, cover]) => {
  const rings = [...document.querySelectorAll('.lesson-spotlight .lesson-ring')]
    .map((r) => r.getBoundingClientRect());
  const describe = (sel) => [...document.querySelectorAll(sel)]
    .filter((el) => el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().height > 0)
    .map((el) => {
      const b = el.getBoundingClientRect();
      return {
        box: [b.left, b.top, b.right, b.bottom],
        marked: el.dataset.lessonFocus !== undefined,
        ringed: rings.some((r) => r.left <= b.left && r.top <= b.top
          && r.right >= b.right && r.bottom >= b.bottom),
        covered: el.classList.contains('lesson-covered') && getComputedStyle(el).visibility === 'hidden'
          && getComputedStyle(el, '::after').visibility === 'visible',
      };
    });
  return {
    barBottom: document.getElementById('lesson-bar').getBoundingClientRect().bottom,
    barHeight: document.getElementById('lesson-bar').getBoundingClientRect().height,
    width: innerWidth,
    height: innerHeight,
    focus: Object.fromEntries(focus.map((s) => [s, describe(s)])),
    cover: Object.fromEntries(cover.map((s) => [s, describe(s)])),
  };
}"""


def presenter_link(lesson: Lesson, index: int) -> str:
    """Step `index`'s link with presenter view on, as a teacher opens it on the projector."""
    parts = urlsplit(step_url(lesson, index))
    return urlunsplit(parts._replace(query=parts.query + "&present=1"))


def counter_is(page: Page, k: int, n: int) -> None:
    expect(page.locator("#lesson-counter")).to_have_text(f"step {k} of {n}", timeout=20_000)


def pointed(page: Page) -> None:
    """Wait until the player has brought the step's subject into view and marked it."""
    page.wait_for_selector(".lesson-spotlight[data-state=ready]", state="attached", timeout=20_000)
    page.wait_for_function(_TWO_FRAMES)


_TWO_FRAMES = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def subject(page: Page, step: Step) -> dict:
    return page.evaluate(_SUBJECT, [step.focus, step.predict.cover if step.predict else []])


def assert_on_screen(where: str, found: dict, kind: str) -> None:
    """Every selector of `kind` matches a drawn element, and each lies wholly between the lesson bar
    and the bottom of the window."""
    for sel, elements in found[kind].items():
        assert elements, f"{where}: {kind} {sel!r} matches nothing drawn"
        for el in elements:
            left, top, right, bottom = el["box"]
            inside = left >= -1 and right <= found["width"] + 1 and bottom <= found["height"] + 1
            assert inside and top >= found["barBottom"] - 1, (
                f"{where}: {kind} {sel!r} at {[round(v) for v in el['box']]} is not on screen below the"
                f" lesson bar (its bottom at {round(found['barBottom'])},"
                f" the window {found['width']}x{found['height']})"
            )


def test_the_index_lists_every_lesson_and_opens_the_first_step(page: Page, server_url: str) -> None:
    page.goto(server_url + "/")
    cards = page.locator("#lesson-list li")
    expect(cards).to_have_count(len(LESSONS))
    for card, lesson in zip(cards.all(), LESSONS.values(), strict=True):
        expect(card.locator("h3")).to_have_text(lesson.title)
        expect(card).to_contain_text(f"{len(lesson.steps)} steps")
        expect(card).to_contain_text(lesson.summary)
    first = next(iter(LESSONS.values()))
    cards.first.locator("a").click()
    counter_is(page, 1, len(first.steps))
    assert urlsplit(page.url).path == urlsplit(first.steps[0].page).path


@pytest.mark.parametrize("lesson_id", list(LESSONS))
def test_every_step_points_at_its_subject_in_presenter_view(
    browser: Browser, browser_log, server_url: str, lesson_id: str
) -> None:
    """Step through a lesson with the clicker's key at 1280x720 in presenter view: each step's focus
    (and what a predict step covers) is on screen below the bar and marked; Reveal shows the cover."""
    lesson = LESSONS[lesson_id]
    n = len(lesson.steps)
    with guarded_context(browser, browser_log, viewport=PRESENTER_SCREEN) as ctx:
        page = ctx.new_page()
        page.goto(server_url + presenter_link(lesson, 0))
        for k, step in enumerate(lesson.steps, start=1):
            where = f"{lesson_id} step {k} ({step.page})"
            counter_is(page, k, n)
            expect(page.locator("#lesson-step-title")).to_have_text(step.title)
            expect(page.locator("#lesson-narration")).to_have_text(step.narration)
            assert page.evaluate("() => document.body.dataset.lesson") == lesson_id
            assert urlsplit(page.url).path == urlsplit(step.page).path
            presenting = page.evaluate("() => document.documentElement.classList.contains('presenter')")
            assert "present=1" in page.url and presenting, f"{where}: presenter view was not kept"
            pointed(page)
            status = page.locator("#status")
            if status.count():
                assert status.inner_text().strip() == "", f"{where}: {status.inner_text()}"
            found = subject(page, step)
            assert found["barHeight"] <= BAR_MAX, f"{where}: a {found['barHeight']:.0f}-px bar"
            assert_on_screen(where, found, "focus")
            for sel, elements in found["focus"].items():
                assert all(el["marked"] and el["ringed"] for el in elements), f"{where}: {sel!r} unmarked"
            if step.predict:
                assert_on_screen(where, found, "cover")
                for sel, elements in found["cover"].items():
                    assert all(el["covered"] for el in elements), f"{where}: {sel!r} is not covered"
                expect(page.locator("#lesson-question")).to_contain_text(step.predict.question)
                expect(page.locator("#lesson-answer")).to_be_hidden()
                left, top, right, bottom = found["cover"][step.predict.cover[0]][0]["box"]
                clip = {"x": left, "y": top, "width": right - left, "height": min(bottom, 720) - top}
                before = page.screenshot(clip=clip)
                page.keyboard.press("PageDown")  # the first press reveals
                expect(page.locator("#lesson-answer")).to_contain_text(step.predict.answer)
                for sel in step.predict.cover:
                    expect(page.locator(sel).first).to_be_visible()
                    expect(page.locator(f"{sel}.lesson-covered")).to_have_count(0)
                page.wait_for_function(_TWO_FRAMES)
                assert page.screenshot(clip=clip) != before, f"{where}: Reveal changed nothing on screen"
                page.wait_for_function(_TWO_FRAMES)  # the taller bar: the subject placed below it again
                assert_on_screen(f"{where}, revealed", subject(page, step), "focus")
                counter_is(page, k, n)
            if k < n:
                page.keyboard.press("PageDown")
        page.keyboard.press("PageDown")  # past the end: nothing happens
        counter_is(page, n, n)
        page.keyboard.press("PageUp")
        counter_is(page, n - 1, n)
        assert urlsplit(page.url).path == urlsplit(lesson.steps[-2].page).path


def test_the_mark_follows_a_redraw_and_a_scroll_and_exit_removes_it(page: Page, server_url: str) -> None:
    page.set_viewport_size(PRESENTER_SCREEN)
    step = LESSONS["normalization"].steps[0]
    page.goto(server_url + presenter_link(LESSONS["normalization"], 0))
    pointed(page)
    sel = step.focus[0]
    page.locator(sel).evaluate("(el) => el.replaceWith(el.cloneNode(true))")  # a page rebuilding its figure
    page.wait_for_function(_TWO_FRAMES)
    assert all(el["marked"] and el["ringed"] for el in subject(page, step)["focus"][sel])
    page.mouse.wheel(0, 120)  # the class asks to see what is above: the rings move with the page
    page.wait_for_function("(y) => window.scrollY !== y", arg=page.evaluate("() => window.scrollY"))
    page.wait_for_function(_TWO_FRAMES)
    assert all(el["ringed"] for el in subject(page, step)["focus"][sel])
    page.locator("#lesson-exit").click()
    expect(page.locator(".lesson-spotlight")).to_have_count(0)
    expect(page.locator("[data-lesson-focus]")).to_have_count(0)


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
