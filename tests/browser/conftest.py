"""Browser fixtures: one headless Debian Chromium per session, a fresh context per test that
fails the test on any console error, page error or request leaving this machine."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, sync_playwright

from layerlab.app.devserver import CHROMIUM as CHROMIUM_PATH
from layerlab.app.devserver import CHROMIUM_ARGS

CHROMIUM = Path(CHROMIUM_PATH)
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium", pytrace=False
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class BrowserLog:
    """What went wrong in the browser during one test; `allow` a message a test provokes on purpose."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


def guard(ctx: BrowserContext, log: BrowserLog) -> None:
    """Record console and page errors in `log`; abort (and record) any request leaving this machine."""

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            log.errors.append(f"console: {msg.text} ({msg.location.get('url', '')})")

    def on_request(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            log.outside.append(route.request.url)
            route.abort()

    ctx.on("console", on_console)
    ctx.on("weberror", lambda err: log.errors.append(f"page error: {err.error}"))
    ctx.route("**/*", on_request)


def fail_on_problems(log: BrowserLog) -> None:
    """Fail the test if the browser reported anything unexpected (call after closing the context)."""
    problems = [*log.unexpected(), *(f"request to another host: {u}" for u in log.outside)]
    if problems:
        pytest.fail("the browser reported:\n" + "\n".join(problems), pytrace=False)


@contextmanager
def guarded_context(browser: Browser, log: BrowserLog, **options: Any) -> Iterator[BrowserContext]:
    """A new context (`options` as for `browser.new_context`) with `guard` installed; on exit it is
    closed and the test fails if the browser reported a problem."""
    ctx = browser.new_context(**options)
    guard(ctx, log)
    try:
        yield ctx
    finally:
        ctx.close()
        fail_on_problems(log)


@pytest.fixture
def context(browser: Browser, browser_log: BrowserLog) -> Iterator[BrowserContext]:
    with guarded_context(browser, browser_log, viewport={"width": 1400, "height": 1000}) as ctx:
        yield ctx


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def page_paths() -> list[str]:
    """Every page of the app: the index, each operation page (from the index's own list) and /docs."""
    from layerlab.app.operations import OPERATIONS

    return ["/", *(op["href"] for op in OPERATIONS), "/docs"]


_SETTLED = """() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(
    () => resolve(!window.__layerlab || window.__layerlab.busy === 0))))"""


def open_settled(page: Page, url: str, timeout: float = 20_000) -> None:
    """Open `url` and wait until it has drawn: no request in flight (on pages that count them) and
    two animation frames passed with none started."""
    page.goto(url, wait_until="networkidle", timeout=timeout)
    page.wait_for_function(_SETTLED, timeout=timeout)
