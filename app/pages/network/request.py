"""From a validated small-CNN request to the 28x28 input, one engine call, and the page's JSON."""

from __future__ import annotations

import json
from functools import lru_cache
from urllib.parse import urlencode

import numpy as np

from layerlab.app.config import in_effect as S
from layerlab.app.errors import ApiError, engine_errors
from layerlab.app.inputs import UploadStore, load_image
from layerlab.app.pages.network import text as nt
from layerlab.app.pages.network.schemas import CircleRequest, NetworkInput, NetworkLinkRequest
from layerlab.app.serialize import trace_body
from layerlab.engine.cnn import circle
from layerlab.engine.cnn.data import fit_digit, sample_digit
from layerlab.engine.cnn.model import Params, backward, forward, load_weights
from layerlab.engine.measures import strongest

MAPS = ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2")  # (C, H, W) each, sent without N
GRADIENTS = ("input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2")


@lru_cache(maxsize=1)
def weights() -> Params:
    params = load_weights()
    for p in params.values():
        p.flags.writeable = False
    return params


def _ink(picture: np.ndarray, invert: str) -> np.ndarray:
    """A grey picture (H, W) in [0, 1] as ink = 1: turned over when asked, or ("auto") when its border
    is mostly light, as a scan of dark ink on paper is."""
    border = np.concatenate([picture[0], picture[-1], picture[:, 0], picture[:, -1]])
    flip = invert == "yes" or (invert == "auto" and float(np.median(border)) > 0.5)
    return 1.0 - picture if flip else picture


def load_input(req: NetworkInput, uploads: UploadStore) -> tuple[np.ndarray, str]:
    """The network's input (28, 28), fitted as the training digits were, and where it came from."""
    if req.source == "sample":
        return sample_digit(req.digit, req.seed), f"generated digit {req.digit}, seed {req.seed}"
    if req.source == "matrix":
        drawing = np.asarray(req.matrix, dtype=np.float64)
        where = f"your drawing ({drawing.shape[0]}x{drawing.shape[1]})"
    else:
        drawing = _ink(load_image(req.image, S.network_upload_side, "gray", uploads)[0], req.invert)
        where = "the uploaded picture" if req.image.startswith("upload:") else f"the sample {req.image!r}"
    with engine_errors(req.source):
        return fit_digit(drawing), where


def forward_body(x: np.ndarray, source: str) -> dict:
    """Every layer's maps for one input (N dropped), the flattened vector, logits and probabilities."""
    t = forward(x, weights())
    s = t.stages
    probs = s["probs"][0]
    return trace_body(t, steps=False, stages=False) | {  # output (1, 10) the logits
        "source": source,
        "blank": not bool(x.any()),
        "input": s["input"][0, 0],  # (28, 28)
        "maps": {name: s[name][0] for name in MAPS},  # (C, H, W)
        "flatten": s["flatten"][0],  # (400,)
        "logits": s["logits"][0],  # (10,)
        "probs": probs,  # (10,)
        "predicted": int(probs.argmax()),
        "shapes": {name: list(shape) for name, shape in t.params["shapes"].items() if "argmax" not in name},
    }


def backward_body(x: np.ndarray, target: int, source: str) -> dict:
    """The gradient of -log p[target] at every layer, the weights' gradients and the transposed check."""
    params = weights()
    with engine_errors("target"):
        t = backward(x, target, params)
    s = t.stages
    grads = {name: s[f"grad_{name}"][0] for name in GRADIENTS}  # (C, H, W)
    transposed = s["grad_pool1_transposed"][0]  # (8, 13, 13)
    c, i, j = strongest(grads["pool1"])  # the cell with the strongest gradient
    cell = {
        "channel": c,
        "row": i,
        "col": j,
        "backward": float(grads["pool1"][c, i, j]),
        "transposed": float(transposed[c, i, j]),
    }
    diffs = t.params["transposed_max_abs_diff"]
    return trace_body(t, steps=False, stages=False) | {
        "source": source,
        "target": target,
        "loss": t.params["loss"],
        "probs": s["probs"][0],
        "grads": grads,
        "grad_flatten": s["grad_flatten"][0],  # (400,)
        "grad_logits": s["grad_logits"][0],  # (10,) = p - onehot(target)
        "weight_grads": {"conv1.weight": s["conv1.weight"][:, 0], "conv1.bias": s["conv1.bias"]},  # (8, 3, 3)
        "transposed": {
            "grad_pool1": transposed,  # conv_transpose2d(dL/d conv2, conv2.weight)
            "max_abs_diff": diffs,
            "cell": cell,
            "formula": nt.identity_formula(cell, diffs["conv2"]),
        },
    }


def _conv_state(x_id: str, params: Params, channel: int) -> dict:
    """conv1 as the conv page's settings, on the input kept as an upload."""
    return {
        "image": x_id,
        "size": 28,
        "color": "gray",
        "weight": params["conv1.weight"].tolist(),  # (8, 1, 3, 3), float32 values written exactly
        "bias": params["conv1.bias"].tolist(),
        "stride": [1, 1],
        "padding": [0, 0],
        "dilation": [1, 1],
        "padding_mode": "zeros",
        "relu": True,
        "filter": channel,
    }


def _conv_href(state: dict) -> str:
    """The conv page's URL (the fields of static/js/urlstate.js)."""
    fields = {
        "image": state["image"],
        "size": state["size"],
        "color": state["color"],
        "w": json.dumps(state["weight"]),
        "b": ",".join(map(repr, state["bias"])),
        "stride": "1,1",
        "pad": "0,0",
        "mode": "zeros",
        "dil": "1,1",
        "relu": "1",
        "f": state["filter"],
        "step": 0,
    }
    return "/conv?" + urlencode(fields)


def _pool_href(fields: dict) -> str:
    """The pooling page's URL (static/js/typed-url.js: JSON for lists and objects)."""
    window = {"kind": "max", "kernel_size": [2, 2], "stride": [2, 2]}
    encoded = {k: v if isinstance(v, (str, int)) else json.dumps(v) for k, v in (fields | window).items()}
    return "/pool?" + urlencode(encoded)


def links(req: NetworkLinkRequest, uploads: UploadStore) -> dict:
    """Links that open a map of the current input on the conv or pooling page, with what they show."""
    params = weights()
    channels = 8 if req.layer in ("input", "conv1", "relu1", "pool1") else 16
    if req.layer == "input":
        channels = 1
    if req.channel >= channels:
        raise ApiError(422, "channel", f"{req.layer} has {channels} channel(s): 0 to {channels - 1}")
    x, _ = load_input(req, uploads)
    if req.layer in ("input", "conv1", "relu1", "pool1"):
        x_id = uploads.add(x[None].copy())  # (1, 28, 28): the conv page reads it as a grey upload
        state = _conv_state(x_id, params, req.channel)
        conv = {k: state[k] for k in ("image", "size", "color", "weight", "bias", "relu")}
        conv |= {"stride": 1, "padding": 0}
        pool = _pool_href({"source": "conv", "conv": conv, "conv_filter": req.channel})
        return {
            "links": [
                {
                    "page": "conv",
                    "href": _conv_href(state),
                    "label": f"conv1, filter {req.channel}, on /conv",
                },
                {"page": "pool", "href": pool, "label": f"pool1, channel {req.channel}, on /pool"},
            ],
            "note": nt.LINK_NOTES["conv1"],
        }
    relu2 = forward(x, params).stages["relu2"][0, req.channel]  # (11, 11), within the pool page's matrix
    pool = _pool_href({"source": "matrix", "matrix": relu2.tolist()})
    return {
        "links": [{"page": "pool", "href": pool, "label": f"pool2, channel {req.channel}, on /pool"}],
        "note": nt.LINK_NOTES["conv2"],
    }


def circle_body(req: CircleRequest) -> dict:
    """Seed 000's detector on a named shape or an edited grid."""
    if req.matrix is not None:
        image, name = np.asarray(req.matrix, dtype=np.float64), "edited"
    elif req.shape in circle.SHAPES:
        image, name = circle.SHAPES[req.shape], req.shape
    else:
        raise ApiError(422, "shape", f"unknown shape {req.shape!r}; choose one of {', '.join(circle.SHAPES)}")
    t = circle.detect(image)
    return trace_body(t, steps=False, stages=False) | {
        "shape": name,
        "input": t.stages["input"][0],  # (5, 5)
        "kernels": t.stages["kernels"][:, 0],  # (5, 3, 3)
        "parts": t.stages["parts"],  # (5, 2, 2)
        "detector": t.stages["detector"][0],  # (5, 2, 2)
        "contributions": t.stages["contributions"],
        "bias": t.params["bias"],
        "output": float(t.output.item()),
        "fires": t.params["fires"],
        "part_names": t.params["part_names"],
        "formula": nt.circle_formula(t),
    }
