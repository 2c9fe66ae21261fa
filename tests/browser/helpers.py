"""Helpers for the conv page tests: waiting for the page, reading what it drew, and the
engine's numbers for the same settings (computed in this process, the reference)."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import numpy as np
from playwright.sync_api import Page

from layerlab.engine.conv import conv2d
from layerlab.engine.images import sample_image
from layerlab.engine.kernels import PRESETS
from layerlab.engine.trace import Trace

# static/js/conv/page.js DEFAULTS: what /conv shows with no query string
DEFAULT_STATE: dict[str, Any] = {
    "image": "scene",
    "size": 32,
    "color": "gray",
    "weight": [[PRESETS["edge"].weights.tolist()]],
    "bias": [0.0],
    "stride": [1, 1],
    "padding": [1, 1],
    "padding_mode": "zeros",
    "dilation": [1, 1],
    "relu": False,
    "filter": 0,
    "step": 0,
}


def state(**changes: Any) -> dict[str, Any]:
    """The default page state with `changes` applied (a deep copy)."""
    return {**json.loads(json.dumps(DEFAULT_STATE)), **changes}


# ---- waiting ------------------------------------------------------------------------------

_TWO_FRAMES_IDLE = """() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(
    () => resolve(window.__layerlab.busy === 0))))"""


def idle(page: Page, timeout: float = 15_000) -> None:
    """Wait until no request is in flight and two animation frames passed with none started."""
    page.wait_for_function("() => window.__layerlab && window.__layerlab.busy === 0", timeout=timeout)
    page.wait_for_function(_TWO_FRAMES_IDLE, timeout=timeout)


def open_conv(page: Page, base_url: str, query: str = "") -> None:
    """Open /conv (with a query string, e.g. from `query_for`) and wait for the first drawing."""
    page.goto(f"{base_url}/conv{query}")
    page.wait_for_function(
        "() => window.__layerlab && window.__layerlab.maps && window.__layerlab.maps['map-0']"
        " && window.__layerlab.maps['map-0'].values"
        " && document.getElementById('step-label').textContent.startsWith('step ')",
        timeout=20_000,
    )
    idle(page)


def blur(page: Page) -> None:
    """Move focus back to the body so the stepper's keyboard keys apply."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")


def set_range(page: Page, selector: str, value: int) -> None:
    """Move a range input as a drag would: set its value and fire `input`."""
    page.locator(selector).evaluate(
        "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', { bubbles: true })); }", value
    )


def burst(page: Page, selector: str, values: list[str]) -> None:
    """Type every value into an input within one task, each firing `input`: faster than any human."""
    page.locator(selector).evaluate(
        """(el, values) => {
            for (const v of values) { el.value = v; el.dispatchEvent(new Event('input', { bubbles: true })); }
        }""",
        values,
    )


# ---- reading the page -----------------------------------------------------------------------


def map_view(page: Page, map_id: str) -> dict[str, Any]:
    """A MapView's fields: values as a (rows, cols) array, filled, highlights, title."""
    data = page.evaluate(
        """(id) => {
            const m = window.__layerlab.maps[id];
            if (!m) return null;
            return { values: m.values ? Array.from(m.values) : null, rows: m.rows, cols: m.cols,
                     filled: m.filled, highlights: m.highlights, title: m.title };
        }""",
        map_id,
    )
    assert data is not None, f"no map {map_id!r} is registered"
    assert data["values"] is not None, f"map {map_id!r} has drawn nothing"
    data["values"] = np.array(data["values"], dtype=np.float64).reshape(data["rows"], data["cols"])
    return data


def map_values(page: Page, map_id: str) -> np.ndarray:
    """The numbers a map drew, (rows, cols)."""
    return map_view(page, map_id)["values"]


def pixel(page: Page, map_id: str, r: int, c: int) -> tuple[int, int, int]:
    """The RGB colour drawn for cell (r, c) of a map (one canvas pixel per cell)."""
    rgba = page.evaluate(
        "([id, r, c]) => Array.from(window.__layerlab.maps[id].canvas.getContext('2d')"
        ".getImageData(c, r, 1, 1).data)",
        [map_id, r, c],
    )
    return tuple(rgba[:3])


def canvas_pixels(page: Page, map_id: str) -> list[int]:
    """Every RGBA byte of a map's cells canvas."""
    return page.evaluate(
        "(id) => { const cv = window.__layerlab.maps[id].canvas;"
        " return Array.from(cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data); }",
        map_id,
    )


def cell_point(page: Page, map_id: str, r: int, c: int) -> tuple[float, float]:
    """Page coordinates of the centre of cell (r, c) of a map, for the mouse."""
    box = page.evaluate(
        "(id) => { const m = window.__layerlab.maps[id]; const b = m.overlay.getBoundingClientRect();"
        " return { x: b.left, y: b.top, w: b.width, h: b.height, rows: m.rows, cols: m.cols }; }",
        map_id,
    )
    return box["x"] + (c + 0.5) * box["w"] / box["cols"], box["y"] + (r + 0.5) * box["h"] / box["rows"]


def text(page: Page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def step_number(page: Page) -> int:
    """The 1-based step the label shows ('step 4 of 128: ...' -> 4)."""
    match = re.match(r"step (\d+) of (\d+)", text(page, "#step-label"))
    assert match, f"unexpected step label {text(page, '#step-label')!r}"
    return int(match.group(1))


def kernel_inputs(page: Page) -> dict[str, str]:
    """data-cell -> value of every kernel editor input."""
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#kernel-editor input[data-cell]')]"
        ".map((i) => [i.dataset.cell, i.value]))"
    )


# ---- the URL ---------------------------------------------------------------------------------


def query_for(s: dict[str, Any]) -> str:
    """The query string the page writes for state `s` (the fields of urlstate.js encode)."""
    padding = s["padding"] if isinstance(s["padding"], str) else ",".join(map(str, s["padding"]))
    fields = {
        "image": s["image"],
        "size": s["size"],
        "color": s["color"],
        "w": json.dumps(s["weight"]),
        "b": ",".join(map(str, s["bias"])),
        "stride": ",".join(map(str, s["stride"])),
        "pad": padding,
        "mode": s["padding_mode"],
        "dil": ",".join(map(str, s["dilation"])),
        "relu": "1" if s["relu"] else "0",
        "f": s["filter"],
        "step": s["step"],
    }
    return "?" + urlencode(fields)


def state_from_url(url: str) -> dict[str, Any]:
    """The page state a URL carries (the fields `query_for` writes)."""
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    pair = lambda v: [int(x) for x in v.split(",")]  # noqa: E731
    return {
        "image": q["image"],
        "size": int(q["size"]),
        "color": q["color"],
        "weight": json.loads(q["w"]),
        "bias": [float(x) for x in q["b"].split(",")],
        "stride": pair(q["stride"]),
        "padding": q["pad"] if q["pad"] in ("same", "valid") else pair(q["pad"]),
        "padding_mode": q["mode"],
        "dilation": pair(q["dil"]),
        "relu": q["relu"] == "1",
        "filter": int(q["f"]),
        "step": int(q["step"]),
    }


# ---- the engine's numbers ------------------------------------------------------------------


def _engine_call(s: dict[str, Any], image: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, dict]:
    x = sample_image(s["image"], s["size"], s["color"]) if image is None else image
    w = np.array(s["weight"], dtype=np.float64)
    padding = s["padding"] if isinstance(s["padding"], str) else tuple(s["padding"])
    kwargs = {
        "bias": np.array(s["bias"], dtype=np.float64),
        "stride": tuple(s["stride"]),
        "padding": padding,
        "dilation": tuple(s["dilation"]),
        "padding_mode": s["padding_mode"],
    }
    return x, w, kwargs


def engine_maps(s: dict[str, Any], image: np.ndarray | None = None) -> np.ndarray:
    """Every filter's feature map for page state `s`, (F, OH, OW), from layerlab.engine.conv.conv2d."""
    x, w, kwargs = _engine_call(s, image)
    return conv2d(x, w, **kwargs, record_steps=False).output


def engine_trace(s: dict[str, Any], f: int = 0) -> Trace:
    """The full step trace of filter `f` alone for page state `s`."""
    x, w, kwargs = _engine_call(s, None)
    kwargs["bias"] = kwargs["bias"][f : f + 1]
    return conv2d(x, w[f : f + 1], **kwargs)


def assert_map(page: Page, map_id: str, expected: np.ndarray) -> None:
    """The map drew exactly the expected numbers (float32 on the wire)."""
    got = map_values(page, map_id)
    assert got.shape == expected.shape, f"{map_id} is {got.shape}, the engine gives {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=map_id)


# ---- the equation text (format.js and conv-step.js, for comparing what is written) -----------


def _as_sent(v: float) -> float:
    """A number as the page receives it: float32 on the wire, read back as a double."""
    return float(str(np.float32(v)))


def fmt(v: float, digits: int = 3) -> str:
    """format.js fmt: integers as they are, else 3 decimals without trailing zeros; '−' for minus."""
    v = _as_sent(v)
    if v.is_integer():
        return str(int(v)).replace("-", "−")
    if abs(v) < 1e-3 or abs(v) >= 1e5:
        mantissa, exponent = f"{v:.1e}".split("e")
        s = f"{mantissa}e{int(exponent):+d}"
    else:
        # toFixed rounds half away from zero on the exact binary value
        s = str(Decimal(v).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
        s = re.sub(r"\.?0+$", "", s)
    if s == "-0":
        s = "0"
    return s.replace("-", "−", 1)


def fmt_cell(v: float) -> str:
    """format.js fmtCell: the shorter form in cell labels and tooltips."""
    return fmt(v, 1 if abs(_as_sent(v)) >= 10 else 2)


def js_number(v: float) -> str:
    """String(v) in JavaScript for an ordinary number: how the kernel editor writes a weight."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def factor(v: float) -> str:
    return f"({fmt(v)})" if _as_sent(v) < 0 else fmt(v)


def equation(trace: Trace, i: int) -> str:
    """The equation text the page writes for step i of a one-filter trace (the page always sends a bias)."""
    step = trace.step(i)
    _, _, r, c = step["index"]
    weight = trace.stages["weight"][0]  # (C, kH, kW)
    terms = [
        f"{factor(wv)}·{factor(step['window'][ch, u, v])}"
        for ch in range(weight.shape[0])
        for u in range(weight.shape[1])
        for v in range(weight.shape[2])
        for wv in [weight[ch, u, v]]
    ]
    shown = terms if len(terms) <= 27 else [*terms[:9], "…", *terms[-3:]]
    out = f"y[{r}, {c}] = " + " + ".join(shown)
    if len(terms) > 27:
        out += f" ({len(terms)} products, sum {fmt(step['sum'])})"
    return out + f" + {factor(step['bias'])} (bias) = {fmt(step['result'])}"
