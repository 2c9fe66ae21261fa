"""Browser fixtures: one headless Debian Chromium per session, a fresh context per test that
fails the test on any console error, page error or request leaving this machine."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, sync_playwright

from app.devserver import CHROMIUM as CHROMIUM_PATH
from app.devserver import CHROMIUM_ARGS

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


@pytest.fixture
def context(browser: Browser, browser_log: BrowserLog) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            browser_log.errors.append(f"console: {msg.text} ({msg.location.get('url', '')})")

    def on_request(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            browser_log.outside.append(route.request.url)
            route.abort()

    ctx.on("console", on_console)
    ctx.on("weberror", lambda err: browser_log.errors.append(f"page error: {err.error}"))
    ctx.route("**/*", on_request)
    yield ctx
    ctx.close()
    problems = [*browser_log.unexpected(), *(f"request to another host: {u}" for u in browser_log.outside)]
    if problems:
        pytest.fail("the browser reported:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
