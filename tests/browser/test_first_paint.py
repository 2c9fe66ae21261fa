"""First picture first: /conv paints its first feature map from the engine's numbers while Plotly.js is still
on its way, and Plotly's frame (title, axes) joins it, around the same cells, once Plotly.js arrives."""

from __future__ import annotations

from playwright.sync_api import Page, Route

from layerlab.app.routes.pages import PLOTLY_URL
from tests.browser.helpers import DEFAULT_STATE, assert_map, engine_maps, idle

# the map's canvas as drawn: its size, where it sits, and every pixel against colors.js's paint of the
# engine's numbers with the map's own range
CANVAS = """async ([id, values]) => {
  const { paint } = await import('/static/js/colors.js');
  const m = window.__layerlab.maps[id];
  const px = m.canvas.getContext('2d').getImageData(0, 0, m.canvas.width, m.canvas.height).data;
  const want = new Uint8ClampedArray(px.length);
  paint(want, values, m.lo, m.hi, m.lut);
  const bar = m.bar.getContext('2d').getImageData(0, 0, m.bar.width, m.bar.height).data;
  const r = m.canvas.getBoundingClientRect();
  return {
    width: m.canvas.width, height: m.canvas.height, box: [r.x, r.y, r.width, r.height], cell: m.cell,
    same: px.every((v, i) => v === want[i]), opaque: px.filter((v, i) => i % 4 === 3 && v === 255).length,
    colours: new Set(Array.from({ length: px.length / 4 }, (_, i) => px.slice(4 * i, 4 * i + 3).join())).size,
    barInk: bar.filter((v, i) => i % 4 === 3 && v > 0).length,
    frame: m.plot.querySelectorAll('.main-svg').length, plotly: Boolean(window.Plotly),
  };
}"""

# Plotly's frame of the map, once drawn: its title, its tick labels and its plot area's box on the page
FRAME = """(id) => {
  const m = window.__layerlab.maps[id];
  const ticks = (axis) => Array.from(m.plot.querySelectorAll(`.${axis}tick text`), (t) => t.textContent);
  const xs = m.plot.querySelectorAll('.xtick text');
  const ys = m.plot.querySelectorAll('.ytick text');
  const first = (nodes) => nodes[0].getBoundingClientRect();
  return { title: m.plot.querySelector('.gtitle')?.textContent, xticks: ticks('x'), yticks: ticks('y'),
           xtickTop: xs.length ? first(xs).top : null,
           ytickRight: ys.length ? first(ys).right : null };
}"""


def test_conv_first_map_paints_before_plotly_arrives_and_gets_its_frame_after_it(
    page: Page, server_url: str
) -> None:
    held: list[Route] = []
    page.route(f"**{PLOTLY_URL}", lambda route: held.append(route))  # held back until released below
    # DOMContentLoaded must not wait for Plotly.js (this times out if it does)
    page.goto(f"{server_url}/conv", wait_until="domcontentloaded", timeout=10_000)
    page.wait_for_function("() => window.__layerlab?.maps?.['map-0']?.values", timeout=10_000)
    expected = engine_maps(DEFAULT_STATE)[0]
    assert_map(page, "map-0", expected)
    before = page.evaluate(CANVAS, ["map-0", expected.ravel().tolist()])
    assert held, "the page never asked for Plotly.js"
    assert not before["plotly"] and before["frame"] == 0, "Plotly.js ran although it was held back"
    rows, cols = expected.shape
    assert (before["height"], before["width"]) == (rows, cols)
    assert before["same"], "the canvas does not hold the engine's numbers painted with the map's colours"
    assert before["opaque"] == rows * cols and before["colours"] > 10  # a picture, not a blank or a flat fill
    assert before["box"][2:] == [cols * before["cell"], rows * before["cell"]]  # at the size it will keep
    assert before["barInk"] > 100  # the colour bar is drawn too

    for route in held:
        route.continue_()
    page.wait_for_function(
        "() => window.Plotly && window.__layerlab.maps['map-0'].plot.querySelector('.gtitle')"
    )
    idle(page)
    after = page.evaluate(CANVAS, ["map-0", expected.ravel().tolist()])
    assert after["same"] and after["box"] == before["box"], "the cells moved or changed when the frame came"
    frame = page.evaluate(FRAME, "map-0")
    assert frame["title"] == page.evaluate("() => window.__layerlab.maps['map-0'].title")
    assert frame["xticks"][0] == "0" and frame["yticks"][0] == "0"
    # the axes sit around the cells: x tick labels just under them, y tick labels just left of them
    x, y, w, h = after["box"]
    assert 0 <= frame["xtickTop"] - (y + h) <= 12
    assert 0 <= x - frame["ytickRight"] <= 12


def test_a_page_starting_early_keeps_the_lesson_in_its_address_when_the_player_loads_late(
    page: Page, server_url: str
) -> None:
    """Nothing waits for Plotly.js any more, so a page may rewrite its address before a slow lesson
    player has run: pages start once every script has (kit/start.js), and the lesson plays."""

    def late(route: Route) -> None:
        page.wait_for_timeout(800)  # the page's 150 ms address write would come first
        route.continue_()

    page.route("**/static/js/lesson/player.js", late)
    page.goto(f"{server_url}/attention?step=5&present=1&lesson=attention-step-by-step&ls=2")
    page.wait_for_function("() => document.getElementById('lesson-counter')?.textContent === 'step 2 of 5'")
    idle(page)
    assert "lesson=attention-step-by-step" in page.url and "ls=2" in page.url and "present=1" in page.url
