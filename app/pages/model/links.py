"""Your model's links: one channel of a Conv, pooling or norm layer opened on its own page (/conv, /pool,
/norm) with the file's weights and that layer's real input, and notes on what the page cannot show."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import numpy as np

from layerlab.app.config import in_effect as S
from layerlab.app.errors import ApiError
from layerlab.app.inputs import UploadStore
from layerlab.app.pages.model import text as mt
from layerlab.app.pages.model.request import values_of
from layerlab.app.pages.model.store import Opened

# ---- links to the conv, pooling and norm pages -----------------------------------------------------


def _pair(values: Any, default: int) -> tuple[int, int]:
    v = tuple(int(a) for a in values) if values is not None else (default, default)
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def _padding(node: Any, notes: list[str]) -> tuple[int, int]:
    """ONNX pads (top, left, bottom, right) as torch's symmetric (H, W) padding, saying when it is not."""
    auto = node.attrs.get("auto_pad", "NOTSET")
    if isinstance(auto, bytes):
        auto = auto.decode()
    if auto not in ("NOTSET", "VALID"):
        notes.append(f"the layer pads with auto_pad={auto}; the link pads half the kernel on each side")
        k = node.attrs.get("kernel_shape", (1, 1))
        return (int(k[0]) // 2, int(k[-1]) // 2)
    pads = tuple(int(p) for p in node.attrs.get("pads", (0, 0, 0, 0)))
    top, left, bottom, right = pads if len(pads) == 4 else (0, 0, 0, 0)
    if (top, left) != (bottom, right):
        notes.append(
            f"the layer pads unevenly ({top}, {left}, {bottom}, {right}); the link pads ({top}, {left})"
        )
    return (top, left)


def _relu_after(graph: Any, value: str) -> bool:
    """Whether the value's only reader is a Relu (the conv page can apply it)."""
    readers = [n for n in graph.nodes if value in n.inputs]
    return len(readers) == 1 and readers[0].op == "Relu"


def _href(page: str, fields: dict) -> str:
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    return f"/{page}?" + urlencode(encoded)


def _store_input(x: np.ndarray, uploads: UploadStore) -> str:
    """Keep a layer's real input (C, H, W), C 1 or 3, as an upload the conv and pooling pages read."""
    return uploads.add(np.ascontiguousarray(x, dtype=np.float64))


def _conv_link(model: Opened, node: Any, x: np.ndarray, channel: int, uploads: UploadStore) -> dict:
    """The conv page with this layer's real weights on its real input, or what fits of them."""
    g = model.graph
    weight = np.asarray(g.initializers[node.inputs[1]])  # (C_out, C_in/group, kH, kW)
    bias_name = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    bias = np.asarray(g.initializers[bias_name]) if bias_name else np.zeros(weight.shape[0], weight.dtype)
    c_out, c_group, kh, kw = weight.shape
    groups = int(node.attrs.get("group", 1))
    notes: list[str] = []
    if max(kh, kw) > S.max_kernel_side:
        return {"links": [], "notes": [mt.too_big("kernel", f"{kh}x{kw}", S.max_kernel_side)]}
    side = max(x.shape[2:])
    if side > S.max_image_side:
        return {"links": [], "notes": [mt.too_big("input", f"{x.shape[2]}x{x.shape[3]}", S.max_image_side)]}
    first = (channel // (c_out // groups)) * c_group  # the first input channel this filter reads
    reads = 3 if c_group >= 3 else 1
    if reads < c_group:
        notes.append(mt.partial_sum(reads, c_group))
    x_sel = x[0, first : first + reads]
    w_sel = weight[:, :reads]
    if groups == 1 and c_out <= S.max_filters:
        filters, f = range(c_out), channel
    else:
        filters, f = range(channel, channel + 1), 0
        notes.append(mt.one_filter(channel, c_out, S.max_filters, groups))
    relu = _relu_after(g, node.outputs[0])
    fields = {
        "image": _store_input(x_sel, uploads),
        "size": int(side),
        "color": "rgb" if reads == 3 else "gray",
        "w": w_sel[list(filters)].tolist(),
        "b": ",".join(repr(float(b)) for b in bias[list(filters)]),
        "stride": ",".join(map(str, _pair(node.attrs.get("strides"), 1))),
        "pad": ",".join(map(str, _padding(node, notes))),
        "mode": "zeros",
        "dil": ",".join(map(str, _pair(node.attrs.get("dilations"), 1))),
        "relu": "1" if relu else "0",
        "f": str(f),
        "step": "0",
    }
    label = f"{node.name}, filter {channel}{' + ReLU' if relu else ''}, on /conv"
    return {"links": [{"page": "conv", "href": _href("conv", fields), "label": label}], "notes": notes}


# a global pooling is the window pooling whose window is the whole map
POOL_KINDS = {"MaxPool": "max", "AveragePool": "avg", "GlobalAveragePool": "avg", "GlobalMaxPool": "max"}


def _pool_link(node: Any, x: np.ndarray, channel: int, uploads: UploadStore) -> dict:
    """The pooling page pooling this channel of the layer's real input as this layer does."""
    notes: list[str] = []
    plane = x[0, channel : channel + 1]  # (1, H, W)
    side = max(plane.shape[1:])
    if side > S.max_image_side:
        return {
            "links": [],
            "notes": [mt.too_big("input", f"{plane.shape[1]}x{plane.shape[2]}", S.max_image_side)],
        }
    if min(plane.shape[1:]) < 4:
        return {"links": [], "notes": ["the pooling page takes maps of at least 4x4; this one is smaller"]}
    fields: dict[str, Any] = {"source": "image", "image": _store_input(plane, uploads), "size": int(side)}
    fields["kind"] = POOL_KINDS[node.op]
    whole = node.op.startswith("Global")
    kernel = tuple(plane.shape[1:]) if whole else _pair(node.attrs.get("kernel_shape"), 1)
    if max(kernel) > S.max_pool_kernel:
        return {
            "links": [],
            "notes": [mt.too_big("pooling window", f"{kernel[0]}x{kernel[1]}", S.max_pool_kernel)],
        }
    fields |= {
        "kernel_size": list(kernel),
        "stride": list(kernel if whole else _pair(node.attrs.get("strides"), 1)),
        "padding": [0, 0] if whole else list(_padding(node, notes)),
        "ceil_mode": bool(node.attrs.get("ceil_mode", 0)),
    }
    if node.op.endswith("MaxPool"):
        fields["dilation"] = list(_pair(node.attrs.get("dilations"), 1))
    else:
        fields["count_include_pad"] = bool(node.attrs.get("count_include_pad", 0))
    if whole:
        notes.append(mt.GLOBAL_NOTE)
    fields = {k: ("1" if v else "0") if isinstance(v, bool) else v for k, v in fields.items()}
    fields["size"] = str(fields["size"])
    label = f"{node.name}, channel {channel}, on /pool"
    return {"links": [{"page": "pool", "href": _href("pool", fields), "label": label}], "notes": notes}


def _norm_link(model: Opened, node: Any) -> dict:
    """The norm page showing the same normalization on its own generated batch (it draws every plane)."""
    kind = {"BatchNormalization": "batch", "LayerNormalization": "layer", "InstanceNormalization": "instance"}
    eps = float(str(np.float32(node.attrs.get("epsilon", 1e-5))))  # as the file wrote it (float32)
    fields = {"kind": kind[node.op], "eps": repr(eps)}
    label = f"{kind[node.op]} norm (eps {eps:g}), on /norm"
    return {
        "links": [{"page": "norm", "href": _href("norm", fields), "label": label}],
        "notes": [mt.NORM_NOTE],
    }


def links(req: Any, model: Opened, uploads: UploadStore) -> dict:
    """Links that open one channel of one layer on its own page, with what they show and leave out."""
    node = next((n for n in model.graph.nodes if n.name == req.layer), None)
    if node is None:
        raise ApiError(422, "layer", f"the model has no node named {req.layer!r}")
    page = mt.link_page(node.op)
    if page is None:
        raise ApiError(
            422, "layer", f"{node.name} is a {node.op}; only Conv, pooling and norm layers open elsewhere"
        )
    values = values_of(req, model, uploads)
    inp = np.asarray(values[node.inputs[0]], dtype=np.float64)
    channels = int(np.shape(values[node.outputs[0]])[1])
    if req.channel >= channels:
        raise ApiError(422, "channel", f"{node.name} has {channels} channel(s): 0 to {channels - 1}")
    if page == "conv":
        answer = _conv_link(model, node, inp, req.channel, uploads)
    elif page == "pool":
        answer = _pool_link(node, inp, req.channel, uploads)
    else:
        answer = _norm_link(model, node)
    return {"layer": node.name, "op": node.op, "channel": req.channel} | answer
