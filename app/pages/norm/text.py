"""The normalization page's words in code: group labels, PyTorch lines, and seed 003's
batch-normalizing transform written out with one group's numbers (LaTeX, rendered to MathML)."""

from __future__ import annotations

import numpy as np

from layerlab.app.mathml import tex
from layerlab.app.pages.norm.schemas import NormParams

LABELS = {
    "batch": "BN",
    "layer": "LN",
    "instance": "IN",
    "group": "GN",
    "rms": "RMS",
    "lrn": "LRN",
    "weight_std": "Weight standardization",
    "weight_norm": "Weight norm",
}
DEFINITIONS = {  # seed 003, Algorithm 1 (Ioffe & Szegedy 2015), and the other kinds' forms
    "mean": r"\mu_{\mathcal{B}} \leftarrow \frac{1}{m}\sum_{i=1}^{m} x_i",
    "var": r"\sigma_{\mathcal{B}}^2 \leftarrow \frac{1}{m}\sum_{i=1}^{m} (x_i - \mu_{\mathcal{B}})^2",
    "normalize": r"\hat{x}_i \leftarrow \frac{x_i - \mu_{\mathcal{B}}}"
    r"{\sqrt{\sigma_{\mathcal{B}}^2 + \epsilon}}",
    "affine": r"y_i \leftarrow \gamma \hat{x}_i + \beta \equiv \mathrm{BN}_{\gamma,\beta}(x_i)",
    "running": r"\hat{\mu} \leftarrow (1 - \text{momentum})\,\hat{\mu}"
    r" + \text{momentum}\cdot\mu_{\mathcal{B}}",
    "rms": r"y_i = \gamma\,\frac{x_i}{\sqrt{\frac{1}{m}\sum_{j=1}^{m} x_j^2 + \epsilon}}",
    "weight_norm": r"\mathbf{w} = \frac{g}{\lVert \mathbf{v} \rVert}\,\mathbf{v}",
    "lrn": r"b_c = a_c \Big/ \Big(k + \frac{\alpha}{n}\sum_{c'} a_{c'}^2\Big)^{\beta}",
}


def num(value: float) -> str:
    """A number as LaTeX: up to 4 decimals (fewer for large ones), powers of ten when tiny or huge."""
    v = float(value)
    if v == 0:
        return "0"
    if abs(v) < 1e-3 or abs(v) >= 1e6:
        mantissa, exponent = f"{v:.2e}".split("e")
        return rf"{mantissa.rstrip('0').rstrip('.')} \times 10^{{{int(exponent)}}}"
    digits = 4 if abs(v) < 1 else 3 if abs(v) < 1000 else 1
    return f"{v:.{digits}f}".rstrip("0").rstrip(".")


def paren(value: float) -> str:
    return rf"\left({num(value)}\right)" if value < 0 else num(value)


# ---- group labels ------------------------------------------------------------------------------


def group_labels(req: NormParams, shape: tuple[int, ...], steps: dict) -> list[str]:
    """What each group holds, in words: 'channel 2, all 4 samples', 'sample 1, channels 0-1', ..."""
    n, c, h = shape[:3]
    groups = range(len(steps["group"]))
    if req.kind == "batch":
        return [f"channel {g}, all {n} samples" for g in groups]
    if req.kind == "instance":
        return [f"sample {g // c}, channel {g % c}" for g in groups]
    if req.kind == "group":
        per = c // req.num_groups
        return [f"sample {g // req.num_groups}, channels {g % req.num_groups * per}–"
                f"{g % req.num_groups * per + per - 1}" for g in groups]  # fmt: skip
    if req.kind in ("weight_std", "weight_norm"):
        return [f"output channel {g}" for g in groups]
    if req.kind == "lrn":
        windows = zip(groups, steps["first"], steps["last"], strict=True)
        return [f"channel {g}, window channels {a}–{b}" for g, a, b in windows]
    lead = {"chw": (n,), "hw": (n, c), "w": (n, c, h)}[req.normalized_shape]
    names = ("sample", "channel", "row")
    return [", ".join(f"{names[k]} {i}" for k, i in enumerate(np.unravel_index(g, lead))) for g in groups]


# ---- PyTorch lines -----------------------------------------------------------------------------


def _affine(name: str, req: NormParams, bias: bool = True) -> list[str]:
    lines = [f"nn.init.constant_({name}.weight, {req.gamma!r})"] if req.gamma != 1 else []
    return lines + ([f"nn.init.constant_({name}.bias, {req.beta!r})"] if bias and req.beta != 0 else [])


def _eps(req: NormParams) -> str:
    return "" if req.eps == 1e-5 else f", eps={req.eps!r}"


def torch_code(req: NormParams, shape: tuple[int, ...]) -> str:
    """PyTorch code computing what the page shows for these settings (x of the drawn shape)."""
    n, c, h, w = shape
    trailing = list(shape[len(shape) - {"chw": 3, "hw": 2, "w": 1}[req.normalized_shape] :])
    apply = f"y = {{}}(x)  # x: ({n}, {c}, {h}, {w})"
    if req.kind == "batch":
        mode = (
            "bn.train()  # batch statistics; the running ones are updated"
            if req.training
            else f"bn.eval()  # the running statistics, after {req.batches} training batches"
        )
        head = f"bn = nn.BatchNorm2d({c}, eps={req.eps!r}, momentum={req.momentum!r})"
        return "\n".join([head, *_affine("bn", req), mode, apply.format("bn")])
    if req.kind == "layer":
        head = f"ln = nn.LayerNorm({trailing}{_eps(req)})"
        return "\n".join([head, *_affine("ln", req), apply.format("ln")])
    if req.kind == "rms":
        rms = f"rms = nn.RMSNorm({trailing}, eps={req.eps!r})"
        return "\n".join([rms, *_affine("rms", req, bias=False), apply.format("rms")])
    if req.kind == "instance":
        affine = req.gamma != 1 or req.beta != 0
        head = f"inorm = nn.InstanceNorm2d({c}{_eps(req)}{', affine=True' if affine else ''})"
        return "\n".join([head, *_affine("inorm", req), apply.format("inorm")])
    if req.kind == "group":
        head = f"gn = nn.GroupNorm({req.num_groups}, {c}{_eps(req)})"
        return "\n".join([head, *_affine("gn", req), apply.format("gn")])
    if req.kind == "lrn":
        args = f"{req.lrn_size}, alpha={req.lrn_alpha!r}, beta={req.lrn_beta!r}, k={req.lrn_k!r}"
        lrn = f"lrn = nn.LocalResponseNorm({args})"
        return "\n".join([lrn, apply.format("lrn")])
    conv = f"nn.Conv2d({c}, {n}, kernel_size={h}, bias=False)"
    if req.kind == "weight_std":
        return "\n".join([
            f"w = {conv}.weight  # ({n}, {c}, {h}, {w}): each output channel's weights standardized",
            "mean = w.mean(dim=(1, 2, 3), keepdim=True)",
            "var = w.var(dim=(1, 2, 3), unbiased=False, keepdim=True)",
            f"w_hat = (w - mean) / torch.sqrt(var + {req.eps!r})",
        ])  # fmt: skip
    return "\n".join([
        f"conv = nn.utils.parametrizations.weight_norm({conv})",
        f"nn.init.constant_(conv.parametrizations.weight.original0, {req.g!r})  # g, one per output channel",
        "w = conv.weight  # g * v / ||v||, v = conv.parametrizations.weight.original1",
    ])  # fmt: skip


# ---- one group's equations -----------------------------------------------------------------------


def frac(top: str, bottom: str) -> str:
    return rf"\frac{{{top}}}{{{bottom}}}"


def root(inside: str) -> str:
    return rf"\sqrt{{{inside}}}"


SIGMA_EPS, MS_EPS, SUM_V2 = r"\sigma^2 + \epsilon", r"\text{ms} + \epsilon", r"\textstyle\sum v^2"
CENTRED = r"x - \mu"
MEAN = rf"\mu = {frac('1', 'm')}\sum_{{i=1}}^{{m}} x_i"
VAR = rf"\sigma^2 = {frac('1', 'm')}\sum_{{i=1}}^{{m}} (x_i - \mu)^2"
MS = rf"\text{{ms}} = {frac('1', 'm')}\sum_{{i=1}}^{{m}} x_i^2"
X_HAT = rf"\hat{{x}} = {frac(CENTRED, root(SIGMA_EPS))}"
RMS_HAT = rf"\hat{{x}} = {frac('x', root(MS_EPS))}"
RUNNING = r"_{\text{running}}"


def _weight_norm(s: dict, g: int, at: str, xi: float, yi: float) -> list[str]:
    v, w, length = rf"\mathbf{{v}}_{{{g}}}", rf"\mathbf{{w}}_{{{g}}}", frac(num(s["g"]), num(s["norm"]))
    norm_v = rf"\lVert {v} \rVert"
    return [
        rf"{norm_v} = {root(SUM_V2)} = {root(num(s['norm'] ** 2))} = {num(s['norm'])}",
        rf"{w} = {frac('g', norm_v)}\,{v} = {length}\,{v},\qquad"
        rf" \lVert {w} \rVert = |g| = {num(s['w_norm'])}",
        rf"w[{at}] = {length} \cdot {paren(xi)} = {num(yi)}",
    ]


def _lrn(req: NormParams, x: np.ndarray, s: dict, first: tuple, at: str, yi: float) -> list[str]:
    n, _, i, j = first
    square_sum = float(np.sum(x[n, s["first"] : s["last"] + 1, i, j] ** 2))
    denominator = (req.lrn_k + req.lrn_alpha / req.lrn_size * square_sum) ** req.lrn_beta
    energy = (
        rf"\left({num(req.lrn_k)} + {frac(num(req.lrn_alpha), str(req.lrn_size))} \cdot {num(square_sum)}"
    )
    power = rf"{energy}\right)^{{{num(req.lrn_beta)}}}"
    xi = paren(x[first])
    return [
        rf"\sum_{{j={s['first']}}}^{{{s['last']}}} a_j^2 = {num(square_sum)}"
        rf"\quad\text{{at [{at}]}}",
        rf"b = {frac(xi, power)} = {frac(xi, num(denominator))} = {num(yi)}",
    ]


def equation(req: NormParams, x: np.ndarray, out: dict, ids: np.ndarray, g: int, batches: int) -> list[str]:
    """The transform for group g with its numbers, one MathML block per line.

    out holds "normalized" and "output" (x's shape) and the page's step columns; the worked
    element is the group's first in C order.
    """
    s = {k: v[g] for k, v in out["steps"].items()}
    first = np.unravel_index(int(np.argmax(ids.ravel() == g)), ids.shape)
    xi, yi = x[first], out["output"][first]
    at = ", ".join(str(int(i)) for i in first)
    if req.kind == "weight_norm":
        return [tex(line, True) for line in _weight_norm(s, g, at, xi, yi)]
    if req.kind == "lrn":
        return [tex(line, True) for line in _lrn(req, x, s, first, at, yi)]
    m, xh, where = int(s["count"]), out["normalized"][first], rf"\quad\text{{at [{at}]}}"
    var, eps = num(s["var"]), num(s["eps"])
    if req.kind == "rms":
        lines = [
            rf"{MS} = {frac(num(s['square_sum']), str(m))} = {var}",
            rf"{RMS_HAT} = {frac(paren(xi), root(f'{var} + {eps}'))} = {num(xh)}{where}",
            rf"y = \gamma \hat{{x}} = {num(req.gamma)} \cdot {paren(xh)} = {num(yi)}",
        ]
        return [tex(line, True) for line in lines]
    if req.kind == "batch" and not req.training:
        lines = [
            rf"\mu = \hat{{\mu}}{RUNNING} = {num(s['mean'])},\qquad \sigma^2 = \hat{{\sigma}}^2{RUNNING}"
            rf" = {var}\quad\text{{(after {batches} batches)}}"
        ]
    else:
        lines = [
            rf"{MEAN} = {frac(num(s['sum']), str(m))} = {num(s['mean'])}",
            rf"{VAR} = {frac(num(s['square_sum']), str(m))} = {var}",
        ]
    centred = f"{paren(xi)} - {paren(s['mean'])}"
    lines.append(rf"{X_HAT} = {frac(centred, root(f'{var} + {eps}'))} = {num(xh)}{where}")
    if req.kind != "weight_std":
        affine = rf"{num(req.gamma)} \cdot {paren(xh)} + {paren(req.beta)}"
        lines.append(rf"y = \gamma \hat{{x}} + \beta = {affine} = {num(yi)}")
    return [tex(line, True) for line in lines]


def running_formula(momentum: float, mean_before: float, batch_mean: float, mean_after: float) -> str:
    """The running-mean update of one channel with its numbers."""
    kept, added = (
        rf"(1 - {num(momentum)}) \cdot {paren(mean_before)}",
        rf"{num(momentum)} \cdot {paren(batch_mean)}",
    )
    return tex(rf"\hat{{\mu}} \leftarrow {kept} + {added} = {num(mean_after)}", True)
