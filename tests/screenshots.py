"""Screenshots of every page, normal and presenter view, at 1280x720, 1440x900 and 390x844.

    .venv/bin/python -m tests.screenshots [--out screenshots] [--only /conv /pool] [--full]

Starts the app on a free port, opens each page in Debian's Chromium and writes one PNG per page, view
and size (`conv-presenter-1280x720.png`): what the room sees on the first screen, or the whole page
with --full. Look at them before calling a change to a page done.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

from layerlab.app.devserver import CHROMIUM, CHROMIUM_ARGS, app_server
from layerlab.app.operations import OPERATIONS

SIZES = [(1280, 720), (1440, 900), (390, 844)]
SETTLED = """() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(
    () => resolve(!window.__layerlab || window.__layerlab.busy === 0))))"""


def page_paths() -> list[str]:
    return ["/", *(op["href"] for op in OPERATIONS)]


def slug(path: str) -> str:
    return path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-").replace("&", "-") or "index"


def shoot(out: Path, paths: list[str], full: bool) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with app_server() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for width, height in SIZES:
            ctx = browser.new_context(viewport={"width": width, "height": height})
            page = ctx.new_page()
            for path in paths:
                for view in ("normal", "presenter"):
                    sep = "&" if "?" in path else "?"
                    url = base + path + (f"{sep}present=1" if view == "presenter" else "")
                    page.goto(url, wait_until="networkidle")
                    page.wait_for_function(SETTLED)
                    page.wait_for_timeout(250)
                    file = out / f"{slug(path)}-{view}-{width}x{height}.png"
                    page.screenshot(path=str(file), full_page=full)
                    written.append(file)
            ctx.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="folder for the PNGs")
    parser.add_argument("--only", nargs="*", help="page paths (with a query if you like), e.g. /conv /pool")
    parser.add_argument("--full", action="store_true", help="the whole page, not just the first screen")
    args = parser.parse_args()
    files = shoot(args.out, args.only or page_paths(), args.full)
    print(f"{len(files)} screenshots in {args.out}/")


if __name__ == "__main__":
    main()
