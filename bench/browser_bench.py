"""Browser: kernel edit -> feature map repainted on the conv page, timed inside headless Chromium."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from bench.common import Section, Target, ms, ratio, summarize
from layerlab.app.devserver import CHROMIUM, CHROMIUM_ARGS

SIZES = (64, 256)
P95_TARGET_MS = {64: 18.0, 256: 25.0}
CELL = "0,1,1"  # channel 0, the kernel's centre

# One trial: set a new value in a kernel cell, fire the input event the editor listens to,
# wait for the map's paint event, then two animation frames (the second shows it on screen).
# Trials never overlap: each starts once every request of the previous edit has finished
# (`busy` counts the page's live and trace requests in flight).
TRIALS_JS = """
async ({ n, warmup, cell }) => {
  const raf = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const ll = window.__layerlab;
  const input = document.querySelector(`#kernel-editor input[data-cell="${cell}"]`);
  const until = async (ok, what) => {
    const deadline = performance.now() + 30000;
    while (!ok()) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await raf();
    }
  };
  const edit = [], drawn = [], fetch = [], settle = [];
  const idle = async (timed) => {
    const s0 = performance.now();
    await until(() => ll.busy === 0, 'the page to go idle');
    if (timed) settle.push(performance.now() - s0);
  };
  for (let i = 0; i < warmup + n; i++) {
    await idle(i > warmup);
    performance.clearResourceTimings();
    input.value = String(8 + (i % 2 ? 0.5 : -0.5) + i / 1000);
    // start at a random point of the frame, as a person's keystroke does
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 16.7));
    const map = ll.maps['map-0'].el;
    const painted = new Promise((resolve) => map.addEventListener('paint', resolve, { once: true }));
    const t0 = performance.now();
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await painted;
    const tp = performance.now();
    await raf();
    await raf();
    const t1 = performance.now();
    if (i < warmup) continue;
    edit.push(t1 - t0);
    drawn.push(tp - t0);
    const live = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/api/conv/live'));
    fetch.push(live ? live.responseEnd - live.startTime : null);
  }
  await idle(true);
  return { edit, drawn, fetch, settle };
}
"""

# Baseline: a page that repaints at no cost at all: the same two-frame wait, no edit, from the
# same random point of a frame.
BASELINE_JS = """
async ({ n }) => {
  const raf = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const out = [];
  for (let i = 0; i < n; i++) {
    await raf();
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 16.7));
    const t0 = performance.now();
    await raf();
    await raf();
    out.push(performance.now() - t0);
  }
  return out;
}
"""


def _idle(page: Page, size: int | None = None) -> None:
    """Wait until the page has no request in flight and map-0 is drawn (at `size` rows if given)."""
    page.wait_for_function(
        "(size) => { const ll = window.__layerlab, m = ll && ll.maps['map-0'];"
        " return m && ll.busy === 0 && (size === null || m.rows === size); }",
        arg=size,
        timeout=60_000,
    )


def run(quick: bool, server: str) -> Section:
    n, warmup = (8, 2) if quick else (40, 3)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: `make chromium` installs Debian's Chromium")
    results = {}
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        version = browser.version
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{server}/conv")
            _idle(page)
            for size in SIZES:
                page.select_option("#size", str(size))
                _idle(page, size)
                trials = page.evaluate(TRIALS_JS, {"n": n, "warmup": warmup, "cell": CELL})
                baseline = page.evaluate(BASELINE_JS, {"n": n})
                status = page.text_content("#status") or ""
                if status.strip():
                    errors.append(f"the page shows an error at size {size}: {status.strip()}")
                results[size] = {**trials, "baseline": baseline}
        finally:
            browser.close()
    if errors:
        raise RuntimeError("the conv page failed during the benchmark: " + "; ".join(errors))

    section = Section(
        title=f"Browser: kernel edit -> feature map repainted, timed in the page ({n} trials per size)",
        headers=[
            "size",
            "edit p50",
            "edit p95",
            "drawn p50",
            "drawn p95",
            "target p95",
            "baseline p50",
            "baseline p95",
            "p95/baseline",
            "live fetch p50",
            "settle p50",
        ],
        data={"chromium": version, "trials": n, "warmup": warmup, "cell": CELL, "args": CHROMIUM_ARGS},
    )
    for size, r in results.items():
        edit, base, drawn = summarize(r["edit"]), summarize(r["baseline"]), summarize(r["drawn"])
        posts = [f for f in r["fetch"] if f is not None]
        fetch = summarize(posts) if posts else None  # none when the live edits went over the WebSocket
        settle = summarize(r["settle"])
        over = edit.p95_ms / base.p95_ms
        section.rows.append(
            [
                f"{size}x{size}",
                ms(edit.median_ms),
                ms(edit.p95_ms),
                ms(drawn.median_ms),
                ms(drawn.p95_ms),
                f"<= {P95_TARGET_MS[size]:.0f}",
                ms(base.median_ms),
                ms(base.p95_ms),
                ratio(over),
                ms(fetch.median_ms) if fetch else "socket",
                ms(settle.median_ms),
            ]
        )
        section.targets.append(
            Target(f"edit -> repaint p95 at {size}x{size}", edit.p95_ms, P95_TARGET_MS[size], "ms")
        )
        section.data[str(size)] = {
            "edit": edit.__dict__,
            "drawn": drawn.__dict__,
            "baseline": base.__dict__,
            "p95_over_baseline_p95": over,
            "p95_minus_baseline_p50_ms": edit.p95_ms - base.median_ms,
            "live_fetch": fetch.__dict__ if fetch else None,
            "settle": settle.__dict__,
            "samples_ms": r,
        }
    # the frame length: the slowest baseline is two whole frames (it started just after a frame)
    frame = max(b for r in results.values() for b in r["baseline"]) / 2
    section.notes += [
        "all figures in ms; edit: input event -> second animation frame after the map's paint; "
        "drawn: input event -> the new values painted on the map's canvas",
        "baseline: a free repaint: two animation frames from the same random point of a frame, no edit; "
        "p95/baseline = edit p95 over baseline p95",
        f"one animation frame here lasts {ms(frame)} ms: waiting for the second frame alone costs "
        f"{ms(frame)} to {ms(2 * frame)} ms, whatever the page does",
        "live fetch: the page's POST /api/conv/live (Resource Timing), or 'socket' when its live edits "
        "went over the WebSocket (the latency part times those); settle: how long the "
        "page stayed busy after the repaint (the /api/conv/trace request every edit also makes)",
    ]
    return section
