"""Pages: every page's first load (bytes on the wire, time to interactive) and step-through playback on /conv.

First load: a fresh browser context per page (empty cache), headless Debian Chromium as in browser_bench.
- bytes: the sum of the CDP Network domain's `encodedDataLength` over every response of the load (headers
  included, bodies as sent: gzip where the server compresses), until the network has been idle 500 ms.
- time to interactive: from navigation start (performance.now() = 0) to the first animation frame after
  DOMContentLoaded in which the page has no request in flight (`__layerlab.busy === 0`, or no probe on the
  page). Module scripts run before DOMContentLoaded and start the page's first requests there, so that frame
  is the first one showing the page drawn from its own data and its first answers.
- first map painted (/conv, cold cache, several loads): from navigation start to the first animation frame in
  which the first feature map's canvas (`#maps canvas.cells`) holds a non-blank pixel, read in the page by a
  requestAnimationFrame loop started before any page script. Beside it, the Plotly-only baseline of the same
  run: the earliest any picture could show if it waited for Plotly.js.
Playback: /conv at 28x28 playing at 60 steps/s; every animation frame records its timestamp and the step
the label shows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from playwright.sync_api import Browser, sync_playwright

from bench.common import Section, Target, ms
from layerlab.app.devserver import CHROMIUM, CHROMIUM_ARGS
from layerlab.app.operations import OPERATIONS
from layerlab.app.routes.pages import PLOTLY_URL

PAGES = ["/", *(op["href"] for op in OPERATIONS)]
BYTES_TARGET_KB = 1600.0
TTI_TARGET_MS = 1000.0
FIRST_MAP_TARGET_MS = 1000.0
FIRST_MAP_SELECTOR = "#maps canvas.cells"  # /conv's first feature map (filter 1's output)
LONG_FRAME_MS = 20.0

# runs before any page script: polls every frame until the page is idle after DOMContentLoaded, and notes
# the first frame showing a picture: a map's canvas with a non-blank pixel, or a Plotly chart outside a map
TTI_INIT = """
(() => {
  let loaded = false; // DOMContentLoaded fires after the module scripts ran (and sent their requests)
  document.addEventListener('DOMContentLoaded', () => { loaded = true; });
  const inked = (cv) => cv.width > 0 && cv.height > 0 &&
    cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data.some((v, i) => i % 4 === 3 && v);
  const picture = () =>
    [...document.querySelectorAll('.mapview canvas.cells')].slice(0, 8).some(inked) ||
    [...document.querySelectorAll('.js-plotly-plot .main-svg')].some((svg) => !svg.closest('.mapview'));
  const poll = (t) => {
    const ll = window.__layerlab;
    if (window.__firstPicture === undefined && picture()) window.__firstPicture = t;
    if (loaded && (!ll || ll.busy === 0)) {
      window.__tti = performance.now();
      window.__ttiPaints = ll ? ll.paints : null;
      if (window.__firstPicture === undefined && picture()) window.__firstPicture = t;
      return;
    }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
})();
"""

# Baseline: a page holding nothing but Plotly.js (the same file, same server, empty cache). Its "interactive"
# is the first animation frame after Plotly.js has finished evaluating: the floor for any page that needs it.
PLOTLY_ONLY_HTML = (
    "<!doctype html><html lang='en'><head><title>Plotly.js only</title>"
    f"<script src='{PLOTLY_URL}' defer></script></head><body><p>baseline</p></body></html>"
)
PLOTLY_ONLY_INIT = """
(() => {
  let P;
  Object.defineProperty(window, 'Plotly', { configurable: true, get() { return P; }, set(v) {
    P = v;
    requestAnimationFrame(() => { window.__tti = performance.now(); });
  } });
})();
"""

# runs before any page script: every animation frame, reads the first feature map's canvas (32x32 by default:
# a few microseconds) until one of its pixels is not transparent; that frame's time is the first paint
FIRST_MAP_INIT = """
((selector) => {
  const poll = (t) => {
    const canvas = document.querySelector(selector);
    if (canvas && canvas.width > 0 && canvas.height > 0) {
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < px.length; i += 4) {
        if (px[i] !== 0) {
          window.__firstMap = t;
          window.__plotlyAtFirstMap = Boolean(window.Plotly);
          return;
        }
      }
    }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
})(__SELECTOR__);
""".replace("__SELECTOR__", json.dumps(FIRST_MAP_SELECTOR))

PLAYBACK_JS = """
async ({ frames }) => {
  const label = document.getElementById('step-label');
  const step = () => Number((/^step (\\d+)/.exec(label.textContent) || [0, NaN])[1]);
  const out = [];
  await new Promise((resolve) => {
    const frame = (t) => {
      out.push([t, step()]);
      if (out.length >= frames) resolve(); else requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  return out;
}
"""


def _first_load(browser: Browser, url: str) -> dict:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        ctx.add_init_script(TTI_INIT)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        sizes: dict[str, float] = {}
        urls: dict[str, str] = {}
        cdp.on("Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
        cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        page.goto(url, wait_until="networkidle", timeout=60_000)
        page.wait_for_function("() => window.__tti !== undefined", timeout=30_000)
        tti = page.evaluate(
            "() => ({ tti: window.__tti, paints: window.__ttiPaints, picture: window.__firstPicture ?? null,"
            " nav: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd })"
        )
        if errors:
            raise RuntimeError(f"{url}: " + "; ".join(errors))
        largest = sorted(((sizes[k], urls.get(k, "?")) for k in sizes), reverse=True)[:3]
        return {
            "bytes": sum(sizes.values()),
            "responses": len(sizes),
            "tti_ms": tti["tti"],
            "first_picture_ms": tti["picture"],
            "dcl_ms": tti["nav"],
            "paints_at_tti": tti["paints"],
            "largest": [[round(b), re.sub(r"^https?://[^/]+", "", u)] for b, u in largest],
        }
    finally:
        ctx.close()


def _plotly_only(browser: Browser, server: str) -> float:
    """Time to interactive of a page that loads Plotly.js and nothing else (ms from navigation start)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        ctx.add_init_script(PLOTLY_ONLY_INIT)
        page = ctx.new_page()
        page.route(
            f"{server}/__plotly_only", lambda r: r.fulfill(body=PLOTLY_ONLY_HTML, content_type="text/html")
        )
        page.goto(f"{server}/__plotly_only", wait_until="networkidle", timeout=60_000)
        page.wait_for_function("() => window.__tti !== undefined", timeout=30_000)
        return float(page.evaluate("() => window.__tti"))
    finally:
        ctx.close()


def _first_map(browser: Browser, server: str) -> dict:
    """/conv in a fresh context (empty cache): when its first feature map shows (ms from navigation start)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        ctx.add_init_script(FIRST_MAP_INIT)
        page = ctx.new_page()
        page.goto(f"{server}/conv", wait_until="commit", timeout=60_000)
        page.wait_for_function("() => window.__firstMap !== undefined", timeout=30_000)
        return page.evaluate("() => ({ ms: window.__firstMap, plotly: window.__plotlyAtFirstMap })")
    finally:
        ctx.close()


def _playback(browser: Browser, server: str, frames: int) -> dict:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = ctx.new_page()
        page.goto(f"{server}/conv?image=scene&size=28", wait_until="networkidle")
        page.wait_for_function(
            "() => window.__layerlab.busy === 0 && /^step \\d+ of \\d+/.test("
            "document.getElementById('step-label').textContent)",
            timeout=30_000,
        )
        page.select_option("#speed", "60")
        label = page.text_content("#step-label") or ""
        total = int(re.match(r"step \d+ of (\d+)", label).group(1))
        page.click("[data-act='play']")
        samples = page.evaluate(PLAYBACK_JS, {"frames": frames})
        page.click("[data-act='play']")  # pause
    finally:
        ctx.close()
    t = np.array([s[0] for s in samples])
    steps = np.array([s[1] for s in samples])
    intervals = np.diff(t)
    advance = np.diff(steps)
    playing = advance[steps[1:] < total]  # frames before the last step
    return {
        "frames": len(samples),
        "total_steps": total,
        "median_frame_ms": float(np.median(intervals)),
        "p95_frame_ms": float(np.percentile(intervals, 95)),
        "long_frames": int((intervals > LONG_FRAME_MS).sum()),
        "stalled_frames": int((playing == 0).sum()),  # the step did not move in this frame
        "skipped_steps": int(np.clip(playing - 1, 0, None).sum()),  # steps never shown (jumped over)
        "steps_advanced": int(steps[-1] - steps[0]),
        "steps_per_s": float((steps[-1] - steps[0]) / ((t[-1] - t[0]) / 1e3)),
    }


def run(quick: bool, server: str) -> Section:
    frames = 180 if quick else 600  # 3 s or 10 s at 60 Hz (784 steps last 13 s)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: `make chromium` installs Debian's Chromium")
    loads: dict[str, dict] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            _first_load(browser, f"{server}/")  # warm the server (templates, first imports)
            for path in PAGES:
                loads[path] = _first_load(browser, server + path)
            plotly_only = float(np.median([_plotly_only(browser, server) for _ in range(3 if quick else 5)]))
            first_maps = [_first_map(browser, server) for _ in range(7 if quick else 21)]
            play = _playback(browser, server, frames)
        finally:
            browser.close()

    section = Section(
        title="Pages: first load on localhost (empty cache) and /conv playback at 28x28, 60 steps/s",
        headers=[
            "page",
            "responses",
            "KB on the wire",
            "DOMContentLoaded",
            "first picture",
            "interactive",
            "over Plotly-only",
            "largest response",
        ],
        data={"pages": loads, "playback": play, "plotly_only_tti_ms": plotly_only, "first_map": first_maps},
    )
    for path, r in loads.items():
        size, name = r["largest"][0]
        section.rows.append(
            [
                path,
                str(r["responses"]),
                f"{r['bytes'] / 1000:.0f}",
                ms(r["dcl_ms"]),
                ms(r["first_picture_ms"]) if r["first_picture_ms"] is not None else "none",
                ms(r["tti_ms"]),
                f"{r['tti_ms'] - plotly_only:+.0f}" if path != "/" else "no Plotly",
                f"{name} ({size / 1000:.0f} KB)",
            ]
        )
    first = np.array([f["ms"] for f in first_maps])
    first_p50, first_p95 = float(np.median(first)), float(np.percentile(first, 95))
    heaviest = max(loads, key=lambda k: loads[k]["bytes"])
    slowest = max(loads, key=lambda k: loads[k]["tti_ms"])
    section.targets += [
        Target(
            f"first load bytes, heaviest page ({heaviest})",
            loads[heaviest]["bytes"] / 1000,
            BYTES_TARGET_KB,
            "KB",
        ),
        Target(
            f"time to interactive, slowest page ({slowest})", loads[slowest]["tti_ms"], TTI_TARGET_MS, "ms"
        ),
        Target(
            "/conv first map painted after navigation, cold cache, p95", first_p95, FIRST_MAP_TARGET_MS, "ms"
        ),
        Target("playback frames that did not advance at 60 steps/s (28x28)", play["stalled_frames"], 0, "x"),
    ]
    section.notes += [
        "KB: 1000 bytes, headers included, bodies as sent (gzip where the server compresses); times in ms "
        "from navigation start; first picture: the first frame showing a map's painted canvas or a Plotly "
        "chart; interactive: the first frame after DOMContentLoaded, no request in flight (Plotly.js, once "
        "asked for, counts until it has been evaluated)",
        f"baseline: a page holding only Plotly.js (same file and server, empty cache) is interactive at "
        f"{ms(plotly_only)} ms (median of runs): Plotly.js's own evaluation is one long task, the floor "
        "of every page but the index; 'over Plotly-only' is what the page itself adds",
        f"/conv first map painted (first frame with a non-blank pixel on its canvas, from navigation start, "
        f"empty cache) over {len(first)} loads: median {ms(first_p50)} ms, p95 {ms(first_p95)} ms, "
        f"Plotly.js evaluated by then in {sum(f['plotly'] for f in first_maps)} of {len(first)} "
        f"(Plotly-only baseline of this run: {ms(plotly_only)} ms)",
        f"playback over {play['frames']} frames: median frame {ms(play['median_frame_ms'])} ms "
        f"(p95 {ms(play['p95_frame_ms'])}), {play['long_frames']} frames over {LONG_FRAME_MS:.0f} ms, "
        f"{play['stalled_frames']} frames where the step did not advance, "
        f"{play['skipped_steps']} steps jumped over; {play['steps_per_s']:.1f} steps/s achieved",
    ]
    return section
