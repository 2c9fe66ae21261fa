"""The calculator page in a real browser: the table shows the engine's numbers for the stack on
screen, edits recompute it, a broken layer is named on its row, and the link reopens the view."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

from layerlab.engine.calculator import PRESETS, Layer, StackError, analyse
from tests.browser.conftest import BrowserLog, guarded_context
from tests.browser.helpers import cell_point, idle, map_view, text

ROWS = "#layers-body tr.layer-row"


def open_calculator(page: Page, base_url: str, query: str = "") -> None:
    """Open /calculator and wait until the table holds numbers and no request is in flight."""
    page.goto(f"{base_url}/calculator{query}")
    page.wait_for_function(
        "() => window.__layerlab && document.querySelector('#layers-body .params')"
        " && document.querySelector('#layers-body .params').textContent !== ''",
        timeout=20_000,
    )
    idle(page)


def table(page: Page) -> list[dict[str, str]]:
    """Each layer row's texts: output shape both ways, parameters, MACs, field size, torch line."""
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].map((tr) => ({
            hwc: tr.querySelector('.hwc').textContent, chw: tr.querySelector('.chw').textContent,
            params: tr.querySelector('.params').textContent, macs: tr.querySelector('.macs').textContent,
            rf: tr.querySelector('.rf-size').textContent, torch: tr.querySelector('.torch').textContent,
            failed: tr.classList.contains('failed'), selected: tr.classList.contains('selected'),
        }))""",
        ROWS,
    )


def expected_rows(shape: tuple[int, ...], layers: list[Layer]) -> list[dict[str, str]]:
    """What the table should say for a stack, from layerlab.engine.calculator in this process."""

    def hwc(s: tuple[int, ...]) -> str:
        return f"{s[0]:,}" if len(s) == 1 else "×".join(f"{v:,}" for v in (*s[1:], s[0]))

    return [
        {
            "hwc": hwc(r.output_shape),
            "chw": f"({r.output_shape[0]},)" if len(r.output_shape) == 1 else str(r.output_shape),
            "params": f"{r.parameters:,}",
            "macs": f"{r.macs:,}",
            "rf": "whole input" if r.receptive_field is None else "×".join(map(str, r.receptive_field)),
            "torch": r.torch,
        }
        for r in analyse(shape, layers).layers
    ]


def numbers(rows: list[dict]) -> list[dict]:
    return [{k: row[k] for k in ("hwc", "chw", "params", "macs", "rf", "torch")} for row in rows]


def test_seed002_preset_fills_the_table_with_the_seed_summary(page: Page, server_url: str) -> None:
    open_calculator(page, server_url)
    page.click('#presets button[data-preset="seed001_mlp_3_4_2"]')
    idle(page)
    assert text(page, "#total-params") == "26"
    page.click('#presets button[data-preset="seed002_mnist"]')
    idle(page)
    rows = table(page)
    shapes = [
        "26×26×32",
        "26×26×32",
        "13×13×32",
        "11×11×64",
        "11×11×64",
        "5×5×64",
        "1,600",
        "1,600",
        "10",
        "10",
    ]
    assert [r["hwc"] for r in rows] == shapes
    assert rows[0]["chw"] == "(32, 26, 26)" and rows[6]["chw"] == "(1600,)"
    assert [r["params"] for r in rows] == ["320", "0", "0", "18,496", "0", "0", "0", "0", "16,010", "0"]
    assert [r["rf"] for r in rows[:6]] == ["3×3", "3×3", "4×4", "8×8", "8×8", "10×10"]
    assert text(page, "#total-params") == "34,826"
    preset = PRESETS["seed002_mnist"]
    assert numbers(rows) == expected_rows(preset["input_shape"], preset["layers"])
    assert text(page, "#preset-note").endswith(preset["note"])
    assert text(page, "#status") == ""


def test_editing_out_channels_recomputes_every_count(page: Page, server_url: str) -> None:
    open_calculator(page, server_url)
    page.fill(f'{ROWS}[data-index="0"] input[data-arg="out_channels"]', "16")
    idle(page)
    preset = PRESETS["seed002_mnist"]
    layers = list(preset["layers"])
    layers[0] = Layer("Conv2d", {"out_channels": 16, "kernel_size": 3})
    expected = expected_rows(preset["input_shape"], layers)
    rows = table(page)
    assert (rows[0]["params"], rows[3]["params"]) == ("160", expected[3]["params"]) == ("160", "9,280")
    assert numbers(rows) == expected
    assert text(page, "#total-params") == f"{analyse(preset['input_shape'], layers).total_parameters:,}"
    assert text(page, "#preset-note") == ""  # no longer the seed's stack


def test_a_layer_that_breaks_the_stack_is_named_on_its_row(
    page: Page, server_url: str, browser_log: BrowserLog
) -> None:
    browser_log.allow(r"status of 422")  # the calculator's answer to a stack torch would reject
    open_calculator(page, server_url)
    page.select_option("#add-kind", "Conv2d")
    page.click("#add-layer")
    idle(page)
    preset = PRESETS["seed002_mnist"]
    layers = [*preset["layers"], Layer("Conv2d", {"out_channels": 8, "kernel_size": 3})]
    try:
        analyse(preset["input_shape"], layers)
        raise AssertionError("the engine accepts the stack")
    except StackError as error:
        message = str(error)
    rows = table(page)
    assert [r["failed"] for r in rows] == [False] * 10 + [True]
    assert text(page, "tr.row-error") == message
    assert page.locator("tr.row-error").evaluate("(tr) => tr.previousElementSibling.dataset.index") == "10"
    assert numbers(rows[:10]) == expected_rows(preset["input_shape"], preset["layers"])  # the rows before
    assert (rows[10]["params"], text(page, "#total-params")) == ("·", "·")
    page.click(f'{ROWS}[data-index="10"] button[data-act="remove"]')
    idle(page)
    assert text(page, "#total-params") == "34,826" and page.locator("tr.row-error").count() == 0


def test_selected_layer_draws_a_field_box_of_the_engines_size(page: Page, server_url: str) -> None:
    open_calculator(page, server_url)
    page.click(f'{ROWS}[data-index="3"] button.pick')
    idle(page)
    report = analyse(PRESETS["seed002_mnist"]["input_shape"], PRESETS["seed002_mnist"]["layers"])
    size = report.layers[3].receptive_field  # (8, 8)
    r0, c0, r1, c1 = map_view(page, "rf-input")["highlights"][0]["frame"]
    assert (r1 - r0, c1 - c0) == size
    assert (r0, c0) == (10, 10)  # centre position (5, 5) sits at 3.5 + 5*2 = 13.5
    assert table(page)[3]["selected"]
    assert "layer 3" in text(page, "#selected-title")
    r = report.layers[3]
    assert text(page, "#selected-summary") == (
        f"output 11×11×64 {r.output_shape} · {r.parameters:,} parameters · {r.macs:,} MACs"
        " · receptive field 8×8, jump 2 · start 3.5"
    )
    assert page.locator('#selected-formulas .formula[data-name="parameters"]').count() == 1
    x, y = cell_point(page, "rf-output", 0, 0)
    page.mouse.click(x, y)
    idle(page)
    assert map_view(page, "rf-input")["highlights"][0]["frame"] == [0, 0, 8, 8]
    assert map_view(page, "rf-output")["highlights"][0]["rows"] == [0]
    assert "(0, 0)" in text(page, "#rf-caption")
    page.wait_for_function("() => window.location.search.includes('pos=0%2C0')")  # the link keeps it


def test_reloading_the_link_gives_the_same_table(page: Page, server_url: str) -> None:
    open_calculator(page, server_url)
    page.click('#presets button[data-preset="seed000_circle"]')
    idle(page)
    page.fill(f'{ROWS}[data-index="1"] input[data-arg="kernel_size"]', "2,1")
    page.click(f'{ROWS}[data-index="1"] button.pick')
    idle(page)
    page.wait_for_function("() => window.location.search.includes('sel=1')")
    before, url = table(page), page.url
    assert before[1]["hwc"] == "1×2×1"
    open_calculator(page, server_url, url[url.index("?") :])
    assert table(page) == before
    assert page.input_value("#input-shape") == "1, 5, 5"
    assert page.input_value(f'{ROWS}[data-index="1"] input[data-arg="kernel_size"]') == "2,1"


def test_the_field_maps_take_the_room_beside_the_formulas(
    browser: Browser, browser_log: BrowserLog, server_url: str
) -> None:
    """At 1440x900 and at 1280x720 in presenter view the two field maps sit side by side above the table,
    wholly on screen with the selected layer's numbers, and grow to the room they have."""
    sides = {}
    for view, size, query in [("normal", (1440, 900), ""), ("presenter", (1280, 720), "?present=1")]:
        with guarded_context(browser, browser_log, viewport={"width": size[0], "height": size[1]}) as ctx:
            page = ctx.new_page()
            open_calculator(page, server_url, query)
            boxes = page.evaluate(
                """() => ['rf-output', 'rf-input', 'selected-summary', 'layers-body'].map((id) => {
                    const b = document.getElementById(id).getBoundingClientRect();
                    return { left: b.left, right: b.right, top: b.top, bottom: b.bottom }; })"""
            )
            out, inp, summary, rows = boxes
            assert abs(out["top"] - inp["top"]) < 1 and out["right"] <= inp["left"], (
                f"{view}: maps not side by side"
            )
            for b in (out, inp, summary):
                assert b["bottom"] <= size[1] and b["right"] <= size[0], f"{view}: {b} off screen"
            assert rows["top"] >= max(out["bottom"], inp["bottom"]), (
                f"{view}: the table is not below the maps"
            )
            sides[view] = page.evaluate("() => window.__layerlab.maps['rf-input'].cell * 28")
    assert sides["normal"] >= 200 and sides["presenter"] >= 150, sides
