"""The conv page's live path: edits over the WebSocket (POST while it is not open), traces that never
outlive their settings (cancelled when superseded) and that ask only for the stages an edit changed."""

from __future__ import annotations

import json

import numpy as np
from playwright.sync_api import BrowserContext, Page, Request, Route, WebSocket

from layerlab.engine.kernels import PRESETS
from tests.browser.helpers import (
    assert_map,
    burst,
    engine_maps,
    engine_trace,
    equation,
    idle,
    map_values,
    open_conv,
    state,
    text,
)

CELL = '#kernel-editor input[data-cell="0,{}"]'
EDGE = PRESETS["edge"].weights.tolist()

# A WebSocket that never opens: the page's live edits must then go by POST.
NO_SOCKET = """window.WebSocket = class {
  static OPEN = 1;
  constructor() { this.readyState = 0; }
  addEventListener() {}
  send() { throw new Error('never open'); }
};"""


def with_cell(value: float, r: int = 1, c: int = 1) -> list:
    weight = json.loads(json.dumps(EDGE))
    weight[r][c] = value
    return [[weight]]


def test_live_edits_go_over_the_socket_and_a_burst_sends_at_most_two(page: Page, server_url: str) -> None:
    sockets: list[WebSocket] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    posts: list[Request] = []
    page.on("request", lambda r: posts.append(r) if r.url.endswith("/api/conv/live") else None)
    open_conv(page, server_url)
    page.wait_for_function("() => performance.getEntriesByType('resource').length > 0")
    assert len(sockets) == 1 and sockets[0].url.endswith("/api/conv/live/ws")
    frames: list[str] = []
    sockets[0].on("framesent", lambda f: frames.append(f))
    posts.clear()
    # ten edits in one task: one message goes out, the other nine collapse into one follow-up
    burst(page, CELL.format("1,1"), [str(v) for v in range(1, 11)])
    idle(page)
    assert 1 <= len(frames) <= 2 and not posts, (len(frames), len(posts))
    assert json.loads(frames[-1])["weight"] == with_cell(10)
    assert_map(page, "map-0", engine_maps(state(weight=with_cell(10)))[0])


def test_live_edits_fall_back_to_post_while_the_socket_is_not_open(
    context: BrowserContext, server_url: str
) -> None:
    context.add_init_script(NO_SOCKET)
    page = context.new_page()
    open_conv(page, server_url)
    with page.expect_request(lambda r: r.url.endswith("/api/conv/live")):
        page.locator(CELL.format("1,1")).fill("3")
    idle(page)
    assert_map(page, "map-0", engine_maps(state(weight=with_cell(3)))[0])


def test_a_superseded_trace_is_cancelled_and_only_the_settled_one_is_drawn(
    page: Page, server_url: str
) -> None:
    open_conv(page, server_url)
    held: list[Route] = []
    page.route(
        "**/api/conv/trace", lambda route: held.append(route)
    )  # answers wait until the test lets them through
    failed: list[Request] = []
    page.on("requestfailed", lambda r: failed.append(r))
    finished: list[Request] = []
    page.on("requestfinished", lambda r: finished.append(r) if r.url.endswith("/api/conv/trace") else None)
    traces = []
    for value in ("2", "5", "-7"):  # each edit settles long enough for its trace to be asked
        with page.expect_request("**/api/conv/trace") as asked:
            page.locator(CELL.format("0,0")).fill(value)
        traces.append(asked.value)
    page.wait_for_function("() => window.__layerlab.busy === 1")  # the third trace only
    assert [r for r in failed if r.url.endswith("/api/conv/trace")] == traces[:2]
    assert "cancel" in (traces[0].failure or "").lower() or "abort" in (traces[0].failure or "").lower()
    for route in held[:2]:  # the cancelled ones would not be used even if they came
        route.continue_()
    held[2].continue_()
    idle(page)
    assert finished == [traces[2]]
    final = state(weight=with_cell(-7, 0, 0))
    assert text(page, "#equation") == equation(engine_trace(final), 0)
    assert text(page, "#status") == ""
    np.testing.assert_array_equal(map_values(page, "kernels-0"), np.array(final["weight"][0][0]))


def test_a_kernel_edit_asks_only_for_the_weight_stage(page: Page, server_url: str) -> None:
    asked: list[dict] = []
    page.on(
        "request", lambda r: asked.append(r.post_data_json) if r.url.endswith("/api/conv/trace") else None
    )
    open_conv(page, server_url)
    assert [a["stages"] for a in asked] == [True]
    page.locator(CELL.format("1,1")).fill("4")
    idle(page)
    assert asked[-1]["stages"] == ["weight"]
    kernel_edit = state(weight=with_cell(4))
    trace = engine_trace(kernel_edit)
    # the padded input kept from the first answer, the new kernel from this one: the step as the engine has it
    assert text(page, "#equation") == equation(trace, 0)
    np.testing.assert_allclose(map_values(page, "inputs-0"), trace.stages["padded"][0], rtol=1e-6)
    np.testing.assert_array_equal(map_values(page, "kernels-0"), np.array(kernel_edit["weight"][0][0]))
    page.select_option("#padding-kind", "valid")  # the padded input changes: every stage is asked again
    idle(page)
    assert asked[-1]["stages"] is True
    trace = engine_trace({**kernel_edit, "padding": "valid"})
    assert text(page, "#equation") == equation(trace, 0)
    np.testing.assert_allclose(map_values(page, "inputs-0"), trace.stages["padded"][0], rtol=1e-6)
