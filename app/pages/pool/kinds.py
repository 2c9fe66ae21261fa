"""Every pooling kind of the /pool page, in one registry: its name, label, engine call, controls,
PyTorch line and formula. The request schema's `kind`, the request mapping, the text and the page's
tabs, controls and written-out steps are all read from here, so a new kind is one `Kind` entry (plus
its engine function, its formula in text.py and its test case: see CONTRIBUTING.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from layerlab.engine.pool import avg_pool2d, max_pool2d, min_pool2d
from layerlab.engine.pool_fractional import fractional_max_pool2d
from layerlab.engine.pool_regions import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    roi_pool2d,
    spatial_pyramid_pool2d,
)
from layerlab.engine.pool_variants import lp_pool2d, mixed_pool2d, stochastic_pool2d
from layerlab.engine.trace import Trace

WINDOW = ("kernel_size", "stride")  # every sliding-window kind reads these
PYRAMID_MODES = {"max": "max", "avg": "average"}  # spp: how each bin is pooled, and its option's text


@dataclass(frozen=True)
class Kind:
    name: str  # the request's `kind`, the tab's id
    label: str  # the tab's text
    # the engine call on the map x (1, H, W), given the request's values of `controls` by name
    # (pairs as tuples, a stride of None as the kernel size)
    call: Callable[[np.ndarray, dict], Trace]
    controls: tuple[str, ...]  # the request fields it reads: the page shows only these for it
    torch: str  # the PyTorch line, a template over the fields and {window} (text.torch_line fills it)
    formula: str  # how a window or bin is written out: a key of text.STATISTICS and of js/pool/step.js
    word: str = ""  # how an equation names it (its name when empty)
    torch_eval: str | None = None  # the PyTorch line when `training` is off
    extra: dict | None = None  # a step column drawn under the window: {column, title[, marked]}
    pad: str | None = None  # how a padding cell reads in the written-out step (it never wins)
    keeps: str | None = None  # "largest" or "smallest": the cell it keeps, marked on the input
    compared: bool = False  # one of the poolings side by side (/api/pool/compare)
    overflow: tuple[str, str] | None = None  # (field, message template): the 422 when the output is inf

    @property
    def windowed(self) -> bool:
        """A window slides over the (padded) input by a stride; else bins cut the input."""
        return "stride" in self.controls

    def page(self) -> dict:
        """What the page's script reads: tabs, controls, and how a step is written out."""
        fields = asdict(self)
        for key in ("name", "call", "torch", "torch_eval", "overflow"):
            fields.pop(key)
        return {"id": self.name, **fields, "word": self.word or self.name}


KINDS = (
    # windowed: a window slides over the input
    Kind("max", "Max", lambda x, a: max_pool2d(x, **a, return_indices=True),
         (*WINDOW, "padding", "dilation", "ceil_mode"), "nn.MaxPool2d({window})", "extreme",
         pad="−∞", keeps="largest", compared=True),
    Kind("avg", "Average", lambda x, a: avg_pool2d(x, **a),
         (*WINDOW, "padding", "ceil_mode", "count_include_pad", "divisor_override"),
         "nn.AvgPool2d({window})", "divisor", word="average", compared=True),
    Kind("min", "Min", lambda x, a: min_pool2d(x, **a, return_indices=True),
         (*WINDOW, "padding", "dilation", "ceil_mode"),
         "-F.max_pool2d(-x, {window})  # min pooling is not a built-in: the max of -x, negated", "extreme",
         pad="+∞", keeps="smallest", compared=True),
    Kind("lp", "Lp", lambda x, a: lp_pool2d(x, **a), (*WINDOW, "ceil_mode", "norm_type"),
         "nn.LPPool2d({norm_type}, {window})", "power", word="Lp", compared=True,
         extra={"column": "powered", "title": "Powers, p = {norm_type}"},
         overflow=("norm_type", "with p = {norm_type:g}, (sum of x^p)^(1/p) overflows for this input")),
    Kind("mixed", "Mixed", lambda x, a: mixed_pool2d(x, **a), (*WINDOW, "padding", "mix"),
         "{mix} * F.max_pool2d(x, {window}) + (1 - {mix}) * F.avg_pool2d(x, {window})"
         "  # mixed pooling is not a built-in", "blend"),
    Kind("stochastic", "Stochastic", lambda x, a: stochastic_pool2d(x, **a), (*WINDOW, "training", "seed"),
         "# stochastic pooling is not a built-in: in each window draw a cell with probability a / a.sum()",
         "draw", torch_eval="a = x.clamp(min=0); F.avg_pool2d(a * a, {window}) / F.avg_pool2d(a, {window})",
         extra={"column": "probabilities", "title": "Probabilities", "marked": True}),
    # bins cut the input
    Kind("adaptive_avg", "Adaptive average", lambda x, a: adaptive_avg_pool2d(x, **a), ("output_size",),
         "nn.AdaptiveAvgPool2d({output_size})", "bins"),
    Kind("adaptive_max", "Adaptive max", lambda x, a: adaptive_max_pool2d(x, **a), ("output_size",),
         "nn.AdaptiveMaxPool2d({output_size})", "bins"),
    Kind("global_avg", "Global average", lambda x, a: global_avg_pool2d(x), (),
         "nn.AdaptiveAvgPool2d(1)", "bins"),
    Kind("global_max", "Global max", lambda x, a: global_max_pool2d(x), (),
         "nn.AdaptiveMaxPool2d(1)", "bins"),
    Kind("spp", "Spatial pyramid", lambda x, a: spatial_pyramid_pool2d(x, a["levels"], a["pyramid_mode"]),
         ("levels", "pyramid_mode"),
         "torch.cat([F.adaptive_{pyramid_mode}_pool2d(x, l).flatten(1) for l in ({levels})], dim=1)"
         "  # spatial pyramid pooling", "pyramid"),
    Kind("roi", "ROI", lambda x, a: roi_pool2d(x[None], np.array([[0, *a["box"]]]), a["output_size"]),
         ("output_size", "box"),
         "torchvision.ops.roi_pool(x, [torch.tensor([[{box}]])], output_size={output_size})", "roi"),
    Kind("fractional_max", "Fractional max",
         lambda x, a: fractional_max_pool2d(x, **a, return_indices=True),
         ("kernel_size", "output_size", "seed"),
         "F.fractional_max_pool2d(x, {kernel_size}, output_size={output_size}, "
         "_random_samples=torch.tensor([{samples}]))", "fractional"),
)  # fmt: skip
BY_NAME = {kind.name: kind for kind in KINDS}
NAMES = tuple(BY_NAME)
COMPARED = tuple(kind for kind in KINDS if kind.compared)
