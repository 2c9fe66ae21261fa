"""A Trace in a notebook: a compact, self-contained, offline step-through, as `text/html`.

The view is drawn by the pages' own modules (static/js/format.js, colors.js and colorbar.js, and
static/js/notebook/view.js), inlined into one classic script with the trace's numbers beside it:
no server, nothing loaded over the network. It stays small whatever the trace's size: at most
MAX_MAPS output maps, each at most MAX_SIDE cells a side (larger ones strided, every k-th row and
column, which the view says), and for conv2d and max_pool2d the first STEP_CHUNK steps (fewer
when the windows are big, so that at most STEP_NUMBERS window numbers are written).

`layerlab/__init__.py` registers `trace_html` as IPython's text/html formatter for Trace.
"""

from __future__ import annotations

import functools
import html
import itertools
import json
import math
import posixpath
import re
from typing import Any

import numpy as np

from layerlab.app.config import settings
from layerlab.engine.trace import Trace

MAX_MAPS = 4  # output maps drawn (the first channels of the first sample, those the steps touch first)
MAX_SIDE = 48  # cells a side of a drawn map; a larger map is strided down to this
STEP_CHUNK = 256  # steps embedded at most, from the first
STEP_NUMBERS = 16_000  # window and product numbers embedded at most (big windows: fewer steps)
MAX_WINDOW_CHANNELS = 4  # input channels of a conv2d window drawn
STEPPED = ("conv2d", "max_pool2d")  # the families with a step-through; every trace gets its maps

# the modules the view is drawn with, each before the ones importing it
_MODULES = ("format.js", "colors.js", "colorbar.js", "notebook/view.js")
_IMPORT = re.compile(r"^import\s*\{([^}]*)\}\s*from\s*'([^']+)';[ \t]*$", re.M)
_EXPORT = re.compile(r"^export\s+(?:function|const|let|class)\s+([A-Za-z_$][\w$]*)", re.M)
_STYLE = """
.layerlab-trace{font:13px system-ui,sans-serif;color:#1b1f24;background:#fff;padding:6px;max-width:100%}
.layerlab-trace .ll-head{font-family:ui-monospace,monospace;margin-bottom:4px}
.layerlab-trace .ll-maps{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
.layerlab-trace .ll-figure{margin:0}
.layerlab-trace figcaption{font-size:12px;margin-bottom:2px}
.layerlab-trace .ll-row{display:flex;gap:2px}
.layerlab-trace .ll-note{font-size:12px;color:#555}
.layerlab-trace .ll-stepper{display:flex;gap:8px;align-items:center;margin:6px 0}
.layerlab-trace .ll-sum{font-family:ui-monospace,monospace;margin-top:4px;overflow-wrap:anywhere}
"""


@functools.cache
def _script() -> str:
    """The view's modules as one classic script: each a function scope, imports read from `modules`."""
    js = settings.static_dir / "js"
    parts = ["const modules = {};"]
    for name in _MODULES:
        source = js.joinpath(name).read_text(encoding="utf-8")

        def imported(match: re.Match, name: str = name) -> str:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), match.group(2)))
            names = match.group(1).replace(" as ", ": ")
            return f"const {{{names}}} = modules[{json.dumps(target)}];"

        body = _IMPORT.sub(imported, source)
        if re.search(r"^\s*import\b", body, re.M):
            raise ValueError(f"static/js/{name}: only `import {{ ... }} from '...'` can be inlined")
        exported = ", ".join(_EXPORT.findall(body))
        body = re.sub(r"^export\s+", "", body, flags=re.M)
        parts.append(f"modules[{json.dumps(name)}] = (() => {{\n{body}\nreturn {{ {exported} }};\n}})();")
    script = "\n".join(parts)
    if "</script" in script.lower():
        raise ValueError("the view's script would end its own <script> element")
    return script


def _numbers(a: np.ndarray) -> Any:
    """Nested lists of floats, 5 significant digits; NaN and infinities as JavaScript spells them."""
    rounded = np.vectorize(lambda v: float(f"{v:.5g}"), otypes=[np.float64])(np.asarray(a, dtype=np.float64))
    return rounded.tolist() if rounded.size else []


def _js(value: Any) -> str:
    """`value` as a JavaScript literal (JSON, with NaN and Infinity, which JavaScript reads)."""
    text = json.dumps(value, allow_nan=True, separators=(",", ":"))
    return text.replace("</", "<\\/")


def _strided(plane: np.ndarray) -> tuple[np.ndarray, int]:
    """A 2-D plane strided to at most MAX_SIDE a side, and the stride."""
    every = max(1, math.ceil(max(plane.shape) / MAX_SIDE))
    return plane[::every, ::every], every


def _grid(plane: np.ndarray, title: str, key: str) -> dict[str, Any]:
    """A map for the view: flat values, its size, the stride it was drawn at and a title saying so."""
    shown, every = _strided(np.asarray(plane, dtype=np.float64))
    if every > 1:
        title += f" ({plane.shape[0]}×{plane.shape[1]}, one row and column in {every} drawn)"
    rows, cols = shown.shape
    values = _numbers(shown.reshape(-1))
    return {"title": title, "key": key, "rows": rows, "cols": cols, "every": every, "values": values}


def _planes(a: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """An array as 2-D planes (P, H, W) and the shape of the leading axes they are indexed by."""
    a = np.asarray(a)
    if a.ndim < 2:
        return a.reshape(1, 1, -1), ()
    return a.reshape(-1, *a.shape[-2:]), a.shape[:-2]


def _key(lead: tuple[int, ...], batched: bool) -> str:
    """The "n,c" key of a plane: unbatched (C, H, W) planes count as sample 0."""
    n, c = (lead[0], lead[1]) if batched else (0, lead[0] if lead else 0)
    return f"{n},{c}"


def _maps(output: np.ndarray, first: list[str]) -> list[dict[str, Any]]:
    """Up to MAX_MAPS output maps: those the embedded steps touch first, then in order."""
    planes, lead_shape = _planes(output)
    batched = len(lead_shape) >= 2
    leads = [tuple(int(i) for i in lead) for lead in np.ndindex(lead_shape)] or [()]
    by_key = {_key(lead, batched): (p, lead) for p, lead in enumerate(leads)}
    keys = [k for k in first if k in by_key] + list(by_key)
    picked = list(dict.fromkeys(keys))[:MAX_MAPS]
    title = "output" if output.ndim >= 2 else f"output ({output.size} values as one row)"
    return [
        _grid(planes[by_key[k][0]], f"{title}{list(by_key[k][1]) if by_key[k][1] else ''}", k) for k in picked
    ]


def _steps(trace: Trace) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The first chunk of a conv2d or max_pool2d trace's steps, and the input planes they read."""
    if trace.op not in STEPPED or trace.num_steps == 0 or "padded" not in trace.stages:
        return None, {}
    probe = trace.step(0)
    per_step = 2 * np.size(probe["window"])
    count = int(min(STEP_CHUNK, trace.num_steps, max(1, STEP_NUMBERS // max(per_step, 1))))
    s = trace.steps_between(0, count)
    index = np.asarray(s["index"]).reshape(count, -1)
    index = np.concatenate([np.zeros((count, 4 - index.shape[1]), int), index], axis=1)  # (n, c, r, col)
    padded = np.asarray(trace.stages["padded"], dtype=np.float64)
    if padded.ndim == 3:
        padded = padded[None]
    steps: dict[str, Any] = {
        "kind": trace.op,
        "total": trace.num_steps,
        "index": index.tolist(),
        "rows": np.asarray(s["rows"]).tolist(),
        "cols": np.asarray(s["cols"]).tolist(),
        "result": _numbers(s["result"]),
    }
    inputs = {}
    for n, c in dict.fromkeys((int(i[0]), 0 if trace.op == "conv2d" else int(i[1])) for i in index):
        if len(inputs) < MAX_MAPS:
            inputs[f"{n},{c}"] = _grid(padded[n, c], f"input [{n}, {c}] (padded)", f"{n},{c}")
    if trace.op == "conv2d":
        channels = slice(0, MAX_WINDOW_CHANNELS)
        weight = np.asarray(trace.stages["weight"])
        steps |= {
            "window": _numbers(np.asarray(s["window"])[:, channels]),
            "products": _numbers(np.asarray(s["products"])[:, channels]),
            "weight": {int(o): _numbers(weight[o, channels]) for o in np.unique(index[:, 1])},
            "sum": _numbers(s["sum"]),
            "bias": _numbers(s["bias"]),
            "has_bias": bool(trace.params.get("has_bias")),
        }
    else:
        window = np.asarray(s["window"], dtype=np.float64)
        steps |= {
            "window": _numbers(np.where(np.asarray(s["valid"]), window, np.nan)),  # padding: empty cells
            "winner": np.asarray(s["winner"]).tolist(),
        }
    return steps, inputs


def view_data(trace: Trace) -> dict[str, Any]:
    """Everything the view draws, bounded whatever the trace's size."""
    output = np.asarray(trace.output)
    steps, inputs = _steps(trace)
    first = [f"{n},{c}" for n, c, _, _ in steps["index"]] if steps else []
    maps = _maps(output, first)
    notes = []
    planes = int(np.prod(output.shape[:-2])) if output.ndim > 2 else 1
    if planes > len(maps):
        notes.append(f"{len(maps)} of the output's {planes} maps drawn.")
    if steps:
        shown = len(steps["index"])
        notes.append(
            f"Steps 1 to {shown} of {trace.num_steps}; t.step(i) or t.steps_between(a, b) reads any other."
        )
        channels = np.shape(trace.stages.get("weight", np.empty((0, 0))))[1]
        if trace.op == "conv2d" and channels > MAX_WINDOW_CHANNELS:
            notes.append(f"Windows drawn for the first {MAX_WINDOW_CHANNELS} of {channels} input channels.")
    elif trace.num_steps:
        notes.append(f"{trace.num_steps} steps: t.step(i) reads one (conv2d and max_pool2d get a stepper).")
    title = repr(trace)
    return {"title": title, "maps": maps, "notes": notes, "steps": steps, "inputs": inputs}


_ids = itertools.count()


def trace_html(trace: Trace) -> str:
    """The trace as one self-contained HTML fragment: its output maps and, where recorded, a stepper."""
    uid = f"layerlab-trace-{next(_ids)}-{id(trace):x}"
    data = view_data(trace)
    return (
        f'<div class="layerlab-trace" id="{uid}"><style>{_STYLE}</style>'
        f"<noscript>{html.escape(data['title'])}</noscript></div>\n"
        f"<script>(() => {{\n{_script()}\n"
        f'modules["notebook/view.js"].mountTraceView(document.getElementById("{uid}"), {_js(data)});\n'
        "})();</script>"
    )
